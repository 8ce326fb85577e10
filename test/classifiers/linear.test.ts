import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LinearSVC, LogisticRegression, NearestCentroid, OptionError, RidgeClassifier, Rng, ShapeError, StandardScaler, Tensor } from '../../src/index';
import { sklearnData } from './sklearn-data';

function randomProblem(seed: number, n: number, f: number, k: number) {
  const rng = new Rng(seed);
  const x = Float32Array.from({ length: n * f }, () => rng.uniformRange(-2, 2));
  const y = Int32Array.from({ length: n }, (_, i) => (i < k ? i * 3 : 3 * rng.int(0, k)));
  return { x, y };
}

/** ±1 one-vs-all targets: one column (positive = second class) for two classes, else one per class. */
function targets(y: Int32Array, classes: number[]): number[][] {
  const R = classes.length === 2 ? 1 : classes.length;
  return Array.from(y, (v) => Array.from({ length: R }, (_, c) => ((R === 1 ? classes[1] : classes[c]) === v ? 1 : -1)));
}

describe('RidgeClassifier', () => {
  it('solves the normal equations (X_cᵀX_c + αI) W = X_cᵀY_c with b = μ_Y − μ_X·W', () => {
    fc.assert(
      fc.property(
        fc.record({
          seed: fc.integer({ min: 0, max: 1e6 }),
          n: fc.integer({ min: 2, max: 30 }),
          f: fc.integer({ min: 1, max: 8 }),
          k: fc.integer({ min: 2, max: 4 }),
          alpha: fc.double({ min: 0.05, max: 5, noNaN: true }),
          block: fc.integer({ min: 1, max: 7 }),
        }),
        ({ seed, n, f, k, alpha, block }) => {
          const { x, y } = randomProblem(seed, n, f, k);
          const model = new RidgeClassifier({ alpha, blockRows: block }).fit({ data: x, shape: [n, f] }, y);
          const classes = Array.from(model.classes);
          const T = targets(y, classes);
          const R = T[0].length;
          const muX = Array.from({ length: f }, (_, j) => Array.from({ length: n }, (_, i) => x[i * f + j]).reduce((a, v) => a + v, 0) / n);
          const muY = Array.from({ length: R }, (_, c) => T.reduce((a, t) => a + t[c], 0) / n);
          const W = model.coef;
          expect(W.shape).toEqual([R, f]);
          for (let c = 0; c < R; c++) {
            let scale = 0;
            for (let a = 0; a < f; a++) {
              // Row a of (X_cᵀX_c + αI) w_c − X_cᵀ y_c, in double.
              let lhs = alpha * W.data[c * f + a];
              let rhs = 0;
              for (let i = 0; i < n; i++) {
                const xa = x[i * f + a] - muX[a];
                let xw = 0;
                for (let b = 0; b < f; b++) xw += (x[i * f + b] - muX[b]) * W.data[c * f + b];
                lhs += xa * xw;
                rhs += xa * (T[i][c] - muY[c]);
              }
              scale = Math.max(scale, Math.abs(rhs), 1);
              expect(Math.abs(lhs - rhs)).toBeLessThan(1e-4 * scale);
            }
            const b = muY[c] - muX.reduce((a, m, j) => a + m * W.data[c * f + j], 0);
            expect(model.intercept[c]).toBeCloseTo(b, 5);
          }
        },
      ),
      { numRuns: 80 },
    );
  });

  it("matches scikit-learn 1.2.1's RidgeClassifier", () => {
    //   RidgeClassifier(alpha=0.7).fit(X, y)   # n, f, k = 60, 4, 3
    //   RidgeClassifier().fit(X2, y2)          # n, f, k = 40, 3, 2
    const coef3 = [1.1754637956619263, -0.8455678224563599, -0.9865567088127136, 0.6016268730163574, -0.1926107406616211, 1.740749716758728,
      -0.14845629036426544, -1.3308143615722656, -0.9828535914421082, -0.8951826691627502, 1.1350123882293701, 0.7291877269744873];
    const int3 = [-0.11681652069091797, -0.7564555406570435, -0.12672659754753113];
    const coef2 = [-1.1095632314682007, 0.8123818635940552, 0.9282532930374146];
    const int2 = [-0.18615978956222534];
    const a = sklearnData(60, 4, 3);
    const m3 = new RidgeClassifier({ alpha: 0.7 }).fit(a.X, a.y);
    coef3.forEach((v, i) => expect(m3.coef.data[i]).toBeCloseTo(v, 5));
    int3.forEach((v, i) => expect(m3.intercept[i]).toBeCloseTo(v, 5));
    const b = sklearnData(40, 3, 2);
    const m2 = new RidgeClassifier().fit(b.X, b.y);
    coef2.forEach((v, i) => expect(m2.coef.data[i]).toBeCloseTo(v, 5));
    int2.forEach((v, i) => expect(m2.intercept[i]).toBeCloseTo(v, 5));
    expect(Array.from(m2.predict(b.X))).toEqual(Array.from(m2.decisionFunction(b.X).data, (d) => (d > 0 ? 3 : 1)));
  });

  it('fails loudly on a singular system with alpha = 0 and on one class; zero-variance features are fine with alpha > 0', () => {
    const x = new Float32Array([1, 5, 2, 5, 3, 5, 4, 5]); // column 1 constant
    const y = Int32Array.of(0, 0, 1, 1);
    expect(() => new RidgeClassifier({ alpha: 0 }).fit({ data: x, shape: [4, 2] }, y)).toThrow(/not positive definite.*use α > 0/);
    const m = new RidgeClassifier().fit({ data: x, shape: [4, 2] }, y);
    expect(m.coef.data[1]).toBe(0);
    expect(m.score({ data: x, shape: [4, 2] }, y)).toBe(1);
    expect(() => new RidgeClassifier().fit({ data: x, shape: [4, 2] }, Int32Array.of(2, 2, 2, 2))).toThrow(/at least 2 classes/);
    expect(() => new RidgeClassifier({ alpha: -1 })).toThrow(OptionError);
  });
});

