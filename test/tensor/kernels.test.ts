/** Raw kernels against reference loops over multi-indices, on random shapes including size-1 and empty dimensions. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../src/errors';
import { Rng, Tensor } from '../../src/index';
import * as K from '../../src/tensor';
import { firstMismatch, randomTensor, ravel, readBroadcast, size, unravel } from '../helpers/reference';

const dim0 = fc.integer({ min: 0, max: 4 });
const dim1 = fc.integer({ min: 1, max: 5 });
const shapeArb = fc.array(dim0, { minLength: 0, maxLength: 4 });

const broadcastPair = fc.array(dim1, { minLength: 0, maxLength: 4 }).chain((s) =>
  fc.tuple(fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length }), fc.integer({ min: 0, max: s.length }), fc.boolean()).map(([ones, drop, swap]) => {
    const t = s.map((d, i) => (ones[i] ? 1 : d)).slice(drop);
    return swap ? ([t, s] as const) : ([s, t] as const);
  }),
);

function expectClose(got: Tensor, want: ArrayLike<number>, shape: readonly number[], rtol = 1e-5, atol = 1e-6): void {
  expect(got.shape).toEqual(shape);
  const i = firstMismatch(got.data, want, rtol, atol);
  expect(i, i >= 0 ? `element ${i}: ${got.data[i]} vs ${want[i]}` : '').toBe(-1);
}

describe('broadcasting binary ops', () => {
  const ops: Array<[string, (a: Tensor, b: Tensor) => Tensor, (x: number, y: number) => number]> = [
    ['add', K.add, (x, y) => x + y],
    ['sub', K.sub, (x, y) => x - y],
    ['mul', K.mul, (x, y) => x * y],
    ['div', K.div, (x, y) => x / y],
    ['maximum', K.maximum, (x, y) => Math.max(x, y)],
    ['minimum', K.minimum, (x, y) => Math.min(x, y)],
    ['gt', K.gt, (x, y) => (x > y ? 1 : 0)],
    ['eq', K.eq, (x, y) => (x === y ? 1 : 0)],
  ];
  it('match a reference loop over the broadcast result', () => {
    fc.assert(
      fc.property(broadcastPair, fc.integer(), ([sa, sb], seed) => {
        const a = randomTensor(sa, seed);
        const b = randomTensor(sb, seed + 1);
        const n = Math.max(sa.length, sb.length);
        const outShape = Array.from({ length: n }, (_, i) => {
          const da = sa[i - (n - sa.length)] ?? 1;
          const db = sb[i - (n - sb.length)] ?? 1;
          return Math.max(da, db);
        });
        for (const [, f, ref] of ops) {
          const want = Array.from({ length: size(outShape) }, (_, i) => {
            const idx = unravel(i, outShape);
            return Math.fround(ref(readBroadcast(a, idx), readBroadcast(b, idx)));
          });
          expectClose(f(a, b), want, outShape, 0, 0);
        }
      }),
    );
  });

  it('handle empty dimensions', () => {
    const a = K.zeros([0, 3]);
    expect(K.add(a, K.ones([3])).shape).toEqual([0, 3]);
    expect(K.mul(K.ones([2, 1, 4]), K.zeros([0, 1])).shape).toEqual([2, 0, 4]);
  });

  it('where broadcasts condition and both branches', () => {
    fc.assert(
      fc.property(broadcastPair, fc.integer(), ([sa, sb], seed) => {
        const c = K.gt(randomTensor(sa, seed), K.zeros([]));
        const a = randomTensor(sa, seed + 1);
        const b = randomTensor(sb, seed + 2);
        const out = K.where(c, a, b);
        const want = Array.from({ length: out.size }, (_, i) => {
          const idx = unravel(i, out.shape);
          return readBroadcast(c, idx) !== 0 ? readBroadcast(a, idx) : readBroadcast(b, idx);
        });
        expectClose(out, want, out.shape, 0, 0);
      }),
    );
  });

  it('throws a ShapeError naming the op and both shapes', () => {
    expect(() => K.add(K.zeros([2, 3]), K.zeros([4]))).toThrow(/add: shapes \[2, 3\] and \[4\] do not broadcast/);
    expect(() => K.mul(K.zeros([2, 3]), K.zeros([3, 3]))).toThrow(ShapeError);
  });
});

describe('unary maps', () => {
  it('match Math on every element, sigmoid stable at the extremes', () => {
    const x = new Tensor(Float32Array.of(-1e4, -30, -1, -0, 0, 0.5, 2, 30, 1e4), [9]);
    const cases: Array<[(t: Tensor) => Tensor, (v: number) => number]> = [
      [K.neg, (v) => -v],
      [K.exp, Math.exp],
      [K.abs, Math.abs],
      [K.tanh, Math.tanh],
      [K.relu, (v) => (v > 0 ? v : 0)],
      [K.sigmoid, (v) => 1 / (1 + Math.exp(-v))],
      [(t) => K.clamp(t, -1, 1), (v) => Math.min(1, Math.max(-1, v))],
      [(t) => K.powScalar(t, 3), (v) => v ** 3],
    ];
    for (const [f, ref] of cases) expectClose(f(x), Array.from(x.data, (v) => Math.fround(ref(v))), [9], 1e-6, 0);
    const s = K.sigmoid(x).data;
    expect(s[0]).toBe(0);
    expect(s[8]).toBe(1);
  });
});

/** A shape of rank ≥ 1 (dims may be 0) and a subset of its axes. */
const shapeAndAxes = fc
  .array(dim0, { minLength: 1, maxLength: 4 })
  .chain((s) => fc.tuple(fc.constant(s), fc.subarray([...s.keys()]), fc.boolean()))
  .map(([s, axes, keepdim]) => ({ s, axes, keepdim }));

