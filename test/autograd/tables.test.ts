/**
 * Every entry of both rule tables — the primitives (RULES) and the fused ops (FUSED) — against
 * central finite differences. The case table is keyed by the union of their names, so an op
 * added without a case fails tsc, and the test checks at run time that the keys match and
 * that each case's graph really contains a node of its op.
 */
import { describe, expect, it } from 'vitest';
import { FUSED, type FusedName } from '../../src/autograd/fused';
import { type OpName, RULES, apply } from '../../src/autograd/ops';
import * as F from '../../src/autograd/functional';
import { avgPool2d, batchNorm, conv2d, linear, maxPool2d } from '../../src/nn/functional';
import { lif } from '../../src/neurons/lif';
import { atan } from '../../src/neurons/surrogate';
import { Rng, Tensor, tensor } from '../../src/index';
import { gradcheck } from '../helpers/gradcheck';
import { randomTensor } from '../helpers/reference';

interface Case {
  label: string;
  f: (...xs: Tensor[]) => Tensor;
  inputs: Tensor[];
  tol?: { rtol?: number; atol?: number };
}

const r = (shape: number[], seed: number, lo = -2, hi = 2): Tensor => randomTensor(shape, seed, lo, hi);

/** Values at least `gap` away from 0 (abs and relu have a kink there). */
function offZero(shape: number[], seed: number, gap = 0.1): Tensor {
  const t = r(shape, seed);
  for (let i = 0; i < t.size; i++) t.data[i] = Math.sign(t.data[i] || 1) * (gap + Math.abs(t.data[i]));
  return t;
}

/** Distinct values 0.25 apart in random order (no near-ties for max and max pooling). */
function distinct(shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const perm = new Rng(seed).permutation(n);
  return new Tensor(Float32Array.from(perm, (p) => 0.25 * p - n / 8), shape);
}

/** A constant binary tensor with about `density` ones (not a gradcheck input: it stays binary). */
function spikes(shape: number[], seed: number, density: number): Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(Float32Array.from({ length: n }, () => +(rng.uniform() < density)), shape, { binary: true });
}

/** LIF membranes [T, ...] of a call, for cases whose membranes must stay clear of the threshold. */
function lifMembraneMargin(x: Tensor, beta: Tensor, theta: number, reset: 'subtract' | 'zero' | 'none', alpha?: Tensor, mem?: Tensor, syn?: Tensor): number {
  const { mem: m } = lif(x, { beta, threshold: tensor(theta), alpha, reset, surrogate: atan() }, { mem, syn }, { returnMem: true });
  let margin = Infinity;
  for (const v of m!.data) margin = Math.min(margin, Math.abs(v - theta));
  return margin;
}

/**
 * LIF cases checked on the membrane output (the spikes are a step function): U is smooth in
 * x, β, α, θ and the initial state while no membrane lies within the perturbation of θ, so
 * each seed is taken only if its membranes keep a margin of 0.15 from θ.
 */
function lifCases(): Case[] {
  const cases: Case[] = [];
  for (const reset of ['subtract', 'zero', 'none'] as const) {
    for (const synaptic of [false, true]) {
      const before = cases.length;
      for (let seed = 1; seed < 200 && cases.length === before; seed++) {
        const x = r([3, 2, 3], seed, -0.5, 1.5);
        const beta = r([3], seed + 1, 0.3, 0.9);
        const theta = tensor(1);
        const mem = r([2, 3], seed + 2, -0.5, 0.8);
        const alpha = r([], seed + 3, 0.2, 0.8);
        const syn = r([2, 3], seed + 4, -0.3, 0.3);
        if (lifMembraneMargin(x, beta, 1, reset, synaptic ? alpha : undefined, mem, synaptic ? syn : undefined) < 0.15) continue;
        const label = `lif ${reset}${synaptic ? ' synaptic' : ''} (seed ${seed})`;
        const memOf = (xx: Tensor, b: Tensor, th: Tensor, u0: Tensor, a?: Tensor, i0?: Tensor): Tensor =>
          lif(xx, { beta: b, threshold: th, alpha: a, reset, surrogate: atan() }, { mem: u0, syn: i0 }, { returnMem: true }).mem!;
        cases.push(
          synaptic
            ? { label, f: (xx, b, th, u0, a, i0) => memOf(xx, b, th, u0, a, i0), inputs: [x, beta, theta, mem, alpha, syn] }
            : { label, f: (xx, b, th, u0) => memOf(xx, b, th, u0), inputs: [x, beta, theta, mem] },
        );
      }
      if (cases.length === before) throw new Error(`no seed below 200 keeps the ${reset} membranes clear of the threshold`);
    }
  }
  return cases;
}

