/** Module: PyTorch-style names, state dicts, loading with errors that name keys, modes. */
import { describe, expect, it } from 'vitest';
import {
  BatchNorm1d,
  Conv2d,
  Dropout,
  Flatten,
  Linear,
  MaxPool2d,
  Module,
  OptionError,
  Parameter,
  ReLU,
  Rng,
  Sequential,
  ShapeError,
  Tensor,
  backward,
  decodeSafetensors,
  encodeSafetensors,
  noGrad,
  relu,
  sum,
  zeros,
} from '../../src/index';
import { randomTensor } from '../helpers/reference';

class Encoder extends Module {
  fc1: Linear;
  bn: BatchNorm1d;
  fc2: Linear;
  constructor(rng: Rng) {
    super();
    this.fc1 = new Linear(6, 5, { rng });
    this.bn = new BatchNorm1d(5);
    this.fc2 = new Linear(5, 4, { rng, bias: false });
  }
  forward(x: Tensor): Tensor {
    return this.fc2.forward(relu(this.bn.forward(this.fc1.forward(x))));
  }
}

class Net extends Module {
  scale = new Parameter(Float32Array.of(1.5), [1]);
  encoder: Encoder;
  head: Sequential;
  constructor(seed: number) {
    super();
    const rng = new Rng(seed);
    this.encoder = new Encoder(rng);
    this.head = new Sequential(new Linear(4, 3, { rng }), new ReLU(), new Dropout(0.5, { rng }), new Linear(3, 2, { rng }));
  }
  forward(x: Tensor): Tensor {
    return this.head.forward(this.encoder.forward(x));
  }
}

