/** BatchNorm (fused) against the composed form, the formulas and finite differences; LayerNorm; Dropout. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BatchStats } from '../../src/nn/functional';
import {
  BatchNorm1d,
  BatchNorm2d,
  Dropout,
  LayerNorm,
  OptionError,
  Rng,
  ShapeError,
  Tensor,
  add,
  backward,
  batchNorm,
  div,
  dropout,
  layerNorm,
  mean,
  mul,
  noGrad,
  reshape,
  sqrt,
  square,
  sub,
} from '../../src/index';
import { gradcheck } from '../helpers/gradcheck';
import { firstMismatch, randomTensor } from '../helpers/reference';

const leaf = (t: Tensor): Tensor => new Tensor(t.data.slice(), t.shape, { requiresGrad: true });

/** Batch norm composed from autograd primitives: statistics over every axis but `axis`. */
function composedBatchNorm(x: Tensor, axis: number, w: Tensor, b: Tensor, eps: number): Tensor {
  const axes = x.shape.map((_, i) => i).filter((i) => i !== axis);
  const bshape = x.shape.map((d, i) => (i === axis ? d : 1));
  const mu = mean(x, axes, true);
  const centred = sub(x, mu);
  const v = mean(square(centred), axes, true);
  const xhat = div(centred, sqrt(add(v, eps)));
  return add(mul(xhat, reshape(w, bshape)), reshape(b, bshape));
}

/** Per-channel mean, biased and unbiased variance by plain loops. */
function channelStats(x: Tensor, axis: number): { mean: number[]; biased: number[]; unbiased: number[] } {
  const c = x.shape[axis];
  const inner = x.shape.slice(axis + 1).reduce((a, d) => a * d, 1);
  const vals: number[][] = Array.from({ length: c }, () => []);
  for (let i = 0; i < x.size; i++) vals[Math.floor(i / inner) % c].push(x.data[i]);
  const m = vals.map((v) => v.reduce((a, y) => a + y, 0) / v.length);
  const ss = vals.map((v, k) => v.reduce((a, y) => a + (y - m[k]) ** 2, 0));
  return { mean: m, biased: ss.map((s, k) => s / vals[k].length), unbiased: ss.map((s, k) => s / (vals[k].length - 1)) };
}

/**
 * Distinct values at least 0.4 apart, so no channel has a tiny variance (where the step of
 * a finite difference would no longer be small against σ).
 */
function spread(shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const perm = new Rng(seed).permutation(n);
  return new Tensor(Float32Array.from(perm, (p) => 0.4 * p - 0.2 * n), shape);
}

const bnCase = fc.oneof(
  fc.tuple(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 1, max: 4 })).map(([n, f]) => ({ shape: [n, f], axis: 1 })),
  fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })).map(([t, n, f]) => ({ shape: [t, n + 1, f], axis: 2 })),
  fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })).map(([n, c, h, w]) => ({ shape: [n + 1, c, h, w], axis: 1 })),
  fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })).map(([t, n, c, h]) => ({ shape: [t, n, c, h, h + 1], axis: 2 })),
);

describe('batchNorm (fused node)', () => {
  it('matches the composed form forward and backward in training mode', () => {
    fc.assert(
      fc.property(bnCase, fc.integer(), ({ shape, axis }, seed) => {
        const c = shape[axis];
        const x = randomTensor(shape, seed);
        const w = randomTensor([c], seed + 1, 0.5, 1.5);
        const b = randomTensor([c], seed + 2);
        const g = randomTensor(shape, seed + 3);
        const [xf, wf, bf] = [x, w, b].map(leaf);
        const yf = batchNorm(xf, axis, { weight: wf, bias: bf, eps: 1e-3 });
        backward(yf, g);
        const [xc, wc, bc] = [x, w, b].map(leaf);
        const yc = composedBatchNorm(xc, axis, wc, bc, 1e-3);
        backward(yc, g);
        expect(firstMismatch(yf.data, yc.data, 1e-4, 1e-4)).toBe(-1);
        expect(firstMismatch(xf.grad!.data, xc.grad!.data, 1e-3, 1e-3)).toBe(-1);
        expect(firstMismatch(wf.grad!.data, wc.grad!.data, 1e-3, 1e-3)).toBe(-1);
        expect(firstMismatch(bf.grad!.data, bc.grad!.data, 1e-4, 1e-4)).toBe(-1);
      }),
      { numRuns: 60, seed: 1 },
    );
  });

  it('passes finite differences in training and eval mode', () => {
    fc.assert(
      fc.property(bnCase, fc.integer(), fc.boolean(), ({ shape, axis }, seed, training) => {
        const c = shape[axis];
        const rm = randomTensor([c], seed + 5, -5, 5);
        const rv = randomTensor([c], seed + 6, 20, 40);
        const r = gradcheck(
          (x, w, b) => batchNorm(x, axis, { weight: w, bias: b, training, runningMean: training ? null : rm, runningVar: training ? null : rv }),
          [spread(shape, seed), randomTensor([c], seed + 1, 0.5, 1.5), randomTensor([c], seed + 2)],
        );
        expect(r.ok, r.detail).toBe(true);
      }),
      { numRuns: 30, seed: 1 },
    );
  });
});

