import { describe, expect, it } from 'vitest';
import { OptionError, Rng, SpikingConvNet, SpikingMlp, decodeSafetensors, surrogate, toTorch } from '../../src/index';

/** The CONFIG JSON embedded in the generated Python. */
function configOf(python: string): unknown {
  const m = /^CONFIG = json\.loads\(r"""(.*)"""\)$/m.exec(python);
  expect(m).not.toBeNull();
  return JSON.parse(m![1]);
}

describe('toTorch', () => {
  it('writes the MLP architecture and its neurons into the Python module, weights under PyTorch names', () => {
    const enc = new SpikingMlp({ inputs: 6, hidden: [5, 4], batchNorm: true, beta: 0.8, threshold: 0.5, rng: new Rng(0) });
    const { python, weights } = toTorch(enc, { weightsFile: 'r1.safetensors' });
    const neuron = { beta_shape: [], reset: 'subtract', surrogate: { name: 'atan', params: { alpha: 2 } }, learn_beta: false, learn_threshold: false };
    expect(configOf(python)).toEqual({
      kind: 'mlp', inputs: 6, hidden: [5, 4],
      norms: [{ eps: 1e-5, momentum: 0.1, affine: true }, { eps: 1e-5, momentum: 0.1, affine: true }],
      neurons: [neuron, neuron],
    });
    expect(python).toContain('WEIGHTS = "r1.safetensors"');
    const names = Object.keys(decodeSafetensors(weights).tensors).sort();
    expect(names).toEqual([
      'bn1.bias', 'bn1.num_batches_tracked', 'bn1.running_mean', 'bn1.running_var', 'bn1.weight',
      'bn2.bias', 'bn2.num_batches_tracked', 'bn2.running_mean', 'bn2.running_var', 'bn2.weight',
      'fc1.bias', 'fc1.weight', 'fc2.bias', 'fc2.weight', 'lif1.beta', 'lif1.threshold', 'lif2.beta', 'lif2.threshold',
    ]);
    expect([...decodeSafetensors(weights).tensors['lif2.threshold'].data]).toEqual([0.5]);
  });

  it('writes the conv encoder with each layer\'s surrogate and reset, and refuses custom surrogates', () => {
    const enc = new SpikingConvNet({ channels: [2, 3], features: 7, reset: 'zero', surrogate: surrogate.fastSigmoid({ slope: 10 }), rng: new Rng(0) });
    const cfg = configOf(toTorch(enc).python) as { kind: string; channels: number[]; features: number; neurons: Array<{ reset: string; surrogate: unknown }> };
    expect(cfg.kind).toBe('conv');
    expect(cfg.channels).toEqual([2, 3]);
    expect(cfg.features).toBe(7);
    for (const n of cfg.neurons) expect(n).toMatchObject({ reset: 'zero', surrogate: { name: 'fastSigmoid', params: { slope: 10 } } });
    const custom = new SpikingMlp({ inputs: 2, hidden: [2], surrogate: surrogate.custom('mine', (x: number) => 1 / (1 + x * x)), rng: new Rng(0) });
    expect(() => toTorch(custom)).toThrow(OptionError);
    expect(() => toTorch(enc, { weightsFile: 'a"b' })).toThrow(/weightsFile/);
  });
});
