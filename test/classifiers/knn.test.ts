import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KNN, OptionError, Rng, ShapeError, Tensor } from '../../src/index';

type Metric = 'euclidean' | 'cosine';

/** Exact distance in double, written independently of the GEMM path. */
function dist(q: Float32Array, qi: number, x: Float32Array, xi: number, f: number, metric: Metric): number {
  let dot = 0;
  let qq = 0;
  let xx = 0;
  let ss = 0;
  for (let p = 0; p < f; p++) {
    const a = q[qi * f + p];
    const b = x[xi * f + p];
    dot += a * b;
    qq += a * a;
    xx += b * b;
    ss += (a - b) * (a - b);
  }
  if (metric === 'euclidean') return Math.sqrt(ss);
  const cos = qq === 0 || xx === 0 ? 0 : dot / Math.sqrt(qq * xx);
  return Math.min(2, Math.max(0, 1 - cos));
}

/** Brute force: all distances, stable sort by (distance, index), first k. */
function bruteNeighbors(q: Float32Array, nq: number, x: Float32Array, n: number, f: number, k: number, metric: Metric) {
  const idx: number[][] = [];
  const d: number[][] = [];
  for (let i = 0; i < nq; i++) {
    const all = Array.from({ length: n }, (_, t) => ({ t, d: dist(q, i, x, t, f, metric) }));
    all.sort((a, b) => a.d - b.d || a.t - b.t);
    idx.push(all.slice(0, k).map((e) => e.t));
    d.push(all.slice(0, k).map((e) => e.d));
  }
  return { idx, d };
}

/** Reference vote: weights from the brute-force neighbours; argmax with ties to the smaller label. */
function bruteProba(nb: { idx: number[][]; d: number[][] }, y: Int32Array, classes: number[], weights: 'uniform' | 'distance' | { temperature: number }) {
  return nb.idx.map((row, i) => {
    const votes = classes.map(() => 0);
    const ds = nb.d[i];
    const anyZero = ds.some((v) => v === 0);
    row.forEach((t, a) => {
      let w: number;
      if (weights === 'uniform') w = 1;
      else if (weights === 'distance') w = anyZero ? (ds[a] === 0 ? 1 : 0) : 1 / ds[a];
      else w = Math.exp((1 - ds[a]) / weights.temperature);
      votes[classes.indexOf(y[t])] += w;
    });
    const s = votes.reduce((p, v) => p + v, 0);
    return votes.map((v) => v / s);
  });
}

function argmaxFirst(v: number[]): number {
  let b = 0;
  for (let c = 1; c < v.length; c++) if (v[c] > v[b]) b = c;
  return b;
}

/**
 * Random small-integer data with deliberate ties: every third training row duplicates an
 * earlier one, and some queries copy a training row. For cosine, every row is a permutation of
 * the same values (all norms equal), so cosine order equals the exact integer dot-product order
 * and ties are exact.
 */
function tiedData(seed: number, n: number, nq: number, f: number, metric: Metric) {
  const rng = new Rng(seed);
  const base = Array.from({ length: f }, () => rng.int(-3, 4));
  if (!base.some((v) => v !== 0)) base[0] = 1;
  const row = (): number[] => (metric === 'cosine' ? rng.shuffle(base.slice()) : Array.from({ length: f }, () => rng.int(-3, 4)));
  const x = new Float32Array(n * f);
  for (let i = 0; i < n; i++) {
    const r = i % 3 === 2 ? Array.from(x.subarray((i - 2) * f, (i - 1) * f)) : row();
    x.set(r, i * f);
  }
  const q = new Float32Array(nq * f);
  for (let i = 0; i < nq; i++) {
    if (i % 2 === 0) q.set(x.subarray((i % n) * f, (i % n + 1) * f), i * f);
    else q.set(row(), i * f);
  }
  const y = Int32Array.from({ length: n }, () => [2, 5, 9][rng.int(0, 3)]);
  return { x, q, y };
}