const CASES: { [P in OpName | FusedName]: () => Case[] } = {
  add: () => [{ label: 'add, broadcast', f: F.add, inputs: [r([2, 3], 1), r([3], 2)] }],
  sub: () => [{ label: 'sub, broadcast', f: F.sub, inputs: [r([2, 1], 1), r([2, 3], 2)] }],
  mul: () => [{ label: 'mul, broadcast', f: F.mul, inputs: [r([2, 3], 1), r([2, 1], 2)] }],
  div: () => [{ label: 'div, broadcast', f: F.div, inputs: [r([2, 3], 1), offZero([3], 2, 0.5)] }],
  neg: () => [{ label: 'neg', f: F.neg, inputs: [r([4], 1)] }],
  pow: () => [{ label: 'pow 3', f: (a) => F.pow(a, 3), inputs: [r([4], 1)] }, { label: 'pow -1.5', f: (a) => F.pow(a, -1.5), inputs: [r([4], 2, 0.5, 3)] }],
  exp: () => [{ label: 'exp', f: F.exp, inputs: [r([4], 1)] }],
  log: () => [{ label: 'log', f: F.log, inputs: [r([4], 1, 0.2, 3)] }],
  sqrt: () => [{ label: 'sqrt', f: F.sqrt, inputs: [r([4], 1, 0.2, 3)] }],
  abs: () => [{ label: 'abs', f: F.abs, inputs: [offZero([5], 1)] }],
  relu: () => [{ label: 'relu', f: F.relu, inputs: [offZero([5], 1)] }],
  sigmoid: () => [{ label: 'sigmoid', f: F.sigmoid, inputs: [r([4], 1, -4, 4)] }],
  tanh: () => [{ label: 'tanh', f: F.tanh, inputs: [r([4], 1)] }],
  clamp: () => [{ label: 'clamp', f: (a) => F.clamp(a, -1.05, 0.95), inputs: [new Tensor(Float32Array.of(-1.7, -0.6, 0.2, 0.7, 1.3), [5])] }],
  matmul: () => [
    { label: 'matmul', f: (a, b) => F.matmul(a, b), inputs: [r([2, 3], 1), r([3, 4], 2)] },
    { label: 'matmul transA transB, batched', f: (a, b) => F.matmul(a, b, { transA: true, transB: true }), inputs: [r([2, 3, 2], 1), r([4, 3], 2)] },
  ],
  sum: () => [{ label: 'sum', f: (a) => F.sum(a, [0, 2], true), inputs: [r([2, 3, 2], 1)] }],
  mean: () => [{ label: 'mean', f: (a) => F.mean(a, 1), inputs: [r([2, 3, 2], 1)] }],
  max: () => [{ label: 'max', f: (a) => F.max(a, 1), inputs: [distinct([3, 4], 1)] }],
  reshape: () => [{ label: 'reshape', f: (a) => F.reshape(a, [3, 2]), inputs: [r([2, 3], 1)] }],
  permute: () => [{ label: 'permute', f: (a) => F.permute(a, [2, 0, 1]), inputs: [r([2, 3, 2], 1)] }],
  concat: () => [{ label: 'concat', f: (a, b) => F.concat([a, b, a], 1), inputs: [r([2, 1], 1), r([2, 3], 2)] }],
  slice: () => [{ label: 'slice', f: (a) => F.slice(a, [null, [1, 3]]), inputs: [r([2, 4], 1)] }],
  crossEntropy: () => [{ label: 'crossEntropy', f: (z) => F.crossEntropy(z, Int32Array.of(2, 0, 1)), inputs: [r([3, 4], 1, -3, 3)] }],
  // Checked separately below: its backward is a surrogate, not H's derivative.
  heaviside: () => [],
  linear: () => [
    { label: 'linear with bias, time-folded', f: (x, w, b) => linear(x, w, b), inputs: [r([2, 3, 4], 1), r([5, 4], 2), r([5], 3)] },
    { label: 'linear without bias', f: (x, w) => linear(x, w), inputs: [r([3, 4], 1), r([2, 4], 2)] },
    // A binary input takes the event-driven kernels (with repeats along time); x is a constant.
    { label: 'linear, event-driven dW and db', f: (w, b) => linear(spikes([4, 3, 6], 4, 0.3), w, b), inputs: [r([5, 6], 2), r([5], 3)] },
  ],
  conv2d: () => [
    { label: 'conv2d stride 2 padding 1', f: (x, w, b) => conv2d(x, w, b, { stride: 2, padding: 1 }), inputs: [r([2, 2, 5, 5], 1), r([3, 2, 3, 3], 2), r([3], 3)] },
    // Sparse spikes with stride 1: the event-driven forward and dW; x is a constant.
    { label: 'conv2d, event-driven dW and db', f: (w, b) => conv2d(spikes([2, 2, 5, 5], 4, 0.2), w, b, { padding: 1 }), inputs: [r([3, 2, 3, 3], 2), r([3], 3)] },
    // Max pooling after it leaves one nonzero output gradient per window: the event-driven dX.
    { label: 'conv2d, event-driven dX', f: (x, w) => maxPool2d(conv2d(x, w, null, { padding: 1 }), 2), inputs: [distinct([1, 2, 4, 4], 1), r([3, 2, 3, 3], 2, 0.1, 1)] },
  ],
  maxPool2d: () => [{ label: 'maxPool2d 3×3 stride 2 padding 1', f: (x) => maxPool2d(x, 3, { stride: 2, padding: 1 }), inputs: [distinct([2, 5, 5], 1)] }],
  avgPool2d: () => [
    { label: 'avgPool2d', f: (x) => avgPool2d(x, 2), inputs: [r([2, 4, 4], 1)] },
    { label: 'avgPool2d padding, not counting it', f: (x) => avgPool2d(x, 3, { stride: 2, padding: 1, countIncludePad: false }), inputs: [r([2, 5, 5], 1)] },
  ],
  batchNorm: () => [
    {
      label: 'batchNorm training, channels on axis 1',
      f: (x, w, b) => batchNorm(x, 1, { weight: w, bias: b, training: true }),
      inputs: [r([4, 3, 2], 1), r([3], 2, 0.5, 1.5), r([3], 3)],
      tol: { rtol: 3e-2, atol: 3e-3 },
    },
    {
      label: 'batchNorm eval, channels last',
      f: (x, w, b) => batchNorm(x, -1, { weight: w, bias: b, training: false, runningMean: r([3], 4), runningVar: r([3], 5, 0.5, 2) }),
      inputs: [r([4, 3], 1), r([3], 2, 0.5, 1.5), r([3], 3)],
    },
  ],
  lif: lifCases,
};