describe('BatchNorm1d / BatchNorm2d', () => {
  it('update running statistics with momentum and the unbiased variance; count batches', () => {
    const bn = new BatchNorm1d(3);
    const rm = [0, 0, 0];
    const rv = [1, 1, 1];
    for (let k = 0; k < 3; k++) {
      const x = randomTensor([4, 5, 3], 100 + k, -3, 5); // [T, B, F]: statistics over T·B = 20 values
      bn.forward(x);
      const s = channelStats(x, 2);
      for (let c = 0; c < 3; c++) {
        rm[c] = 0.9 * rm[c] + 0.1 * s.mean[c];
        rv[c] = 0.9 * rv[c] + 0.1 * s.unbiased[c];
      }
      expect(firstMismatch(bn.runningMean.data, rm, 1e-5, 1e-6)).toBe(-1);
      expect(firstMismatch(bn.runningVar.data, rv, 1e-5, 1e-6)).toBe(-1);
      expect(bn.numBatchesTracked.item()).toBe(k + 1);
    }
  });

  it('report the batch statistics through batchStats; trackBatch applies them as a forward would', () => {
    const x = randomTensor([3, 6, 4], 7, -2, 3);
    const expected = channelStats(x, 2);
    const stats = { mean: new Float64Array(4), variance: new Float64Array(4) };
    batchNorm(x, -1, { training: true, batchStats: stats });
    expect(firstMismatch(Float32Array.from(stats.mean), expected.mean, 1e-6, 1e-6)).toBe(-1);
    expect(firstMismatch(Float32Array.from(stats.variance), expected.unbiased, 1e-5, 1e-6)).toBe(-1);
    // A forward with deferred statistics leaves the running ones alone; trackBatch then
    // makes the module equal to one that ran the forward itself, to the bit.
    const deferred = new BatchNorm1d(4, { momentum: null, deferStatistics: true });
    const direct = new BatchNorm1d(4, { momentum: null });
    for (let k = 0; k < 2; k++) {
      const xk = randomTensor([3, 6, 4], 20 + k, -2, 3);
      const yDeferred = deferred.forward(xk);
      expect(deferred.numBatchesTracked.item()).toBe(k);
      expect(deferred.deferredStats.length).toBe(1);
      const sunk: BatchStats[] = deferred.deferredStats.splice(0);
      deferred.trackBatch(sunk[0]);
      expect(Array.from(yDeferred.data)).toEqual(Array.from(direct.forward(xk).data));
      expect(Array.from(deferred.runningMean.data)).toEqual(Array.from(direct.runningMean.data));
      expect(Array.from(deferred.runningVar.data)).toEqual(Array.from(direct.runningVar.data));
    }
    expect(deferred.numBatchesTracked.item()).toBe(2);
    expect(() => batchNorm(x, -1, { training: true, batchStats: { mean: new Float64Array(3), variance: new Float64Array(4) } })).toThrow(ShapeError);
  });

  it('with momentum null keep the cumulative average of the batch statistics', () => {
    const bn = new BatchNorm2d(2, { momentum: null });
    const means: number[][] = [];
    for (let k = 0; k < 3; k++) {
      const x = randomTensor([3, 2, 2, 3], 200 + k, -1, 4);
      bn.forward(x);
      means.push(channelStats(x, 1).mean);
    }
    const avg = [0, 1].map((c) => (means[0][c] + means[1][c] + means[2][c]) / 3);
    expect(firstMismatch(bn.runningMean.data, avg, 1e-5, 1e-6)).toBe(-1);
  });

  it('normalise with the batch statistics in training mode and the running ones in eval mode', () => {
    const bn = new BatchNorm2d(2);
    bn.weight!.data.set([2, 0.5]);
    bn.bias!.data.set([1, -1]);
    const x = randomTensor([2, 3, 2, 4, 4], 7, -2, 3); // [T, N, C, H, W]
    const s = channelStats(x, 2);
    const y = bn.forward(x);
    const inner = 16;
    for (let i = 0; i < x.size; i++) {
      const c = Math.floor(i / inner) % 2;
      const want = [2, 0.5][c] * (x.data[i] - s.mean[c]) / Math.sqrt(s.biased[c] + 1e-5) + [1, -1][c];
      expect(y.data[i]).toBeCloseTo(want, 4);
    }
    bn.eval();
    const rm = Array.from(bn.runningMean.data);
    const rv = Array.from(bn.runningVar.data);
    const z = bn.forward(x);
    for (let i = 0; i < x.size; i++) {
      const c = Math.floor(i / inner) % 2;
      expect(z.data[i]).toBeCloseTo([2, 0.5][c] * (x.data[i] - rm[c]) / Math.sqrt(rv[c] + 1e-5) + [1, -1][c], 4);
    }
    expect(Array.from(bn.runningMean.data)).toEqual(rm); // eval leaves the statistics alone
    expect(bn.numBatchesTracked.item()).toBe(1);
  });

  it('without affine have no parameters; name parameters and buffers as PyTorch', () => {
    expect(new BatchNorm1d(4, { affine: false }).parameters()).toEqual([]);
    expect(Object.keys(new BatchNorm2d(4).stateDict())).toEqual(['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked']);
  });

  it('reject the wrong feature count, one value per channel in training, and bad options', () => {
    expect(() => new BatchNorm1d(3).forward(randomTensor([4, 2], 1))).toThrow(ShapeError);
    expect(() => new BatchNorm2d(3).forward(randomTensor([4, 3, 2], 1))).toThrow(ShapeError);
    const bn = new BatchNorm1d(3);
    expect(() => bn.forward(randomTensor([1, 3], 1))).toThrow(/more than one value per channel/);
    expect(bn.numBatchesTracked.item()).toBe(0);
    expect(() => new BatchNorm1d(3, { momentum: 2 })).toThrow(OptionError);
    expect(() => new BatchNorm1d(0)).toThrow(OptionError);
    expect(() => batchNorm(randomTensor([4, 3], 1), 1, { eps: -1e-5 })).toThrow(/eps must be a finite number ≥ 0, got -0.00001/);
    expect(() => batchNorm(randomTensor([4, 3], 1), 1, { eps: NaN })).toThrow(OptionError);
    // eps = 0, as PyTorch allows: each channel comes out with mean 0 and biased variance 1.
    const y = batchNorm(new Tensor(Float32Array.of(1, 10, 2, 20, 6, 30), [3, 2]), 1, { eps: 0 }).data;
    for (const ch of [0, 1]) {
      const v = [y[ch], y[2 + ch], y[4 + ch]];
      expect(v[0] + v[1] + v[2]).toBeCloseTo(0, 6);
      expect((v[0] ** 2 + v[1] ** 2 + v[2] ** 2) / 3).toBeCloseTo(1, 5);
    }
  });
});

