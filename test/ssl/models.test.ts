import { describe, expect, it } from 'vitest';
import { backward } from '../../src/autograd/engine';
import { poisson } from '../../src/encoding';
import { firingRate } from '../../src/neurons/functional';
import { Rng } from '../../src/rng';
import { SpikingConvNet, SpikingMlp, encoderFromConfig, projector } from '../../src/ssl/models';
import { custom, sigmoid } from '../../src/neurons/surrogate';
import { Tensor } from '../../src/tensor/tensor';
import { ShapeError } from '../../src/errors';
import { sum } from '../../src/autograd/functional';

const images = (b: number, seed: number) => {
  const rng = new Rng(seed);
  return new Tensor(Float32Array.from({ length: b * 784 }, () => rng.uniform()), [b, 784]);
};

describe('encoders and projector', () => {
  it('SpikingMlp: R1 shapes and PyTorch-style names; every layer emits binary spikes', () => {
    const enc = new SpikingMlp({ rng: new Rng(0) });
    expect(enc.features).toBe(512);
    expect(enc.namedParameters().map(([n, p]) => `${n} ${p.shape.join('x')}`)).toEqual(['fc1.weight 512x784', 'fc1.bias 512', 'fc2.weight 512x512', 'fc2.bias 512']);
    const layers = enc.forwardLayers(poisson(images(3, 1), { steps: 4, rng: new Rng(2) }));
    expect(layers.map((l) => l.shape)).toEqual([[4, 3, 512], [4, 3, 512]]);
    for (const l of layers) expect(l.data.every((v) => v === 0 || v === 1)).toBe(true);
  });

  it('SpikingConvNet: [T, B, 784] → [T, B, features], and gradients reach every parameter', () => {
    const enc = new SpikingConvNet({ channels: [4, 8], features: 16, rng: new Rng(0) });
    const head = projector(16, 8, { rng: new Rng(1) });
    const layers = enc.forwardLayers(poisson(images(2, 3), { steps: 2, rng: new Rng(4) }));
    expect(layers.map((l) => l.shape)).toEqual([[2, 2, 4, 14, 14], [2, 2, 8, 7, 7], [2, 2, 16]]);
    backward(sum(head.forward(firingRate(layers[2]))));
    for (const [name, p] of [...enc.namedParameters(), ...head.namedParameters()]) {
      expect(p.grad, name).not.toBeNull();
      expect(p.grad!.shape, name).toEqual(p.shape);
    }
    expect(enc.namedParameters().map(([n]) => n).slice(0, 4)).toEqual(['conv1.weight', 'conv1.bias', 'bn1.weight', 'bn1.bias']);
  });

  it('encoderFromConfig rebuilds the architecture: with the same state it computes the same spikes', () => {
    const encoders = [
      new SpikingMlp({ inputs: 784, hidden: [20, 12], batchNorm: true, beta: 0.8, threshold: 0.7, reset: 'zero', surrogate: sigmoid({ slope: 5 }), rng: new Rng(1) }),
      new SpikingConvNet({ channels: [2, 3], features: 10, beta: 0.95, rng: new Rng(2) }),
    ];
    for (const enc of encoders) {
      const replica = encoderFromConfig(JSON.parse(JSON.stringify(enc.spec())), new Rng(3));
      expect(replica.constructor).toBe(enc.constructor);
      expect(Object.entries(replica.stateDict()).map(([k, t]) => `${k} ${t.shape.join('x')}`)).toEqual(Object.entries(enc.stateDict()).map(([k, t]) => `${k} ${t.shape.join('x')}`));
      replica.loadStateDict(enc.stateDict());
      const v = poisson(images(3, 5), { steps: 3, rng: new Rng(6) });
      const a = enc.forwardLayers(v);
      const b = replica.forwardLayers(v);
      a.forEach((l, i) => expect(Array.from(b[i].data)).toEqual(Array.from(l.data)));
      // A different architecture would not: the neuron settings travel with the spec.
      expect(enc.spec()!.neuron.beta).not.toBe(0.9);
    }
    expect(new SpikingMlp({ surrogate: custom('mine', (x) => Math.exp(-x * x)), rng: new Rng(0) }).spec()).toBeNull();
    // A subclass may compute differently: no replica is made of it.
    class Doubled extends SpikingMlp {}
    expect(new Doubled({ rng: new Rng(0) }).spec()).toBeNull();
  });

  it('an input that is not time-first spikes is a ShapeError saying what was expected, not 4 time steps of one sample', () => {
    const mlp = new SpikingMlp({ hidden: [8, 8], rng: new Rng(0) });
    const batch = images(4, 1); // [4, 784]: images, not encoded
    expect(() => mlp.forward(batch)).toThrow(ShapeError);
    expect(() => mlp.forward(batch)).toThrow(/SpikingMlp\.forward: expected time-first spikes \[T, B, 784\], got \[4, 784\] \(a batch of images\? encode it first/);
    expect(() => mlp.forward(new Tensor(new Float32Array(2 * 3 * 10), [2, 3, 10]))).toThrow(/expected time-first spikes \[T, B, 784\], got \[2, 3, 10\]/);
    const conv = new SpikingConvNet({ channels: [2, 2], features: 4, rng: new Rng(0) });
    expect(() => conv.forward(batch)).toThrow(/SpikingConvNet\.forward: expected time-first spikes \[T, B, 784\] or \[T, B, 1, 28, 28\], got \[4, 784\]/);
    // Both accepted layouts give the same spikes.
    const v = poisson(images(2, 3), { steps: 2, rng: new Rng(4) });
    expect(Array.from(conv.forward(v).data)).toEqual(Array.from(conv.forward(new Tensor(v.data, [2, 2, 1, 28, 28])).data));
  });
});
