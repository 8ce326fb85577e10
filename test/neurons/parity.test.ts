import { describe, expect, it } from 'vitest';
import {
  Leaky, OptionError, Rng, Synaptic, Tensor, add, backward, lif, mul, randn, reshape, slice, sum, surrogate, tensor, type LifState,
} from '../../src/index';
import { gradcheck } from '../helpers/gradcheck';

const f = Math.fround;
/** x[t] of a time-first tensor, differentiable. */
const at = (x: Tensor, t: number) => reshape(slice(x, [[t, t + 1]]), x.shape.slice(1));
/** atan(α = 2)'s derivative, the default surrogate: (α/2) / (1 + (π·α·x/2)²). */
const atan2 = (x: number) => 1 / (1 + (Math.PI * x) ** 2);

describe('Leaky.step: time driven by the caller', () => {
  it('T calls of step give the fused forward\'s spikes and membranes bit for bit, and its gradients', () => {
    const rng = new Rng(1);
    const x = randn([6, 3, 4], rng);
    const wS = randn([6, 3, 4], rng);
    const wU = randn([6, 3, 4], rng);
    const run = (stepwise: boolean) => {
      const lif = new Leaky({ beta: [0.9, 0.5, 0.7, 0.95], learnBeta: true });
      const xi = new Tensor(x.data.slice(), x.shape);
      xi.requiresGrad = true;
      let spikes: number[] = [];
      let mems: number[] = [];
      let loss: Tensor;
      if (stepwise) {
        let state: LifState | undefined;
        const terms: Tensor[] = [];
        for (let t = 0; t < 6; t++) {
          const r = lif.step(at(xi, t), state);
          state = r.state;
          spikes = spikes.concat([...r.spk.data]);
          mems = mems.concat([...r.mem.data]);
          terms.push(add(sum(mul(r.spk, at(wS, t))), sum(mul(r.mem, at(wU, t)))));
        }
        loss = terms.reduce((a, b) => add(a, b));
      } else {
        const r = lif.forwardWithMem(xi);
        spikes = [...r.spikes.data];
        mems = [...r.mem.data];
        loss = add(sum(mul(r.spikes, wS)), sum(mul(r.mem, wU)));
      }
      backward(loss);
      return { spikes, mems, dx: [...xi.grad!.data], dBeta: [...lif.beta.grad!.data] };
    };
    const a = run(true);
    const b = run(false);
    expect(a.spikes).toEqual(b.spikes);
    expect(a.mems).toEqual(b.mems);
    expect(b.spikes.some((s) => s === 1)).toBe(true);
    for (let i = 0; i < a.dx.length; i++) expect(a.dx[i]).toBeCloseTo(b.dx[i], 5);
    for (let i = 0; i < 4; i++) expect(a.dBeta[i]).toBeCloseTo(b.dBeta[i], 4);
  });

  it('refuses a state of the wrong shape and second-order neurons', () => {
    const lif = new Leaky({ beta: 0.9 });
    expect(() => lif.step(tensor([[1, 2]]), { mem: tensor([1, 2, 3]) })).toThrow(/state.mem has shape \[3\], expected the input's \[1, 2\]/);
    expect(() => new Synaptic({ alpha: 0.5, beta: 0.5 }).step(tensor([[1]]))).toThrow(OptionError);
    expect(() => new Synaptic({ alpha: 0.5, beta: 0.5, resetDelay: false })).toThrow(OptionError);
  });
});

describe('Leaky resetDelay: false (snnTorch\'s reset_delay=False)', () => {
  /** snnTorch's Leaky.forward with reset_delay=False, written out in float32. */
  function reference(xs: number[], beta: number, theta: number, reset: 'subtract' | 'zero') {
    let v = 0;
    const spk: number[] = [];
    const mem: number[] = [];
    for (const x64 of xs) {
      const x = f(x64);
      const r = v > theta ? 1 : 0;
      const p = reset === 'subtract' ? f(f(f(beta * v) + x) - theta * r) : f(f(beta * (1 - r) * v) + x);
      const s = p > theta ? 1 : 0;
      v = reset === 'subtract' ? f(p - (s - r) * theta) : f(p - (s - r) * p);
      spk.push(s);
      mem.push(v);
    }
    return { spk, mem };
  }

  it('follows the recurrence: the membrane is reset in the firing step', () => {
    const xs = [0.6, 0.7, 2.5, 0.1, 1.4, -0.3, 0.9, 0.9];
    for (const reset of ['subtract', 'zero'] as const) {
      const lif = new Leaky({ beta: 0.8, threshold: 1, reset, resetDelay: false });
      const r = lif.forwardWithMem(tensor(xs, [8, 1]));
      const want = reference(xs, f(0.8), 1, reset);
      expect([...r.spikes.data]).toEqual(want.spk);
      expect([...r.mem.data]).toEqual(want.mem);
      // The delayed reset fires differently on this input (2.5 carries over with subtract).
      const delayed = new Leaky({ beta: 0.8, threshold: 1, reset }).forwardWithMem(tensor(xs, [8, 1]));
      expect([...delayed.mem.data]).not.toEqual(want.mem);
    }
  });

  it('lets the gradient through the reset, as snnTorch: dS₂/dx₁ = σ′(P₂ − θ)·β·(1 − θ·σ′(P₁ − θ))', () => {
    // x = [1.2, 0.3], β = 0.5, θ = 1: P₁ = 1.2 fires, V₁ = 0.2; P₂ = 0.1 + 0.3 = 0.4.
    const x = tensor([1.2, 0.3], [2, 1]);
    x.requiresGrad = true;
    const s = new Leaky({ beta: 0.5, resetDelay: false }).forward(x);
    backward(sum(slice(s, [[1, 2]])));
    expect(x.grad!.data[0]).toBeCloseTo(atan2(f(0.4) - 1) * 0.5 * (1 - atan2(f(1.2) - 1)), 6);
    expect(x.grad!.data[1]).toBeCloseTo(atan2(f(0.4) - 1), 6);
  });
});

describe('graded spikes and per-neuron β', () => {
  it('multiplies the spikes by g; a learnable g gets Σ S as its gradient', () => {
    const xs = tensor([0.6, 0.7, 2.5, 0.1, 1.4], [5, 1]);
    const plain = new Leaky({ beta: 0.8 }).forward(xs);
    const lif = new Leaky({ beta: 0.8, gradedSpikesFactor: 0.25, learnGradedSpikesFactor: true });
    const out = lif.forward(xs);
    expect([...out.data]).toEqual([...plain.data].map((s) => s * 0.25));
    expect(out.binary).toBe(false);
    backward(sum(out));
    expect(lif.gradedSpikesFactor!.grad!.item()).toBe(plain.data.reduce((a, b) => a + b, 0));
    expect(Object.keys(lif.stateDict()).sort()).toEqual(['beta', 'graded_spikes_factor', 'threshold']);
    expect(Object.keys(new Leaky({ beta: 0.8 }).stateDict()).sort()).toEqual(['beta', 'threshold']);
  });

  it('a learnable β per neuron has the gradient finite differences give (membranes below θ)', () => {
    const rng = new Rng(3);
    // Small currents and θ = 100: no neuron fires, so U is smooth in β.
    const x = randn([5, 2, 3], rng);
    // Leaky hands its β (clamped) to this kernel call.
    const r = gradcheck((b) => lif(x, { beta: b, threshold: tensor(100), reset: 'subtract', surrogate: surrogate.atan() }, {}, { returnMem: true }).mem!, [tensor([0.9, 0.6, 0.3])], { h: 1e-3 });
    expect(r.ok, r.detail).toBe(true);
  });
});