describe('LinearSVC', () => {
  it('reaches the primal optimum: ∇[½‖w̃‖² + C Σ max(0, 1 − y w̃·x̃)²] ≈ 0 per one-vs-rest problem', () => {
    for (const [k, C, s] of [[2, 1, 1], [3, 0.3, 1], [4, 2, 3]] as const) {
      const n = 50;
      const f = 4;
      const { x, y } = randomProblem(k * 10, n, f, k);
      const warnings: string[] = [];
      const m = new LinearSVC({ C, tol: 1e-8, maxIter: 20000, interceptScaling: s, onWarning: (w) => warnings.push(w) }).fit({ data: x, shape: [n, f] }, y);
      expect(warnings).toEqual([]);
      const T = targets(y, Array.from(m.classes));
      for (let c = 0; c < T[0].length; c++) {
        const w = [...Array.from(m.coef.data.subarray(c * f, (c + 1) * f)), m.intercept[c] / s];
        const grad = w.slice();
        for (let i = 0; i < n; i++) {
          const xt = [...Array.from(x.subarray(i * f, (i + 1) * f)), s];
          const margin = 1 - T[i][c] * xt.reduce((a, v, j) => a + v * w[j], 0);
          if (margin > 0) for (let j = 0; j <= f; j++) grad[j] -= 2 * C * margin * T[i][c] * xt[j];
        }
        for (const g of grad) expect(Math.abs(g)).toBeLessThan(1e-4);
      }
    }
  });

  it("matches scikit-learn 1.2.1's LinearSVC", () => {
    //   LinearSVC(C=0.5, tol=1e-9, max_iter=100000).fit(X, y)   # n, f, k = 60, 4, 3
    //   LinearSVC(tol=1e-9, max_iter=100000).fit(X2, y2)         # n, f, k = 40, 3, 2
    const coef3 = [1.313114195602025, -0.8231242758001159, -1.140237386807155, 0.4647125798924008, -0.2671333946162239, 1.7180803760305938,
      -0.2948645677888775, -1.4714789471156278, -1.0608543992216577, -0.9444946929865083, 1.2739472012939115, 0.6463431962297941];
    const int3 = [-0.1327161935582314, -0.5387746431090484, -0.12300812850660212];
    const coef2 = [-1.9653964566280486, 1.6048204245972806, 0.8991702021966186];
    const int2 = [-0.08897953400371131];
    const a = sklearnData(60, 4, 3);
    const m3 = new LinearSVC({ C: 0.5, tol: 1e-9, maxIter: 100000 }).fit(a.X, a.y);
    coef3.forEach((v, i) => expect(m3.coef.data[i]).toBeCloseTo(v, 5));
    int3.forEach((v, i) => expect(m3.intercept[i]).toBeCloseTo(v, 5));
    const b = sklearnData(40, 3, 2);
    const m2 = new LinearSVC({ tol: 1e-9, maxIter: 100000 }).fit(b.X, b.y);
    coef2.forEach((v, i) => expect(m2.coef.data[i]).toBeCloseTo(v, 5));
    int2.forEach((v, i) => expect(m2.intercept[i]).toBeCloseTo(v, 5));
  });

  it('separates separable data perfectly; warns when maxIter is reached; rejects one class', () => {
    const x = new Float32Array([0, 0, 0, 1, 5, 5, 5, 6, 10, 0, 10, 1]);
    const y = Int32Array.of(0, 0, 1, 1, 2, 2);
    expect(new LinearSVC().fit({ data: x, shape: [6, 2] }, y).score({ data: x, shape: [6, 2] }, y)).toBe(1);
    const warnings: string[] = [];
    const m = new LinearSVC({ maxIter: 1, tol: 1e-12, onWarning: (w) => warnings.push(w) }).fit({ data: x, shape: [6, 2] }, y);
    expect(m.nIter).toBe(1);
    expect(warnings[0]).toMatch(/ConvergenceWarning.*maxIter = 1/);
    expect(() => new LinearSVC().fit({ data: x, shape: [6, 2] }, new Int32Array(6))).toThrow(/at least 2 classes/);
  });
});