/** Whether the graph behind `t` holds a node named `op`. */
function graphHas(t: Tensor, op: string): boolean {
  const stack = [t];
  const seen = new Set<Tensor>();
  while (stack.length > 0) {
    const u = stack.pop()!;
    if (seen.has(u)) continue;
    seen.add(u);
    const node = u.gradFn as { name: string; inputs: readonly Tensor[] } | null;
    if (!node) continue;
    if (node.name === op) return true;
    stack.push(...node.inputs);
  }
  return false;
}

describe('the rule tables', () => {
  const names = [...Object.keys(RULES), ...Object.keys(FUSED)].sort();

  it('have one case list per op, and no op twice', () => {
    expect(Object.keys(CASES).sort()).toEqual(names);
    expect(new Set(names).size).toBe(names.length);
  });

  for (const op of names) {
    const cases = CASES[op as OpName | FusedName]();
    if (op === 'heaviside') continue;
    it(`${op}: every case passes finite differences through a node of the op`, () => {
      expect(cases.length).toBeGreaterThan(0);
      for (const c of cases) {
        const leaves = c.inputs.map((t) => new Tensor(t.data.slice(), t.shape, { requiresGrad: true }));
        expect(graphHas(c.f(...leaves), op), `${c.label}: no '${op}' node in the graph`).toBe(true);
        const res = gradcheck(c.f, c.inputs, c.tol);
        expect(res.ok, `${c.label}: ${res.detail} (worst ratio ${res.worst.toFixed(2)})`).toBe(true);
      }
    });
  }

  it('heaviside: the backward is g·σ′(x), σ′ the finite-difference slope of the surrogate the doc names', () => {
    // atan's σ′ is the derivative of ½ + atan(π·α·x/2)/π.
    const alpha = 2;
    const smooth = (x: number): number => 0.5 + Math.atan((Math.PI * alpha * x) / 2) / Math.PI;
    const x = new Tensor(Float32Array.of(-1.3, -0.2, 0.05, 0.4, 2), [5], { requiresGrad: true });
    const g = Float32Array.of(0.5, -1, 2, 1, -0.25);
    const out = apply('heaviside', [x], { derivative: atan({ alpha }).derivative });
    expect(Array.from(out.data)).toEqual([0, 0, 1, 1, 1]);
    out.backward(new Tensor(g, [5]));
    const h = 1e-4;
    for (let i = 0; i < 5; i++) {
      const v = x.data[i];
      const slope = (smooth(v + h) - smooth(v - h)) / (2 * h);
      expect(x.grad!.data[i]).toBeCloseTo(g[i] * slope, 4);
    }
  });
});