describe('Module names', () => {
  it('names nested parameters as PyTorch would for the same structure', () => {
    const net = new Net(0);
    expect(net.namedParameters().map(([n]) => n)).toEqual([
      'scale',
      'encoder.fc1.weight',
      'encoder.fc1.bias',
      'encoder.bn.weight',
      'encoder.bn.bias',
      'encoder.fc2.weight',
      'head.0.weight',
      'head.0.bias',
      'head.3.weight',
      'head.3.bias',
    ]);
    expect(net.parameters().length).toBe(10);
    expect(net.namedModules().map(([n]) => n)).toEqual(['', 'encoder', 'encoder.fc1', 'encoder.bn', 'encoder.fc2', 'head', 'head.0', 'head.1', 'head.2', 'head.3']);
    expect(net.namedChildren().map(([n]) => n)).toEqual(['encoder', 'head']);
    expect(net.namedBuffers().map(([n]) => n)).toEqual(['encoder.bn.running_mean', 'encoder.bn.running_var', 'encoder.bn.num_batches_tracked']);
  });

  it('lists the state dict in PyTorch order: per module parameters, buffers, then children', () => {
    expect(Object.keys(new Net(0).stateDict())).toEqual([
      'scale',
      'encoder.fc1.weight',
      'encoder.fc1.bias',
      'encoder.bn.weight',
      'encoder.bn.bias',
      'encoder.bn.running_mean',
      'encoder.bn.running_var',
      'encoder.bn.num_batches_tracked',
      'encoder.fc2.weight',
      'head.0.weight',
      'head.0.bias',
      'head.3.weight',
      'head.3.bias',
    ]);
    const conv = new Sequential(new Conv2d(1, 4, 3, { rng: new Rng(0) }), new MaxPool2d(2), new Flatten());
    expect(Object.keys(conv.stateDict())).toEqual(['0.weight', '0.bias']);
  });

  it('lists a shared parameter once in parameters() but under every name in the state dict', () => {
    const shared = new Linear(3, 3, { rng: new Rng(1) });
    const twice = new Sequential(shared, shared);
    expect(twice.parameters().length).toBe(2);
    expect(Object.keys(twice.stateDict())).toEqual(['0.weight', '0.bias', '1.weight', '1.bias']);
  });

  it('checks registered names', () => {
    class M extends Module {
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    const m = new M();
    m.registerBuffer('running_mean', zeros([2]));
    expect(() => m.registerBuffer('running_mean', zeros([2]))).toThrow(OptionError);
    expect(() => m.registerParameter('a.b', new Parameter(new Float32Array(1), [1]))).toThrow(OptionError);
    expect(() => m.registerModule('', new M())).toThrow(OptionError);
    expect(m.registerParameter('absent', null)).toBeNull();
    expect(Object.keys(m.stateDict())).toEqual(['running_mean']);
  });
});

describe('Module state dicts', () => {
  it('copy into a fresh model with another seed gives identical outputs', () => {
    const a = new Net(1);
    const x = randomTensor([7, 6], 3);
    a.forward(x); // moves BatchNorm's running statistics away from their initial values
    const b = new Net(2);
    a.eval();
    b.eval();
    const ya = noGrad(() => a.forward(x));
    expect(Array.from(noGrad(() => b.forward(x)).data)).not.toEqual(Array.from(ya.data));
    const result = b.loadStateDict(a.stateDict());
    expect(result).toEqual({ missing: [], unexpected: [] });
    expect(Array.from(noGrad(() => b.forward(x)).data)).toEqual(Array.from(ya.data));
    expect(b.encoder.bn.numBatchesTracked.item()).toBe(1);
    // The state was copied, not shared.
    a.encoder.fc1.weight.data[0] += 1;
    expect(b.encoder.fc1.weight.data[0]).not.toBe(a.encoder.fc1.weight.data[0]);
  });

  it('round-trips through safetensors bytes to a model with identical outputs', () => {
    const a = new Net(3);
    const x = randomTensor([5, 6], 4);
    a.forward(x);
    a.eval();
    const b = new Net(4).eval();
    b.loadStateDict(decodeSafetensors(encodeSafetensors(a.stateDict())).tensors);
    expect(Array.from(noGrad(() => b.forward(x)).data)).toEqual(Array.from(noGrad(() => a.forward(x)).data));
  });

  it('names every missing and unexpected key and every shape mismatch, and copies nothing on error', () => {
    const net = new Net(0);
    const before = net.encoder.fc1.weight.data.slice();
    const sd = { ...new Net(5).stateDict() };
    delete sd['head.3.bias'];
    delete sd['encoder.bn.running_var'];
    sd['head.9.weight'] = zeros([1]);
    expect(() => net.loadStateDict(sd)).toThrow(OptionError);
    expect(() => net.loadStateDict(sd)).toThrow(/missing keys: encoder\.bn\.running_var, head\.3\.bias; unexpected keys: head\.9\.weight/);
    expect(Array.from(net.encoder.fc1.weight.data)).toEqual(Array.from(before));

    const bad = { ...new Net(5).stateDict(), 'encoder.fc2.weight': zeros([4, 6]) };
    expect(() => net.loadStateDict(bad)).toThrow(ShapeError);
    expect(() => net.loadStateDict(bad)).toThrow(/encoder\.fc2\.weight: expected \[4, 5\], got \[4, 6\]/);
    expect(() => net.loadStateDict(bad, { strict: false })).toThrow(ShapeError);
    expect(Array.from(net.encoder.fc1.weight.data)).toEqual(Array.from(before));
  });

  it('with strict: false loads what matches and returns the rest', () => {
    const net = new Net(0);
    const src = new Net(5);
    const sd: Record<string, Tensor> = { ...src.stateDict(), extra: zeros([2]) };
    delete sd.scale;
    const r = net.loadStateDict(sd, { strict: false });
    expect(r).toEqual({ missing: ['scale'], unexpected: ['extra'] });
    expect(Array.from(net.head.at(0).parameters()[0].data)).toEqual(Array.from(src.head.at(0).parameters()[0].data));
    expect(net.scale.data[0]).toBe(1.5);
  });
});

describe('Module modes and gradients', () => {
  it('train() and eval() reach every descendant', () => {
    const net = new Net(0);
    expect(net.modules().every((m) => m.training)).toBe(true);
    net.eval();
    expect(net.modules().every((m) => !m.training)).toBe(true);
    net.train();
    expect(net.modules().every((m) => m.training)).toBe(true);
  });

  it('zeroGrad clears every parameter gradient', () => {
    const net = new Net(0);
    backward(sum(net.forward(randomTensor([4, 6], 1))));
    expect(net.parameters().filter((p) => p !== net.scale).every((p) => p.grad !== null)).toBe(true);
    net.zeroGrad();
    expect(net.parameters().every((p) => p.grad === null)).toBe(true);
  });
});
