import { describe, expect, it } from 'vitest';
import { IF, Leaky, OptionError, Synaptic, Tensor, backward, surrogate, tensor } from '../../src/index';

describe('neuron modules', () => {
  it('Leaky follows the recurrence with its defaults (θ = 1, subtract, atan)', () => {
    const lif = new Leaky({ beta: 0.5 });
    expect(lif.reset).toBe('subtract');
    expect(lif.surrogate.name).toBe('atan');
    expect(lif.surrogate.params).toEqual({ alpha: 2 });
    // U = 0.6, 0.9, 1.05 (S=1), 1.025 (S=1), −0.4875 — worked out in lif.test.ts
    const s = lif.forward(tensor([0.6, 0.6, 0.6, 1.5, 0], [5, 1, 1]));
    expect([...s.data]).toEqual([0, 0, 1, 1, 0]);
    expect(s.binary).toBe(true);
  });

  it('state dict names beta and threshold like snnTorch: buffers, or parameters when learnable', () => {
    const fixed = new Leaky({ beta: 0.9 });
    expect(fixed.namedParameters()).toEqual([]);
    expect(Object.keys(fixed.stateDict()).sort()).toEqual(['beta', 'threshold']);
    const learn = new Leaky({ beta: [0.9, 0.8], learnBeta: true, learnThreshold: true });
    expect(learn.namedParameters().map(([n]) => n)).toEqual(['beta', 'threshold']);
    const syn = new Synaptic({ alpha: 0.7, beta: 0.9, learnAlpha: true });
    expect(syn.namedParameters().map(([n]) => n)).toEqual(['alpha']);
  });

  it('clamps β to [0, 1] in forward and stops its gradient outside', () => {
    const lif = new Leaky({ beta: 0.5, learnBeta: true });
    lif.beta.data[0] = 1.5; // an optimizer step pushed it out of range
    const x = tensor([0.6, 0.6], [2, 1]);
    const { mem } = lif.forwardWithMem(x);
    expect(mem.data[1]).toBeCloseTo(0.6 + 0.6, 6); // β acted as 1
    backward(mem, tensor([1, 1], [2, 1]));
    expect(lif.beta.grad!.item()).toBe(0);
  });

  it('IF integrates without leak; Synaptic filters the input', () => {
    const s = new IF().forward(tensor([0.4, 0.4, 0.4], [3, 1]));
    expect([...s.data]).toEqual([0, 0, 1]); // U = 0.4, 0.8, 1.2
    const syn = new Synaptic({ alpha: 0.5, beta: 0.5 });
    expect([...syn.forwardWithMem(tensor([1, 0, 0], [3, 1])).mem.data]).toEqual([1, 1, 0.75]);
  });

  it('stateful layers carry the membrane into the next call; resetState forgets it', () => {
    const lif = new Leaky({ beta: 1, stateful: true });
    lif.forward(tensor([0.7], [1, 1]));
    expect([...lif.forward(tensor([0.7], [1, 1])).data]).toEqual([1]); // 1.4 > 1
    lif.resetState();
    expect([...lif.forward(tensor([0.7], [1, 1])).data]).toEqual([0]);
    const stateless = new Leaky({ beta: 1 });
    stateless.forward(tensor([0.7], [1, 1]));
    expect([...stateless.forward(tensor([0.7], [1, 1])).data]).toEqual([0]);
  });

  it('per-feature β must match the trailing feature axes', () => {
    const lif = new Leaky({ beta: [0.5, 0.9] });
    expect(() => lif.forward(new Tensor(new Float32Array(12), [2, 2, 3]))).toThrow(/beta of shape \[2\]/);
    expect(lif.forward(new Tensor(new Float32Array(12), [2, 3, 2])).shape).toEqual([2, 3, 2]);
  });

  it('rejects bad options', () => {
    expect(() => new Leaky({ beta: 1.2 })).toThrow(OptionError);
    expect(() => new Leaky({} as never)).toThrow(/beta is required/);
    expect(() => new Leaky({ beta: 0.9, reset: 'soft' as never })).toThrow(/reset must be/);
    expect(() => new Leaky({ beta: 0.9, surrogate: surrogate.fastSigmoid({ slope: 0 }) })).toThrow(OptionError);
  });
});
