/** Every differentiable op's backward against central finite differences over random shapes. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as F from '../../src/autograd/functional';
import { RULES } from '../../src/autograd/ops';
import { Rng, Tensor } from '../../src/index';
import * as K from '../../src/tensor';
import { gradcheck } from '../helpers/gradcheck';

const RUNS = { numRuns: 25 };

const dims = fc.integer({ min: 1, max: 4 });
const shapeArb = fc.array(dims, { minLength: 0, maxLength: 3 });

/** A shape and another that broadcasts against it (some dims set to 1, some leading dims dropped). */
const broadcastPair = shapeArb.chain((s) =>
  fc
    .tuple(fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }), fc.integer({ min: 0, max: s.length }), fc.boolean())
    .map(([ones, drop, swap]) => {
      const t = s.map((d, i) => (ones[i] ? 1 : d)).slice(drop);
      return swap ? ([t, s] as const) : ([s, t] as const);
    }),
);

/** Uniform values in [lo, hi), optionally pushed at least `gap` away from 0 (kinks). */
function values(shape: readonly number[], seed: number, lo = -2, hi = 2, gap = 0): Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = rng.uniformRange(lo, hi);
    d[i] = gap > 0 ? Math.sign(v || 1) * (gap + Math.abs(v)) : v;
  }
  return new Tensor(d, shape);
}

/** Distinct values (so max has no ties within h of each other). */
function distinct(shape: readonly number[], seed: number): Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const perm = rng.permutation(n);
  return new Tensor(Float32Array.from(perm, (p) => 0.25 * p - n / 8), shape);
}

function expectOk(r: { ok: boolean; detail: string; worst: number }): void {
  expect(r.ok, `${r.detail} (worst ratio ${r.worst.toFixed(2)})`).toBe(true);
}

describe('binary ops with broadcasting', () => {
  const cases: Array<[string, (a: Tensor, b: Tensor) => Tensor, number]> = [
    ['add', F.add, 0],
    ['sub', F.sub, 0],
    ['mul', F.mul, 0],
    ['div', F.div, 0.5],
  ];
  for (const [name, f, gap] of cases) {
    it(name, () => {
      fc.assert(
        fc.property(broadcastPair, fc.integer(), ([sa, sb], seed) => {
          expectOk(gradcheck(f, [values(sa, seed), values(sb, seed + 1, -2, 2, gap)]));
        }),
        RUNS,
      );
    });
  }
});

describe('unary ops', () => {
  const cases: Array<[string, (a: Tensor) => Tensor, number, number, number]> = [
    ['neg', F.neg, -2, 2, 0],
    ['exp', F.exp, -2, 2, 0],
    ['log', F.log, 0.2, 3, 0],
    ['sqrt', F.sqrt, 0.2, 3, 0],
    ['abs', F.abs, -2, 2, 0.05],
    ['relu', F.relu, -2, 2, 0.05],
    ['sigmoid', F.sigmoid, -4, 4, 0],
    ['tanh', F.tanh, -2, 2, 0],
    ['square', F.square, -2, 2, 0],
    ['pow 3', (a) => F.pow(a, 3), -2, 2, 0],
    ['pow -1.5', (a) => F.pow(a, -1.5), 0.5, 3, 0],
    ['pow 0.5', (a) => F.pow(a, 0.5), 0.3, 3, 0],
  ];
  for (const [name, f, lo, hi, gap] of cases) {
    it(name, () => {
      fc.assert(
        fc.property(shapeArb, fc.integer(), (s, seed) => {
          expectOk(gradcheck(f, [values(s, seed, lo, hi, gap)]));
        }),
        RUNS,
      );
    });
  }

  it('clamp (inputs away from the bounds)', () => {
    fc.assert(
      fc.property(shapeArb, fc.integer(), (s, seed) => {
        // values in ±[0.05, 2.05]; bounds at −1 and 1 shifted off the grid by 0.5 away from any value within h
        const x = values(s, seed, -2, 2, 0.05);
        for (let i = 0; i < x.size; i++) if (Math.abs(Math.abs(x.data[i]) - 1) < 0.05) x.data[i] *= 1.2;
        expectOk(gradcheck((a) => F.clamp(a, -1, 1), [x]));
      }),
      RUNS,
    );
  });
});

describe('matmul', () => {
  it('2-D, every transpose combination', () => {
    fc.assert(
      fc.property(dims, dims, dims, fc.boolean(), fc.boolean(), fc.integer(), (m, n, k, tA, tB, seed) => {
        const a = values(tA ? [k, m] : [m, k], seed);
        const b = values(tB ? [n, k] : [k, n], seed + 1);
        expectOk(gradcheck((x, y) => F.matmul(x, y, { transA: tA, transB: tB }), [a, b]));
      }),
      RUNS,
    );
  });

  it('batched with broadcast batch axes', () => {
    fc.assert(
      fc.property(broadcastPair, dims, dims, dims, fc.boolean(), fc.integer(), ([ba, bb], m, n, k, tB, seed) => {
        const a = values([...ba, m, k], seed);
        const b = values([...bb, ...(tB ? [n, k] : [k, n])], seed + 1);
        expectOk(gradcheck((x, y) => F.matmul(x, y, { transB: tB }), [a, b]));
      }),
      RUNS,
    );
  });
});