describe('KNN', () => {
  it('finds the same neighbours as a brute-force loop, ties to the lower index, across block sizes', () => {
    fc.assert(
      fc.property(
        fc.record({
          seed: fc.integer({ min: 0, max: 1e6 }),
          n: fc.integer({ min: 1, max: 40 }),
          nq: fc.integer({ min: 1, max: 12 }),
          f: fc.integer({ min: 1, max: 7 }),
          k: fc.integer({ min: 1, max: 8 }),
          qb: fc.integer({ min: 1, max: 9 }),
          tb: fc.integer({ min: 1, max: 17 }),
          metric: fc.constantFrom<Metric>('euclidean', 'cosine'),
        }),
        ({ seed, n, nq, f, k, qb, tb, metric }) => {
          k = Math.min(k, n);
          const { x, q, y } = tiedData(seed, n, nq, f, metric);
          const knn = new KNN({ k, metric, queryBlock: qb, trainBlock: tb }).fit({ data: x, shape: [n, f] }, y);
          const got = knn.kneighbors({ data: q, shape: [nq, f] });
          const ref = bruteNeighbors(q, nq, x, n, f, k, metric);
          expect(Array.from(got.indices)).toEqual(ref.idx.flat());
          const dRef = ref.d.flat();
          got.distances.forEach((v, i) => expect(v).toBeCloseTo(dRef[i], 12));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('votes like the reference for uniform, distance and temperature weights, vote ties to the smaller label', () => {
    fc.assert(
      fc.property(
        fc.record({
          seed: fc.integer({ min: 0, max: 1e6 }),
          n: fc.integer({ min: 2, max: 30 }),
          nq: fc.integer({ min: 1, max: 10 }),
          f: fc.integer({ min: 1, max: 5 }),
          k: fc.integer({ min: 1, max: 6 }),
          w: fc.constantFrom('uniform', 'distance', 'temperature'),
          metric: fc.constantFrom<Metric>('euclidean', 'cosine'),
        }),
        ({ seed, n, nq, f, k, w, metric }) => {
          k = Math.min(k, n);
          if (w === 'temperature') metric = 'cosine';
          const weights = w === 'temperature' ? { temperature: 0.1 } : (w as 'uniform' | 'distance');
          const { x, q, y } = tiedData(seed, n, nq, f, metric);
          const knn = new KNN({ k, metric, weights, queryBlock: 4, trainBlock: 7 }).fit({ data: x, shape: [n, f] }, y);
          const classes = Array.from(knn.classes);
          const proba = bruteProba(bruteNeighbors(q, nq, x, n, f, k, metric), y, classes, weights);
          const got = knn.predictProba({ data: q, shape: [nq, f] });
          expect(got.shape).toEqual([nq, classes.length]);
          proba.flat().forEach((p, i) => expect(got.data[i]).toBeCloseTo(p, 5));
          const pred = knn.predict({ data: q, shape: [nq, f] });
          // Exact vote ties only occur with uniform weights; there the first maximum must win.
          if (w === 'uniform') expect(Array.from(pred)).toEqual(proba.map((p) => classes[argmaxFirst(p)]));
          else pred.forEach((c, i) => expect(proba[i][classes.indexOf(c)]).toBeCloseTo(Math.max(...proba[i]), 6));
        },
      ),
      { numRuns: 100 },
    );
  });

  it("gives neighbours at distance 0 all the weight with weights 'distance' (scikit-learn's rule)", () => {
    // Training: a point of class 1 at the origin and two class-0 points near the query.
    const x = new Float32Array([0, 0, 1, 0, 0, 1]);
    const y = Int32Array.of(1, 0, 0);
    const knn = new KNN({ k: 3, weights: 'distance' }).fit({ data: x, shape: [3, 2] }, y);
    // The query equals the class-1 point: 1/0 would be infinite; it gets weight 1, the others 0.
    expect(Array.from(knn.predictProba({ data: new Float32Array([0, 0]), shape: [1, 2] }).data)).toEqual([0, 1]);
    // A query at (0.5, 0.5): distances √0.5, √0.5, √0.5 → equal weights, 2 votes to 1 for class 0.
    const p = knn.predictProba({ data: new Float32Array([0.5, 0.5]), shape: [1, 2] }).data;
    expect(p[0]).toBeCloseTo(2 / 3, 6);
  });

  it('breaks a vote tie toward the smaller label and a distance tie toward the lower index', () => {
    // Four training points at distance 1 from the origin, labels 7, 3, 3, 7: k = 2 takes indices 0 and 1.
    const x = new Float32Array([1, 0, 0, 1, -1, 0, 0, -1]);
    const knn = new KNN({ k: 2 }).fit({ data: x, shape: [4, 2] }, Int32Array.of(7, 3, 3, 7));
    const nb = knn.kneighbors({ data: new Float32Array([0, 0]), shape: [1, 2] });
    expect(Array.from(nb.indices)).toEqual([0, 1]);
    expect(Array.from(knn.predict({ data: new Float32Array([0, 0]), shape: [1, 2] }))).toEqual([3]);
  });

  it('treats a zero vector as cosine similarity 0 (distance 1), as scikit-learn', () => {
    const x = new Float32Array([0, 0, 3, 4, -3, -4]);
    const knn = new KNN({ k: 3, metric: 'cosine' }).fit({ data: x, shape: [3, 2] }, Int32Array.of(0, 1, 2));
    const nb = knn.kneighbors({ data: new Float32Array([6, 8]), shape: [1, 2] });
    expect(Array.from(nb.indices)).toEqual([1, 0, 2]);
    expect(Array.from(nb.distances)).toEqual([0, 1, 2]);
  });

  it('classifies separable clusters perfectly and accepts a Tensor', () => {
    const rng = new Rng(3);
    const n = 90;
    const x = new Float32Array(n * 3);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = i % 3;
      for (let j = 0; j < 3; j++) x[i * 3 + j] = (j === y[i] ? 10 : 0) + rng.uniformRange(-1, 1);
    }
    const X = new Tensor(x, [n, 3]);
    for (const metric of ['euclidean', 'cosine'] as const) {
      expect(new KNN({ k: 7, metric }).fit(X, y).score(X, y)).toBe(1);
    }
  });

  it('rejects bad options and inputs loudly', () => {
    const X = { data: new Float32Array(6), shape: [3, 2] };
    const y = Int32Array.of(0, 1, 1);
    expect(() => new KNN({ k: 4 }).fit(X, y)).toThrow(/k = 4 .*only 3 training rows/);
    expect(() => new KNN({ k: 0 })).toThrow(OptionError);
    expect(() => new KNN({ weights: { temperature: 0.1 } })).toThrow(/needs metric 'cosine'/);
    expect(() => new KNN({ metric: 'manhattan' as 'cosine' })).toThrow(OptionError);
    expect(() => new KNN({ metric: 'cosine', weights: { temperature: 0 } })).toThrow(OptionError);
    expect(() => new KNN().fit({ data: Float32Array.of(1, NaN, 0, 0, 0, 0), shape: [3, 2] }, y)).toThrow(/finite, got NaN at row 0, column 1/);
    const knn = new KNN({ k: 1 }).fit(X, y);
    expect(() => knn.predict({ data: new Float32Array(3), shape: [1, 3] })).toThrow(ShapeError);
    expect(() => knn.predict({ data: Float32Array.of(Infinity, 0), shape: [1, 2] })).toThrow(OptionError);
    expect(() => new KNN().kneighbors(X)).toThrow(/not fitted/);
    expect(() => knn.score(X, Int32Array.of(0, 1))).toThrow(ShapeError);
    expect(() => new KNN().fit(X, Int32Array.of(0, -1, 1))).toThrow(/non-negative/);
    // An empty query batch gives empty results.
    expect(knn.predict({ data: new Float32Array(0), shape: [0, 2] }).length).toBe(0);
  });

  it('copy: false (the rows are not copied) finds the same neighbours and votes as a copy', () => {
    const rng = new Rng(4);
    const x = Float32Array.from({ length: 40 * 5 }, () => rng.normal());
    const y = Int32Array.from({ length: 40 }, (_, i) => i % 3);
    const q = { data: Float32Array.from({ length: 9 * 5 }, () => rng.normal()), shape: [9, 5] };
    for (const metric of ['euclidean', 'cosine'] as const) {
      const copied = new KNN({ k: 4, metric, weights: 'distance' }).fit({ data: x, shape: [40, 5] }, y);
      const shared = new KNN({ k: 4, metric, weights: 'distance', copy: false }).fit({ data: x, shape: [40, 5] }, y);
      expect(Array.from(shared.kneighbors(q).indices)).toEqual(Array.from(copied.kneighbors(q).indices));
      expect(Array.from(shared.predictProba(q).data)).toEqual(Array.from(copied.predictProba(q).data));
    }
    expect(() => new KNN({ copy: 'no' as unknown as boolean })).toThrow(/copy must be true or false/);
  });

  it('handles one class and duplicate points (all neighbours agree)', () => {
    const x = new Float32Array([1, 1, 1, 1, 1, 1]);
    const knn = new KNN({ k: 3, weights: 'distance' }).fit({ data: x, shape: [3, 2] }, Int32Array.of(4, 4, 4));
    expect(Array.from(knn.classes)).toEqual([4]);
    expect(Array.from(knn.predict({ data: new Float32Array([1, 1, 5, 5]), shape: [2, 2] }))).toEqual([4, 4]);
    expect(Array.from(knn.predictProba({ data: new Float32Array([1, 1]), shape: [1, 2] }).data)).toEqual([1]);
  });
});
