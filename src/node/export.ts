/**
 * `spikessl export`: a trained run's encoder as a NIR file (model.nir) or as a PyTorch module
 * (encoder.py + encoder.safetensors), written next to the run's model.safetensors.
 */
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { OptionError } from '../errors';
import { toNir } from '../interop/nir';
import { toTorch } from '../interop/torch';
import { loadModelFile } from '../ssl/modelfile';
import { readFileChecked, writeFileAtomic } from './fs';

/** Options of {@link runExport}. */
export interface ExportOptions {
  /** A run folder (its model.safetensors is read) or a model file written by `spikessl train`. */
  model: string;
  format: 'nir' | 'torch';
  /** NIR only: export subtract reset and max pooling with their documented approximations. */
  approximate?: boolean;
}

/**
 * Reads a run's model file, checks it, converts its encoder and writes the result atomically
 * beside it; returns the paths written. Everything is refused (a one-line `OptionError` or
 * `DataFormatError`) before anything is written.
 */
export function runExport(options: ExportOptions): string[] {
  let isDir: boolean;
  try {
    isDir = statSync(options.model).isDirectory();
  } catch {
    throw new OptionError(`export: no run folder or model file at ${options.model}`);
  }
  const file = isDir ? join(options.model, 'model.safetensors') : options.model;
  const { model } = loadModelFile(readFileChecked(file), file);
  const dir = dirname(file);
  if (options.format === 'nir') {
    const bytes = toNir(model, { approximate: options.approximate ?? false });
    const path = join(dir, 'model.nir');
    writeFileAtomic(path, bytes);
    return [path];
  }
  if (options.approximate) throw new OptionError('export: --approximate applies to --format nir only (the torch export is exact)');
  const { python, weights } = toTorch(model, { weightsFile: 'encoder.safetensors' });
  const paths = [join(dir, 'encoder.safetensors'), join(dir, 'encoder.py')];
  writeFileAtomic(paths[0], weights);
  writeFileAtomic(paths[1], new TextEncoder().encode(python));
  return paths;
}