function referenceReduce(a: Tensor, axes: number[], keepdim: boolean, init: number, step: (acc: number, v: number) => number) {
  const outShape = a.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const acc = new Array(size(outShape)).fill(init);
  const counts = new Array(size(outShape)).fill(0);
  for (let i = 0; i < a.size; i++) {
    const idx = unravel(i, a.shape).map((v, d) => (axes.includes(d) ? 0 : v));
    const o = ravel(idx, outShape);
    acc[o] = step(acc[o], a.data[i]);
    counts[o]++;
  }
  return { acc, counts, shape: keepdim ? outShape : a.shape.filter((_, i) => !axes.includes(i)) };
}

describe('reductions', () => {
  it('sum, mean, max, min and variance over any set of axes', () => {
    fc.assert(
      fc.property(shapeAndAxes, fc.integer(), ({ s, axes, keepdim }, seed) => {
        const a = randomTensor(s, seed);
        const r = referenceReduce(a, axes, keepdim, 0, (acc, v) => acc + v);
        expectClose(K.sum(a, axes, keepdim), r.acc, r.shape, 1e-5, 1e-5);
        expectClose(
          K.mean(a, axes, keepdim),
          r.acc.map((v, i) => v / r.counts[i]),
          r.shape,
          1e-5,
          1e-5,
        );
        const mean = r.acc.map((v, i) => v / r.counts[i]);
        const ss = referenceReduce(a, axes, keepdim, 0, () => 0);
        for (let i = 0; i < a.size; i++) {
          const o = ravel(
            unravel(i, a.shape).map((v, d) => (axes.includes(d) ? 0 : v)),
            s.map((d, j) => (axes.includes(j) ? 1 : d)),
          );
          ss.acc[o] += (a.data[i] - mean[o]) ** 2;
        }
        expectClose(K.variance(a, axes, keepdim, 1), ss.acc.map((v, i) => (r.counts[i] > 1 ? v / (r.counts[i] - 1) : NaN)), r.shape, 1e-4, 1e-5);
        if (a.size > 0 && axes.every((d) => s[d] > 0)) {
          const mx = referenceReduce(a, axes, keepdim, -Infinity, Math.max);
          expectClose(K.max(a, axes, keepdim), mx.acc, mx.shape, 0, 0);
          const mn = referenceReduce(a, axes, keepdim, Infinity, Math.min);
          expectClose(K.min(a, axes, keepdim), mn.acc, mn.shape, 0, 0);
        }
      }),
    );
  });

  it('reduces everything by default; sums in double precision', () => {
    const big = K.full([1_000_000], 0.1);
    // float32 accumulation would drift by ~1 %; double accumulation keeps 1e5 to float32 precision.
    expect(K.sum(big).item()).toBeCloseTo(Math.fround(0.1) * 1e6, 1);
    expect(K.sum(K.zeros([0, 3]), 0).toArray()).toEqual([0, 0, 0]);
  });

  it('argmax and max pick the first maximal element; NaN propagates', () => {
    const a = new Tensor(Float32Array.of(1, 3, 3, 2, 5, 5, 5, 0), [2, 4]);
    expect([...K.argmax(a, 1)]).toEqual([1, 0]);
    expect([...K.maxWithIndex(a, 1).index]).toEqual([1, 0]);
    const n = new Tensor(Float32Array.of(1, NaN, 3), [3]);
    expect(K.max(n).item()).toBeNaN();
  });

  it('rejects bad axes', () => {
    expect(() => K.sum(K.zeros([2, 3]), 2)).toThrow(/axis 2 is out of range/);
    expect(() => K.sum(K.zeros([2, 3]), [0, -2])).toThrow(/appears twice/);
    expect(() => K.max(K.zeros([2, 0]), 1)).toThrow(ShapeError);
  });
});