describe('LayerNorm', () => {
  it('normalises each sample over the trailing axes (formula) and passes finite differences', () => {
    const ln = new LayerNorm([3, 4]);
    ln.weight!.data.set(randomTensor([3, 4], 1, 0.5, 1.5).data);
    ln.bias!.data.set(randomTensor([3, 4], 2).data);
    const x = randomTensor([2, 5, 3, 4], 3, -2, 4);
    const y = ln.forward(x);
    for (let s = 0; s < 10; s++) {
      const v = Array.from(x.data.subarray(s * 12, s * 12 + 12));
      const m = v.reduce((a, b) => a + b, 0) / 12;
      const varB = v.reduce((a, b) => a + (b - m) ** 2, 0) / 12;
      for (let j = 0; j < 12; j++) {
        expect(y.data[s * 12 + j]).toBeCloseTo(((v[j] - m) / Math.sqrt(varB + 1e-5)) * ln.weight!.data[j] + ln.bias!.data[j], 4);
      }
    }
    const r = gradcheck((x, w, b) => layerNorm(x, [4], w, b), [randomTensor([3, 4], 4), randomTensor([4], 5, 0.5, 1.5), randomTensor([4], 6)], { rtol: 3e-2, atol: 3e-3 });
    expect(r.ok, r.detail).toBe(true);
    expect(() => ln.forward(randomTensor([2, 4, 3], 1))).toThrow(ShapeError);
  });
});

describe('Dropout', () => {
  it('zeroes a fraction p and scales the rest by 1/(1 − p) in training; the gradient is the same mask', () => {
    const x = new Tensor(new Float32Array(20000).fill(2), [100, 200], { requiresGrad: true });
    const y = dropout(x, 0.3, true, new Rng(1));
    let zeros = 0;
    let others = 0;
    for (const v of y.data) {
      if (v === 0) zeros++;
      else if (Math.abs(v - 2 / 0.7) > 1e-5) others++;
    }
    expect(others).toBe(0);
    // Binomial(20000, 0.3): standard deviation ≈ 65, so ±300 is far beyond chance.
    expect(Math.abs(zeros - 6000)).toBeLessThan(300);
    backward(y, new Tensor(new Float32Array(20000).fill(1), y.shape));
    expect(firstMismatch(x.grad!.data, y.data.map((v) => v / 2), 1e-6, 1e-6)).toBe(-1);
  });

  it('is the identity in eval mode and for p = 0; p = 1 gives zeros', () => {
    const x = randomTensor([3, 4], 1);
    const d = new Dropout(0.5, { rng: new Rng(0) });
    d.eval();
    expect(d.forward(x)).toBe(x);
    expect(dropout(x, 0, true, new Rng(0))).toBe(x);
    expect(Array.from(noGrad(() => dropout(x, 1, true, new Rng(0))).data).every((v) => v === 0)).toBe(true);
    expect(() => new Dropout(1.5, { rng: new Rng(0) })).toThrow(OptionError);
  });
});
