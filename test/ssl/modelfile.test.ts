/**
 * Model files (ssl/modelfile.ts): what is written reads back; a config that lies about the
 * weights, or is no config at all, is a DataFormatError naming the file before anything is built.
 */
import { describe, expect, it } from 'vitest';
import { DataFormatError } from '../../src/errors';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors';
import { Rng } from '../../src/rng';
import { type RunConfig, defaultRunConfig, parseRunConfig } from '../../src/ssl/config';
import { decodeModelFile, encodeModelFile, loadModelFile } from '../../src/ssl/modelfile';
import { buildModel, modelStateShapes } from '../../src/ssl/models';
import { Tensor } from '../../src/tensor/tensor';

const small = (over: Partial<RunConfig> = {}): RunConfig => ({ ...defaultRunConfig(), hidden: 12, projDim: 6, steps: 2, ...over });

function withConfig(bytes: Uint8Array, config: unknown): Uint8Array {
  const { tensors } = decodeSafetensors(bytes);
  return encodeSafetensors(tensors, { format: 'pt', config: typeof config === 'string' ? config : JSON.stringify(config) });
}

describe('model files', () => {
  it('modelStateShapes lists exactly the state dict buildModel makes, for every encoder and BatchNorm setting', () => {
    const configs = [small(), small({ bn: true }), small({ encoder: 'conv', channels: [2, 3], bn: true }), small({ encoder: 'conv', channels: [4, 1], bn: false, hidden: 5, projDim: 7 })];
    for (const c of configs) {
      const built = Object.entries(buildModel(c, new Rng(0)).stateDict()).map(([k, t]) => [k, t.shape]);
      expect(new Map(built as Array<[string, number[]]>)).toEqual(modelStateShapes(c));
    }
  });

  it('round trip: the config and every tensor come back, and the rebuilt model has the same state', () => {
    const config = small({ bn: true, beta: 0.8, surrogate: { name: 'sigmoid', params: { slope: 5 } }, loss: 'vicreg', vicregWeights: [1, 2, 3] });
    const model = buildModel(config, new Rng(1));
    const bytes = encodeModelFile(model, config);
    const file = decodeModelFile(bytes, 'm.safetensors');
    expect(file.config).toEqual(config);
    const { model: again } = loadModelFile(bytes, 'm.safetensors');
    const a = model.stateDict();
    const b = again.stateDict();
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    for (const k of Object.keys(a)) expect(Array.from(b[k].data), k).toEqual(Array.from(a[k].data));
    expect(again.training).toBe(false);
  });

  it('a file written before the neuron and loss options existed takes their defaults', () => {
    // The config the bundled web model was written with (session 6): no beta, channels, temperature or evalSteps.
    const old = { loss: 'ntxent', encoder: 'mlp', epochs: 3, batch: 128, steps: 4, hidden: 128, projDim: 64, lr: 0.002, seed: 0, trainSubset: 0, probeSubset: 10000, augment: 'none', schedule: 'cosine', bn: true, baselines: false, dataDir: null, out: '/tmp/webmodel3', resume: false };
    const c = parseRunConfig(old, 'old.safetensors');
    expect(c).toMatchObject({ ...old, beta: 0.9, threshold: 1, reset: 'subtract', surrogate: { name: 'atan', params: { alpha: 2 } }, temperature: 0.5, channels: [32, 64], evalSteps: 0 });
  });

  it('refuses configs that are not JSON, not objects, of the wrong types, too large or unknown — naming the file and the key', () => {
    const bytes = encodeModelFile(buildModel(small(), new Rng(2)), small());
    const cases: Array<[unknown, RegExp]> = [
      ['{not json', /m\.st: the 'config' metadata is not JSON/],
      ['null', /m\.st: the config must be a JSON object, got null/],
      ['[1,2]', /m\.st: the config must be a JSON object, got an array/],
      [{ ...small(), encoder: 'xyz' }, /m\.st: config\.encoder must be one of mlp, conv, got "xyz"/],
      [{ ...small(), hidden: 1e9 }, /m\.st: config\.hidden must be an integer from 1 to 65536, got 1000000000/],
      [{ ...small(), hidden: 20000 }, /m\.st: the hidden weights \(config\.hidden\) would need 4\.00e\+8 values in one tensor/],
      [{ ...small(), steps: 1e9 }, /config\.steps must be an integer from 1 to 10000/],
      [{ ...small(), hidden: '12' }, /config\.hidden must be an integer from 1 to 65536, got "12"/],
      [{ ...small(), beta: '0.9' }, /config\.beta must be a number from 0 to 1, got "0\.9"/],
      [{ ...small(), threshold: -1 }, /config\.threshold must be a positive number, got -1/],
      [{ ...small(), surrogate: { name: 'atan', params: { slope: 2 } } }, /config\.surrogate must be NAME or NAME:PARAM/],
      [{ ...small(), colour: 'blue' }, /m\.st: unknown config key 'colour'/],
      [{ ...small(), representation: 'conv2' }, /m\.st: config.representation must be last, or layer names joined by/],
      [{ encoder: 'mlp', hidden: 12, projDim: 6 }, /m\.st: the config has no 'steps'/],
      [{ ...small(), hidden: 40 }, /m\.st: tensor 'encoder\.fc1\.\w+' has shape \[12.*\], the architecture of its config \(mlp encoder, hidden 40, proj-dim 6\) needs \[40/],
      [{ ...small(), bn: true }, /m\.st: tensor 'encoder\.bn1\.\w+' is missing for the architecture of its config/],
    ];
    for (const [config, message] of cases) {
      const f = () => decodeModelFile(withConfig(bytes, config), 'm.st');
      expect(f, JSON.stringify(config)).toThrow(DataFormatError);
      expect(f).toThrow(message);
    }
    // A tensor the architecture does not have.
    const { tensors } = decodeSafetensors(bytes);
    const extra = encodeSafetensors({ ...tensors, 'encoder.fc3.weight': new Tensor(new Float32Array(4), [2, 2]) }, { config: JSON.stringify(small()) });
    expect(() => decodeModelFile(extra, 'x.st')).toThrow(/x\.st: tensor 'encoder\.fc3\.weight' is not part of the architecture of its config/);
    expect(() => decodeModelFile(encodeSafetensors(tensors), 'n.st')).toThrow(/n\.st: no 'config' metadata/);
  });

  it('a config claiming huge sizes is refused at once, without allocating for them', () => {
    const bytes = encodeModelFile(buildModel(small(), new Rng(2)), small());
    const lying = withConfig(bytes, { ...small(), hidden: 4000, projDim: 4000, probeSubset: 20000 });
    const before = process.memoryUsage().arrayBuffers;
    expect(() => decodeModelFile(lying, 'big.st')).toThrow(/tensor 'encoder\.fc1\.\w+' has shape \[12.*needs \[4000/);
    // Building it would have taken 2 × 4000 × 4000 × 4 B = 128 MB at least.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 * 2 ** 20);
  });
});