describe('layout', () => {
  it('permute matches index arithmetic', () => {
    fc.assert(
      fc.property(shapeArb, fc.integer(), (s, seed) => {
        const a = randomTensor(s, seed);
        const order = new Rng(seed).shuffle([...s.keys()]);
        const p = K.permute(a, order);
        const outShape = order.map((d) => s[d]);
        const want = Array.from({ length: a.size }, (_, i) => {
          const idx = unravel(i, outShape);
          const src = new Array(s.length);
          order.forEach((d, j) => (src[d] = idx[j]));
          return a.data[ravel(src, s)];
        });
        expectClose(p, want, outShape, 0, 0);
      }),
    );
  });

  it('reshape infers one −1 and rejects wrong sizes', () => {
    const a = K.arange(12);
    expect(K.reshape(a, [3, -1]).shape).toEqual([3, 4]);
    expect(K.reshape(K.zeros([0, 4]), [-1, 2]).shape).toEqual([0, 2]);
    expect(() => K.reshape(a, [5, -1])).toThrow(/cannot infer -1/);
    expect(() => K.reshape(a, [-1, -1])).toThrow(/only one dimension may be -1/);
    expect(() => K.reshape(a, [5, 2])).toThrow(/12 elements/);
    expect(() => K.reshape(a, [2.5, 4])).toThrow(ShapeError);
  });

  it('concat then slice gives the pieces back', () => {
    fc.assert(
      fc.property(fc.array(dim0, { minLength: 1, maxLength: 3 }), dim0, fc.nat(), fc.integer(), (s, extra, axRaw, seed) => {
        const ax = axRaw % s.length;
        const s2 = s.slice();
        s2[ax] = extra;
        const a = randomTensor(s, seed);
        const b = randomTensor(s2, seed + 1);
        const c = K.concat([a, b], ax);
        const ra: Array<[number, number] | null> = s.map(() => null);
        ra[ax] = [0, s[ax]];
        const rb: Array<[number, number] | null> = s.map(() => null);
        rb[ax] = [s[ax], s[ax] + extra];
        expectClose(K.slice(c, ra), a.data, s, 0, 0);
        expectClose(K.slice(c, rb), b.data, s2, 0, 0);
      }),
    );
  });

  it('slice matches index arithmetic and refuses out-of-range ranges', () => {
    const a = randomTensor([3, 4, 5], 1);
    const s = K.slice(a, [[1, 3], null, [-3]]);
    const want: number[] = [];
    for (let i = 1; i < 3; i++) for (let j = 0; j < 4; j++) for (let k = 2; k < 5; k++) want.push(a.data[ravel([i, j, k], [3, 4, 5])]);
    expectClose(s, want, [2, 4, 3], 0, 0);
    expect(() => K.slice(a, [[0, 4]])).toThrow(/outside axis 0 of size 3/);
    expect(() => K.slice(a, [[2, 1]])).toThrow(ShapeError);
  });

  it('indexSelect, gather and broadcastTo', () => {
    const a = randomTensor([3, 4], 2);
    const sel = K.indexSelect(a, 1, [3, 0, -1]);
    expect(sel.shape).toEqual([3, 3]);
    for (let i = 0; i < 3; i++) {
      expect(sel.data[i * 3]).toBe(a.data[i * 4 + 3]);
      expect(sel.data[i * 3 + 1]).toBe(a.data[i * 4]);
      expect(sel.data[i * 3 + 2]).toBe(a.data[i * 4 + 3]);
    }
    expect(() => K.indexSelect(a, 0, [3])).toThrow(/index 3 is out of range/);
    const g = K.gather(a, 1, Int32Array.of(2, 1, 0), [3, 1]);
    expect([...g.data]).toEqual([a.data[2], a.data[5], a.data[8]]);
    const b = K.broadcastTo(K.tensor([[1], [2]]), [3, 2, 2]);
    expect(b.toArray()).toEqual([[[1, 1], [2, 2]], [[1, 1], [2, 2]], [[1, 1], [2, 2]]]);
    expect(() => K.broadcastTo(K.zeros([2, 2]), [2])).toThrow(ShapeError);
  });

  it('broadcastTo equals reading each output element through the broadcast index, for random shapes', () => {
    const cases = fc.record({
      target: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 4 }),
      drop: fc.integer({ min: 0, max: 4 }),
      ones: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
      seed: fc.integer(),
    });
    fc.assert(
      fc.property(cases, ({ target, drop, ones, seed }) => {
        // The source: the target without some leading axes, some axes set to 1.
        const source = target.slice(Math.min(drop, target.length)).map((d, i) => (ones[i] ? 1 : d));
        const a = randomTensor(source, seed);
        const out = K.broadcastTo(a, target);
        expect(out.shape).toEqual(target);
        const want = Array.from({ length: size(target) }, (_, o) => readBroadcast(a, unravel(o, target)));
        expect(firstMismatch(out.data, want, 0, 0)).toBe(-1);
      }),
      { numRuns: 300 },
    );
  });

  it('sumTo undoes broadcasting by summation', () => {
    const g = K.ones([2, 3, 4]);
    expect(K.sumTo(g, [3, 1]).toArray()).toEqual([[8], [8], [8]]);
    expect(K.sumTo(g, []).item()).toBe(24);
  });
});