describe('LogisticRegression, LinearSVC and RidgeClassifier (shared linear base)', () => {
  const makers = [
    ['LogisticRegression', () => new LogisticRegression({ onWarning: () => {} })],
    ['LinearSVC', () => new LinearSVC({ onWarning: () => {} })],
    ['RidgeClassifier', () => new RidgeClassifier()],
  ] as const;

  it('decisionFunction is X·coefᵀ + intercept and predict its argmax (two classes: classes[1] where > 0)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 0, max: 1e6 }),
        fc.integer({ min: 2, max: 20 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 2, max: 4 }),
        fc.integer({ min: 0, max: 6 }),
        (which, seed, n, f, k, nq) => {
          const { x, y } = randomProblem(seed, n, f, k);
          const model = makers[which][1]().fit({ data: x, shape: [n, f] }, y);
          const classes = Array.from(model.classes);
          const R = classes.length === 2 ? 1 : classes.length;
          const W = model.coef;
          const b = model.intercept;
          expect(W.shape).toEqual([R, f]);
          expect(b.length).toBe(R);
          const q = new Rng(seed + 1);
          const xq = Float32Array.from({ length: nq * f }, () => q.uniformRange(-2, 2));
          const dec = model.decisionFunction({ data: xq, shape: [nq, f] });
          expect(dec.shape).toEqual([nq, R]);
          const pred = model.predict({ data: xq, shape: [nq, f] });
          expect(pred.length).toBe(nq);
          for (let i = 0; i < nq; i++) {
            let best = 0;
            for (let c = 0; c < R; c++) {
              let s = b[c];
              for (let j = 0; j < f; j++) s += xq[i * f + j] * W.data[c * f + j];
              expect(dec.data[i * R + c]).toBeCloseTo(s, 4);
              if (dec.data[i * R + c] > dec.data[i * R + best]) best = c;
            }
            expect(pred[i]).toBe(R === 1 ? classes[dec.data[i] > 0 ? 1 : 0] : classes[best]);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('names the concrete class when not fitted or given the wrong number of features', () => {
    const X = { data: Float32Array.of(0, 0, 1, 1, 3, 0), shape: [3, 2] };
    const y = Int32Array.of(0, 1, 1);
    for (const [name, make] of makers) {
      const m = make();
      expect(() => m.coef).toThrow(new RegExp(`^${name}\\.coef: the model is not fitted`));
      expect(() => m.intercept).toThrow(new RegExp(`^${name}\\.intercept: the model is not fitted`));
      expect(() => m.decisionFunction(X)).toThrow(new RegExp(`^${name}\\.decisionFunction: the model is not fitted`));
      expect(() => m.predict(X)).toThrow(ShapeError);
      expect(() => m.classes).toThrow(new RegExp(`^${name}\\.classes: the model is not fitted`));
      expect(() => m.fit({ data: new Float32Array(0), shape: [0, 2] }, new Int32Array(0))).toThrow(new RegExp(`^${name}\\.fit: expected at least one sample`));
      m.fit(X, y);
      expect(() => m.predict({ data: new Float32Array(3), shape: [1, 3] })).toThrow(new RegExp(`^${name}\\.decisionFunction: the model was fitted on 2 features, X has 3`));
    }
    expect(() => new LinearSVC().nIter).toThrow(/^LinearSVC\.nIter: the model is not fitted/);
  });
});

describe('NearestCentroid', () => {
  it('uses the class means and the nearest one, ties to the smaller label', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 2, max: 30 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 2, max: 4 }), (seed, n, f, k) => {
        const { x, y } = randomProblem(seed, n, f, k);
        const m = new NearestCentroid().fit(new Tensor(x, [n, f]), y);
        const classes = Array.from(m.classes);
        const means = classes.map((c) => {
          const rows = Array.from(y).flatMap((v, i) => (v === c ? [i] : []));
          return Array.from({ length: f }, (_, j) => rows.reduce((a, i) => a + x[i * f + j], 0) / rows.length);
        });
        means.flat().forEach((v, i) => expect(m.centroids.data[i]).toBeCloseTo(v, 5));
        const q = new Rng(seed + 1);
        const xq = Float32Array.from({ length: 5 * f }, () => q.uniformRange(-2, 2));
        const pred = m.predict({ data: xq, shape: [5, f] });
        for (let i = 0; i < 5; i++) {
          const d = means.map((mu) => mu.reduce((a, v, j) => a + (xq[i * f + j] - v) ** 2, 0));
          expect(pred[i]).toBe(classes[d.indexOf(Math.min(...d))]);
        }
      }),
      { numRuns: 60 },
    );
    // A point halfway between the centroids of labels 8 and 2 goes to 2.
    const m = new NearestCentroid().fit({ data: Float32Array.of(-1, 1), shape: [2, 1] }, Int32Array.of(8, 2));
    expect(Array.from(m.predict({ data: Float32Array.of(0), shape: [1, 1] }))).toEqual([2]);
    expect(() => new NearestCentroid().fit({ data: Float32Array.of(-1, 1), shape: [2, 1] }, Int32Array.of(8, 8))).toThrow(/at least 2 classes/);
  });
});

