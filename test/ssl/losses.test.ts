import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../src/errors';
import { Rng, Tensor } from '../../src/index';
import { barlowTwinsLoss, ntXentLoss, vicregLoss } from '../../src/ssl/losses';
import { gradcheck } from '../helpers/gradcheck';

type M = number[][];
const rows = (t: Tensor): M => Array.from({ length: t.shape[0] }, (_, i) => Array.from(t.data.subarray(i * t.shape[1], (i + 1) * t.shape[1])));
const colMean = (z: M, j: number) => z.reduce((s, r) => s + r[j], 0) / z.length;
const colVar = (z: M, j: number, correction: number) => {
  const m = colMean(z, j);
  return z.reduce((s, r) => s + (r[j] - m) ** 2, 0) / (z.length - correction);
};

/** Reference implementations in double precision, straight from the papers' definitions. */
function barlowRef(a: M, b: M, lambda: number, eps = 1e-5, paper = false): number {
  const n = a.length;
  const d = a[0].length;
  // The paper's pseudocode: (z − mean) / z.std(0), torch.std being unbiased, no ε.
  const std = (z: M) => z.map((r) => r.map((v, j) => (v - colMean(z, j)) / (paper ? Math.sqrt(colVar(z, j, 1)) : Math.sqrt(colVar(z, j, 0) + eps))));
  const sa = std(a);
  const sb = std(b);
  let loss = 0;
  for (let i = 0; i < d; i++)
    for (let j = 0; j < d; j++) {
      let c = 0;
      for (let k = 0; k < n; k++) c += sa[k][i] * sb[k][j];
      c /= n;
      loss += i === j ? (1 - c) ** 2 : lambda * c * c;
    }
  return loss;
}

function ntXentRef(a: M, b: M, tau: number): number {
  const z = [...a, ...b].map((r) => {
    const norm = Math.hypot(...r);
    return r.map((v) => v / norm);
  });
  const n2 = z.length;
  const n = n2 / 2;
  let total = 0;
  for (let i = 0; i < n2; i++) {
    const p = i < n ? i + n : i - n;
    const s = (k: number) => z[i].reduce((acc, v, j) => acc + v * z[k][j], 0) / tau;
    let denom = 0;
    for (let k = 0; k < n2; k++) if (k !== i) denom += Math.exp(s(k));
    total += -(s(p) - Math.log(denom));
  }
  return total / n2;
}

function vicregRef(a: M, b: M, ws = 25, wv = 25, wc = 1, eps = 1e-4): number {
  const n = a.length;
  const d = a[0].length;
  let inv = 0;
  for (let k = 0; k < n; k++) for (let j = 0; j < d; j++) inv += (a[k][j] - b[k][j]) ** 2;
  inv /= n * d;
  const stdTerm = (z: M) => Array.from({ length: d }, (_, j) => Math.max(0, 1 - Math.sqrt(colVar(z, j, 1) + eps))).reduce((x, y) => x + y, 0) / d;
  const covTerm = (z: M) => {
    let s = 0;
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) {
        if (i === j) continue;
        const mi = colMean(z, i);
        const mj = colMean(z, j);
        let c = 0;
        for (let k = 0; k < n; k++) c += (z[k][i] - mi) * (z[k][j] - mj);
        s += (c / (n - 1)) ** 2;
      }
    return s / d;
  };
  return ws * inv + (wv * (stdTerm(a) + stdTerm(b))) / 2 + wc * (covTerm(a) + covTerm(b));
}

function randomPair(n: number, d: number, seed: number, scale = 1): [Tensor, Tensor] {
  const rng = new Rng(seed);
  const mk = () => new Tensor(Float32Array.from({ length: n * d }, () => scale * rng.normal()), [n, d]);
  const a = mk();
  // The second view: the first plus noise, as two views of one sample would be.
  const b = new Tensor(Float32Array.from(a.data, (v) => v + 0.5 * scale * rng.normal()), [n, d]);
  return [a, b];
}

const sizes = fc.record({ n: fc.integer({ min: 3, max: 8 }), d: fc.integer({ min: 1, max: 6 }), seed: fc.integer() });