describe('matmul', () => {
  it('matches a reference loop, batched with broadcasting, every transpose combination, empty dims', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
        fc.boolean(),
        dim0,
        dim0,
        dim0,
        fc.boolean(),
        fc.boolean(),
        fc.integer(),
        (batch, dropB, m, n, k, tA, tB, seed) => {
          const bb = dropB ? [] : batch;
          const a = randomTensor([...batch, ...(tA ? [k, m] : [m, k])], seed);
          const b = randomTensor([...bb, ...(tB ? [n, k] : [k, n])], seed + 1);
          const out = K.matmul(a, b, { transA: tA, transB: tB });
          const outShape = [...batch, m, n];
          const nb = size(batch);
          const want = new Float64Array(size(outShape));
          for (let q = 0; q < nb; q++) {
            const qb = dropB ? 0 : q;
            for (let i = 0; i < m; i++)
              for (let j = 0; j < n; j++) {
                let s = 0;
                for (let p = 0; p < k; p++) {
                  const av = a.data[q * m * k + (tA ? p * m + i : i * k + p)];
                  const bv = b.data[qb * k * n + (tB ? j * k + p : p * n + j)];
                  s += av * bv;
                }
                want[q * m * n + i * n + j] = s;
              }
          }
          expectClose(out, want, outShape, 1e-5, 1e-5);
        },
      ),
    );
  });

  it('names both shapes when inner dimensions differ', () => {
    expect(() => K.matmul(K.zeros([2, 3]), K.zeros([4, 5]))).toThrow(/matmul: inner dimensions differ: \[2, 3\] · \[4, 5\]/);
    expect(() => K.matmul(K.zeros([3]), K.zeros([3, 1]))).toThrow(ShapeError);
  });
});

describe('creation', () => {
  it('tensor, zeros, ones, full, arange, eye', () => {
    expect(K.tensor([[1, 2, 3], [4, 5, 6]]).shape).toEqual([2, 3]);
    expect(K.tensor(2.5).shape).toEqual([]);
    expect(K.tensor(2.5).item()).toBe(2.5);
    expect(K.tensor([1, 2, 3, 4], [2, 2]).toArray()).toEqual([[1, 2], [3, 4]]);
    expect(K.tensor(Int32Array.of(1, 2)).data).toEqual(Float32Array.of(1, 2));
    expect(() => K.tensor([[1, 2], [3]])).toThrow(/ragged/);
    expect(() => K.tensor([1, 2, 3], [2, 2])).toThrow(/holds 4 elements but the data has 3/);
    expect(K.full([2], 7).toArray()).toEqual([7, 7]);
    expect(K.arange(5).toArray()).toEqual([0, 1, 2, 3, 4]);
    expect(K.arange(1, 2, 0.25).toArray()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(K.eye(2, 3).toArray()).toEqual([[1, 0, 0], [0, 1, 0]]);
    expect(() => K.zeros([2, -1])).toThrow(/non-negative integers/);
    expect(() => K.zeros([1.5])).toThrow(ShapeError);
    expect(() => K.ones([2]).item()).toThrow(/one element/);
  });
});