describe('StandardScaler', () => {
  it('gives columns of mean 0 and population std 1, leaves constant columns unscaled, and inverts', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 6 }), (seed, n, f) => {
        const rng = new Rng(seed);
        const x = Float32Array.from({ length: n * f }, (_, p) => (p % f === 0 ? 3.7 : rng.uniformRange(-5, 5)));
        const s = new StandardScaler().fit({ data: x, shape: [n, f] });
        const z = s.transform({ data: x, shape: [n, f] });
        for (let j = 0; j < f; j++) {
          const col = Array.from({ length: n }, (_, i) => x[i * f + j]);
          const mean = col.reduce((a, v) => a + v, 0) / n;
          const v = col.reduce((a, c) => a + (c - mean) ** 2, 0) / n;
          expect(s.mean[j]).toBeCloseTo(mean, 10);
          expect(s.var[j]).toBeCloseTo(v, 8);
          // Column 0 is constant (and every column is when n = 1): scale 1, values 0.
          if (j === 0 || n === 1) {
            expect(s.scale[j]).toBe(1);
            for (let i = 0; i < n; i++) expect(z.data[i * f + j]).toBe(0);
          } else {
            expect(s.scale[j]).toBeCloseTo(Math.sqrt(v), 8);
            const zc = Array.from({ length: n }, (_, i) => z.data[i * f + j]);
            expect(zc.reduce((a, c) => a + c, 0) / n).toBeCloseTo(0, 5);
            expect(zc.reduce((a, c) => a + c * c, 0) / n).toBeCloseTo(1, 5);
          }
        }
        const back = s.inverseTransform(z);
        x.forEach((v, p) => expect(back.data[p]).toBeCloseTo(v, 4));
      }),
      { numRuns: 60 },
    );
  });

  it('honours withMean / withStd and checks shapes', () => {
    const x = { data: Float32Array.of(1, 10, 3, 30), shape: [2, 2] };
    const s = new StandardScaler({ withMean: false }).fit(x);
    // Population stds are 1 and 10; without centring z = x / std.
    expect(Array.from(s.scale)).toEqual([1, 10]);
    expect(Array.from(s.transform(x).data)).toEqual([1, 1, 3, 3]);
    expect(Array.from(new StandardScaler({ withStd: false }).fitTransform(x).data)).toEqual([-1, -10, 1, 10]);
    expect(() => s.transform({ data: new Float32Array(3), shape: [1, 3] })).toThrow(ShapeError);
    expect(() => new StandardScaler().fit({ data: new Float32Array(0), shape: [0, 2] })).toThrow(/at least one sample/);
    expect(() => new StandardScaler().transform(x)).toThrow(/not fitted/);
  });
});