describe('SSL losses against double-precision reference implementations', () => {
  it('barlowTwinsLoss', () => {
    fc.assert(
      fc.property(sizes, fc.constantFrom(5e-3, 0.1, 1), ({ n, d, seed }, lambda) => {
        const [a, b] = randomPair(n, d, seed);
        const want = barlowRef(rows(a), rows(b), lambda);
        expect(barlowTwinsLoss(a, b, { lambda }).item()).toBeCloseTo(want, 3);
      }),
    );
  });

  it("barlowTwinsLoss, the paper's standardization (unbiased std, no ε)", () => {
    fc.assert(
      fc.property(sizes, fc.constantFrom(5e-3, 0.1, 1), ({ n, d, seed }, lambda) => {
        const [a, b] = randomPair(n, d, seed);
        const want = barlowRef(rows(a), rows(b), lambda, 0, true);
        expect(barlowTwinsLoss(a, b, { lambda, standardize: 'paper' }).item()).toBeCloseTo(want, 3);
      }),
    );
    // The two standardizations differ by the factor (N − 1)/N on every C_ij: not the same loss.
    const [a, b] = randomPair(4, 3, 1);
    expect(Math.abs(barlowTwinsLoss(a, b, { standardize: 'paper' }).item() - barlowTwinsLoss(a, b).item())).toBeGreaterThan(1e-3);
    const flat = new Tensor(Float32Array.of(1, 2, 1, 3, 1, 4), [3, 2]);
    expect(() => barlowTwinsLoss(flat, flat, { standardize: 'paper' })).toThrow(/dimension 0 is constant over the batch/);
  });

  it('ntXentLoss', () => {
    fc.assert(
      fc.property(sizes, fc.constantFrom(0.1, 0.5, 1), ({ n, d, seed }, tau) => {
        const [a, b] = randomPair(n, d, seed);
        expect(ntXentLoss(a, b, { temperature: tau }).item()).toBeCloseTo(ntXentRef(rows(a), rows(b), tau), 4);
      }),
    );
  });

  it('vicregLoss', () => {
    fc.assert(
      fc.property(sizes, ({ n, d, seed }) => {
        const [a, b] = randomPair(n, d, seed, 0.4);
        const want = vicregRef(rows(a), rows(b));
        expect(Math.abs(vicregLoss(a, b).item() - want)).toBeLessThanOrEqual(1e-4 * (1 + Math.abs(want)));
      }),
    );
  });

  it('known values: identical whitened views give zero Barlow Twins loss; NT-Xent of orthogonal pairs', () => {
    // Rows ±e_j: each dimension has mean 0 and variance 1/2 over N = 4, and distinct dims are uncorrelated.
    const z = new Tensor(Float32Array.of(1, 0, -1, 0, 0, 1, 0, -1), [4, 2]);
    expect(barlowTwinsLoss(z, z, { eps: 0 }).item()).toBeCloseTo(0, 6);
    // N = 1, views orthogonal: the softmax of each anchor has one other entry, the positive: loss 0.
    expect(ntXentLoss(new Tensor(Float32Array.of(1, 0), [1, 2]), new Tensor(Float32Array.of(0, 1), [1, 2])).item()).toBeCloseTo(0, 6);
  });
});

function expectOk(r: { ok: boolean; detail: string; worst: number }): void {
  expect(r.ok, `${r.detail} (worst ratio ${r.worst.toFixed(2)})`).toBe(true);
}

describe('SSL losses: gradients against finite differences', () => {
  const opts = { h: 3e-3, rtol: 3e-2, atol: 3e-3 };
  it('barlowTwinsLoss', () => {
    fc.assert(fc.property(sizes, ({ n, d, seed }) => {
      expectOk(gradcheck((a, b) => barlowTwinsLoss(a, b, { lambda: 0.1 }), randomPair(n, d, seed), opts));
    }), { numRuns: 20 });
  });
  it("barlowTwinsLoss, the paper's standardization", () => {
    fc.assert(fc.property(sizes, ({ n, d, seed }) => {
      expectOk(gradcheck((a, b) => barlowTwinsLoss(a, b, { lambda: 0.1, standardize: 'paper' }), randomPair(n, d, seed), opts));
    }), { numRuns: 20 });
  });
  it('ntXentLoss', () => {
    // d ≥ 2: a 1-D projection normalises to ±1, a step at 0 that finite differences cannot cross.
    fc.assert(fc.property(sizes.filter(({ d }) => d >= 2), ({ n, d, seed }) => {
      expectOk(gradcheck((a, b) => ntXentLoss(a, b), randomPair(n, d, seed), opts));
    }), { numRuns: 20 });
  });
  it('vicregLoss', () => {
    fc.assert(fc.property(sizes, ({ n, d, seed }) => {
      expectOk(gradcheck((a, b) => vicregLoss(a, b), randomPair(n, d, seed, 0.4), opts));
    }), { numRuns: 20 });
  });
});

describe('SSL losses: bad input', () => {
  it('names both shapes', () => {
    const a = new Tensor(new Float32Array(6), [3, 2]);
    const b = new Tensor(new Float32Array(8), [4, 2]);
    expect(() => barlowTwinsLoss(a, b)).toThrow(/\[3, 2\] and \[4, 2\]/);
    expect(() => vicregLoss(new Tensor(new Float32Array(2), [1, 2]), new Tensor(new Float32Array(2), [1, 2]))).toThrow(ShapeError);
    expect(() => ntXentLoss(a, a, { temperature: 0 })).toThrow(/temperature/);
  });
});
