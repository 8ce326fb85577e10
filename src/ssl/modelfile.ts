/**
 * Model files: one safetensors file holding a model's state dict (PyTorch names and layouts)
 * and, in its `config` metadata, the {@link RunConfig} it was trained with. Written by
 * `spikessl train` (model.safetensors) and the web demo; read by `spikessl eval`, resume and
 * the web demo — all through these functions, so every reader validates alike: the config
 * first, then every tensor's name and shape against what the config builds, and only then
 * are weights allocated.
 */
import { DataFormatError, fmtShape } from '../errors';
import { decodeSafetensors, encodeSafetensors } from '../io/safetensors';
import { Rng } from '../rng';
import type { Tensor } from '../tensor/tensor';
import { type RunConfig, parseRunConfig } from './config';
import { type SSLModel, buildModel, modelStateShapes } from './models';

/**
 * Names of the fitted probe's tensors in a model file (see ssl/model.ts); the model's own checks
 * and state dict leave them out.
 */
export const PROBE_PREFIX = 'probe.';

/** A model file's contents, checked: its config and its tensors (which fit that config). */
export interface ModelFile {
  config: RunConfig;
  tensors: Record<string, Tensor>;
}

/** The bytes of a model file for `model`, trained as `config` says. */
export function encodeModelFile(model: SSLModel, config: RunConfig): Uint8Array {
  return encodeSafetensors(model.stateDict(), { format: 'pt', config: JSON.stringify(config) });
}

/** Reads the JSON text of a `config` entry (metadata of a model file, or a checkpoint's extra.config). */
export function parseConfigText(text: string | undefined, source: string): RunConfig {
  if (text === undefined) throw new DataFormatError(`${source}: no 'config' metadata; expected a model.safetensors written by spikessl train`);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new DataFormatError(`${source}: the 'config' metadata is not JSON`);
  }
  return parseRunConfig(raw, source);
}

/**
 * Throws a DataFormatError naming `source` unless `tensors` are exactly the state dict of the
 * model `config` describes: the same names, each with its shape.
 */
export function checkModelTensors(config: RunConfig, tensors: Record<string, Tensor>, source: string): void {
  const expected = modelStateShapes(config);
  const arch = `${config.encoder} encoder, hidden ${config.hidden}${config.encoder === 'conv' ? `, channels ${config.channels.join(',')}` : ''}, proj-dim ${config.projDim}${config.bn ? ', BatchNorm' : ''}`;
  for (const [name, t] of Object.entries(tensors)) {
    if (name.startsWith(PROBE_PREFIX)) continue;
    const shape = expected.get(name);
    if (shape === undefined) throw new DataFormatError(`${source}: tensor '${name.slice(0, 80)}' is not part of the architecture of its config (${arch})`);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new DataFormatError(`${source}: tensor '${name}' has shape ${fmtShape(t.shape)}, the architecture of its config (${arch}) needs ${fmtShape(shape)}`);
    }
  }
  for (const name of expected.keys()) {
    if (!(name in tensors)) throw new DataFormatError(`${source}: tensor '${name}' is missing for the architecture of its config (${arch})`);
  }
}

/** Decodes and checks a model file (see {@link checkModelTensors}); builds nothing. */
export function decodeModelFile(bytes: Uint8Array, source: string): ModelFile {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  const config = parseConfigText(metadata.config, source);
  checkModelTensors(config, tensors, source);
  return { config, tensors };
}

/**
 * The model a config and checked state dict describe, weights loaded, in eval mode. Call it
 * only on what {@link decodeModelFile} or {@link checkModelTensors} accepted.
 */
export function modelFromState(config: RunConfig, tensors: Record<string, Tensor>): SSLModel {
  // The initial weights are overwritten by the loaded ones; any stream will do.
  const model = buildModel(config, new Rng(0));
  model.loadStateDict(Object.fromEntries(Object.entries(tensors).filter(([name]) => !name.startsWith(PROBE_PREFIX))));
  model.eval();
  return model;
}

/** Reads a model file and builds its model: {@link decodeModelFile} then {@link modelFromState}. */
export function loadModelFile(bytes: Uint8Array, source: string): { config: RunConfig; model: SSLModel } {
  const { config, tensors } = decodeModelFile(bytes, source);
  return { config, model: modelFromState(config, tensors) };
}