/** A shape of rank ≥ 1 and a random subset of its axes (possibly empty, possibly negative). */
const shapeAndAxes = fc
  .array(dims, { minLength: 1, maxLength: 4 })
  .chain((s) => fc.tuple(fc.constant(s), fc.subarray([...s.keys()]), fc.boolean(), fc.boolean()))
  .map(([s, axes, keepdim, negative]) => ({ s, axes: negative ? axes.map((a) => a - s.length) : axes, keepdim }));

describe('reductions', () => {
  it('sum, mean over any axes', () => {
    fc.assert(
      fc.property(shapeAndAxes, fc.integer(), ({ s, axes, keepdim }, seed) => {
        expectOk(gradcheck((a) => F.sum(a, axes, keepdim), [values(s, seed)]));
        expectOk(gradcheck((a) => F.mean(a, axes, keepdim), [values(s, seed)]));
      }),
      RUNS,
    );
  });

  it('max over any axes (distinct values)', () => {
    fc.assert(
      fc.property(shapeAndAxes, fc.integer(), ({ s, axes, keepdim }, seed) => {
        expectOk(gradcheck((a) => F.max(a, axes.length ? axes : undefined, keepdim), [distinct(s, seed)]));
      }),
      RUNS,
    );
  });

  it('variance and std (unbiased and biased)', () => {
    fc.assert(
      fc.property(shapeAndAxes, fc.integer(), fc.constantFrom(0, 1), ({ s, axes, keepdim }, seed, correction) => {
        const ax = axes.length ? axes : undefined;
        const n = ax === undefined ? s.reduce((a, b) => a * b, 1) : axes.reduce((p, a) => p * s.at(a)!, 1);
        fc.pre(n > correction + 1);
        // Distinct values 0.25 apart keep the standard deviation well away from √'s kink at 0.
        expectOk(gradcheck((a) => F.variance(a, ax, { keepdim, correction }), [distinct(s, seed)]));
        expectOk(gradcheck((a) => F.std(a, ax, { keepdim, correction }), [distinct(s, seed)]));
      }),
      RUNS,
    );
  });
});

describe('layout ops', () => {
  it('reshape, permute, transpose', () => {
    fc.assert(
      fc.property(fc.array(dims, { minLength: 1, maxLength: 4 }), fc.integer(), (s, seed) => {
        const x = values(s, seed);
        const order = new Rng(seed).shuffle([...s.keys()]);
        expectOk(gradcheck((a) => F.reshape(a, [-1]), [x]));
        expectOk(gradcheck((a) => F.permute(a, order), [x]));
        expectOk(gradcheck((a) => F.transpose(a, 0, -1), [x]));
      }),
      RUNS,
    );
  });

  it('concat and slice', () => {
    fc.assert(
      fc.property(fc.array(dims, { minLength: 1, maxLength: 3 }), fc.integer({ min: 0, max: 2 }), dims, fc.integer(), (s, axRaw, extra, seed) => {
        const ax = axRaw % s.length;
        const s2 = s.slice();
        s2[ax] = extra;
        expectOk(gradcheck((a, b) => F.concat([a, b, a], ax), [values(s, seed), values(s2, seed + 1)]));
        const start = Math.floor(s[ax] / 2);
        const ranges = s.map(() => null as [number, number] | null);
        ranges[ax] = [start, s[ax]];
        expectOk(gradcheck((a) => F.slice(a, ranges), [values(s, seed)]));
      }),
      RUNS,
    );
  });
});

describe('softmax family and losses', () => {
  it('softmax and logSoftmax along any axis', () => {
    fc.assert(
      fc.property(fc.array(dims, { minLength: 1, maxLength: 3 }), fc.integer(), fc.integer(), (s, axRaw, seed) => {
        const ax = Math.abs(axRaw) % s.length;
        expectOk(gradcheck((a) => F.softmax(a, ax), [values(s, seed)]));
        expectOk(gradcheck((a) => F.logSoftmax(a, ax), [values(s, seed)]));
      }),
      RUNS,
    );
  });

  it('crossEntropy', () => {
    fc.assert(
      fc.property(dims, fc.integer({ min: 1, max: 6 }), fc.integer(), (n, c, seed) => {
        const rng = new Rng(seed);
        const targets = Int32Array.from({ length: n }, () => rng.int(0, c));
        expectOk(gradcheck((z) => F.crossEntropy(z, targets), [values([n, c], seed, -3, 3)]));
      }),
      RUNS,
    );
  });

  it('mse', () => {
    fc.assert(
      fc.property(shapeArb, fc.integer(), (s, seed) => {
        expectOk(gradcheck(F.mse, [values(s, seed), values(s, seed + 1)]));
      }),
      RUNS,
    );
  });
});

describe('the checker itself', () => {
  it('rejects a deliberately wrong backward rule', () => {
    const saved = RULES.tanh.backward;
    // Wrong: forgets the square in 1 − tanh².
    RULES.tanh.backward = (g, { out }) => [K.mul(g, K.addScalar(K.neg(out), 1))];
    try {
      const r = gradcheck(F.tanh, [values([3, 4], 1)]);
      expect(r.ok).toBe(false);
    } finally {
      RULES.tanh.backward = saved;
    }
    expect(gradcheck(F.tanh, [values([3, 4], 1)]).ok).toBe(true);
  });
});
