import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LogisticRegression, OptionError, Rng, ShapeError, minimizeLbfgs } from '../../src/index';
import { LogisticObjective } from '../../src/classifiers/logistic';
import { sklearnData } from './sklearn-data';

/**
 * scikit-learn's objective written out in double: Σ_i [log Σ_c e^{z_ic} − z_{i,y_i}] + ½‖W‖²/C
 * (multinomial, R = K classes) or Σ_i [log(1 + e^{z_i}) − [y_i = 1] z_i] + ½‖w‖²/C (R = 1).
 * theta = [W (R×F) row-major, b (R)], y = class indices.
 */
function refObjective(x: Float32Array, y: Int32Array, n: number, f: number, R: number, C: number, theta: Float64Array): number {
  let J = 0;
  for (let i = 0; i < n; i++) {
    const z: number[] = [];
    for (let c = 0; c < R; c++) {
      let s = theta[R * f + c];
      for (let j = 0; j < f; j++) s += theta[c * f + j] * x[i * f + j];
      z.push(s);
    }
    if (R === 1) J += Math.log(1 + Math.exp(z[0])) - (y[i] === 1 ? z[0] : 0);
    else J += Math.log(z.reduce((a, v) => a + Math.exp(v), 0)) - z[y[i]];
  }
  for (let p = 0; p < R * f; p++) J += (0.5 * theta[p] * theta[p]) / C;
  return J;
}

function randomProblem(seed: number, n: number, f: number, k: number) {
  const rng = new Rng(seed);
  const x = Float32Array.from({ length: n * f }, () => rng.uniformRange(-1, 1));
  const y = Int32Array.from({ length: n }, (_, i) => (i < k ? i : rng.int(0, k)));
  return { x, y };
}

describe('minimizeLbfgs', () => {
  it('finds the minimum (1, 1) of the Rosenbrock function', () => {
    const r = minimizeLbfgs(
      (x, g) => {
        const [a, b] = x;
        g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
        g[1] = 200 * (b - a * a);
        return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
      },
      Float64Array.of(-1.2, 1),
      { maxIter: 200, gtol: 1e-9, ftol: 0 },
    );
    expect(r.stop).toBe('gtol');
    expect(r.x[0]).toBeCloseTo(1, 6);
    expect(r.x[1]).toBeCloseTo(1, 6);
  });

  it('minimises a random convex quadratic to its closed-form solution A⁻¹b', () => {
    // f(x) = ½xᵀAx − bᵀx with A = MᵀM + I (2×2); solution by Cramer's rule.
    fc.assert(
      fc.property(fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 6, maxLength: 6 }), (v) => {
        const [m00, m01, m10, m11, b0, b1] = v;
        const a00 = m00 * m00 + m10 * m10 + 1;
        const a01 = m00 * m01 + m10 * m11;
        const a11 = m01 * m01 + m11 * m11 + 1;
        const r = minimizeLbfgs(
          (x, g) => {
            g[0] = a00 * x[0] + a01 * x[1] - b0;
            g[1] = a01 * x[0] + a11 * x[1] - b1;
            return 0.5 * (a00 * x[0] * x[0] + 2 * a01 * x[0] * x[1] + a11 * x[1] * x[1]) - b0 * x[0] - b1 * x[1];
          },
          new Float64Array(2),
          { maxIter: 100, gtol: 1e-10, ftol: 0 },
        );
        const det = a00 * a11 - a01 * a01;
        expect(r.x[0]).toBeCloseTo((a11 * b0 - a01 * b1) / det, 6);
        expect(r.x[1]).toBeCloseTo((a00 * b1 - a01 * b0) / det, 6);
      }),
      { numRuns: 50 },
    );
  });
});

describe('LogisticRegression objective', () => {
  it('equals the written-out objective and its gradient matches central finite differences', () => {
    fc.assert(
      fc.property(
        fc.record({
          seed: fc.integer({ min: 0, max: 1e6 }),
          n: fc.integer({ min: 1, max: 25 }),
          f: fc.integer({ min: 1, max: 6 }),
          k: fc.integer({ min: 2, max: 5 }),
          block: fc.integer({ min: 1, max: 9 }),
          C: fc.double({ min: 0.1, max: 10, noNaN: true }),
        }),
        ({ seed, n, f, k, block, C }) => {
          const { x, y } = randomProblem(seed, n, f, k);
          const R = k === 2 ? 1 : k;
          const rng = new Rng(seed + 1);
          const theta = Float64Array.from({ length: R * (f + 1) }, () => rng.uniformRange(-1, 1));
          const obj = new LogisticObjective({ data: x, rows: n, cols: f }, y, R, C, true, block);
          const g = new Float64Array(theta.length);
          const J = obj.evaluate(theta, g);
          // The kernel rounds W to float32 for the GEMM: compare at that precision.
          expect(J).toBeCloseTo(refObjective(x, y, n, f, R, C, theta), 4);
          const h = 1e-5;
          for (let p = 0; p < theta.length; p++) {
            const tp = theta.slice();
            const tm = theta.slice();
            tp[p] += h;
            tm[p] -= h;
            const fd = (refObjective(x, y, n, f, R, C, tp) - refObjective(x, y, n, f, R, C, tm)) / (2 * h);
            expect(Math.abs(g[p] - fd)).toBeLessThan(1e-4 * (1 + Math.abs(fd)));
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('LogisticRegression', () => {
  it('stops at a point where the gradient of the objective is ≈ 0 (optimality condition)', () => {
    for (const k of [2, 4]) {
      const n = 80;
      const f = 5;
      const { x, y } = randomProblem(7 + k, n, f, k);
      const warnings: string[] = [];
      const model = new LogisticRegression({ C: 2, maxIter: 500, onWarning: (m) => warnings.push(m) }).fit({ data: x, shape: [n, f] }, y);
      const R = k === 2 ? 1 : k;
      const theta = new Float64Array(R * (f + 1));
      theta.set(model.coef.data);
      theta.set(model.intercept, R * f);
      // Gradient of the reference objective by central differences at the solution …
      const h = 1e-4;
      let gMax = 0;
      for (let p = 0; p < theta.length; p++) {
        const tp = theta.slice();
        const tm = theta.slice();
        tp[p] += h;
        tm[p] -= h;
        gMax = Math.max(gMax, Math.abs((refObjective(x, y, n, f, R, 2, tp) - refObjective(x, y, n, f, R, 2, tm)) / (2 * h)));
      }
      // … is tiny next to the gradient at the start (θ = 0), which is of order N.
      expect(gMax).toBeLessThan(2e-3);
      expect(model.fitInfo.converged).toBe(true);
      expect(warnings).toEqual([]);
      expect(model.fitInfo.loss).toBeCloseTo(refObjective(x, y, n, f, R, 2, theta), 3);
    }
  });

  it("matches scikit-learn 1.2.1's coefficients (multinomial and binary)", () => {
    // Python (scikit-learn 1.2.1, Debian /usr/bin/python3):
    //   i = np.arange(n)[:, None]; j = np.arange(f)[None, :]
    //   y = (np.arange(n) * 5 % k).astype(np.int32) * 2 + 1
    //   X = (((i * 37 + j * 11) % 23) / 23.0 + np.where(j == (y[:, None] - 1) // 2 % f, 0.8, 0.0)).astype(np.float32)
    //   LogisticRegression(C=0.5, tol=1e-10, max_iter=10000).fit(X, y)   # n, f, k = 60, 4, 3
    //   LogisticRegression(tol=1e-10, max_iter=10000).fit(X2, y2)         # n, f, k = 40, 3, 2
    const coef3 = [1.5365417543373814, -0.7806150184213206, -1.0040624591355163, 0.19423485483027103, -0.4906820730569555, 1.5801047957876513,
      -0.4854688658654686, -0.5135022686596274, -1.0458596812804262, -0.7994897773663305, 1.4895313250009852, 0.31926741382935653];
    const int3 = [0.08830113704237749, -0.19336320266316706, 0.10506206562078922];
    const coef2 = [-2.085157432078248, 1.9270318564486415, 0.8096617010470389];
    const int2 = [-0.24901164289018288];
    const a = sklearnData(60, 4, 3);
    const m3 = new LogisticRegression({ C: 0.5, tol: 1e-10, maxIter: 10000, onWarning: () => {} }).fit(a.X, a.y);
    expect(Array.from(m3.classes)).toEqual([1, 3, 5]);
    expect(m3.coef.shape).toEqual([3, 4]);
    coef3.forEach((v, i) => expect(m3.coef.data[i]).toBeCloseTo(v, 4));
    int3.forEach((v, i) => expect(m3.intercept[i]).toBeCloseTo(v, 4));
    const b = sklearnData(40, 3, 2);
    const m2 = new LogisticRegression({ tol: 1e-10, maxIter: 10000, onWarning: () => {} }).fit(b.X, b.y);
    expect(m2.coef.shape).toEqual([1, 3]);
    coef2.forEach((v, i) => expect(m2.coef.data[i]).toBeCloseTo(v, 4));
    int2.forEach((v, i) => expect(m2.intercept[i]).toBeCloseTo(v, 4));
  });

  it('classifies separable data perfectly; probabilities are a softmax consistent with predict', () => {
    const rng = new Rng(11);
    const n = 120;
    const x = new Float32Array(n * 2);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = [0, 4, 9][i % 3];
      const angle = ((i % 3) * 2 * Math.PI) / 3;
      x[i * 2] = 5 * Math.cos(angle) + rng.uniformRange(-1, 1);
      x[i * 2 + 1] = 5 * Math.sin(angle) + rng.uniformRange(-1, 1);
    }
    const X = { data: x, shape: [n, 2] };
    const model = new LogisticRegression().fit(X, y);
    expect(model.score(X, y)).toBe(1);
    const p = model.predictProba(X);
    const dec = model.decisionFunction(X).data;
    const pred = model.predict(X);
    for (let i = 0; i < n; i++) {
      const z = [0, 1, 2].map((c) => dec[i * 3 + c]);
      const s = z.reduce((acc, v) => acc + Math.exp(v), 0);
      for (let c = 0; c < 3; c++) expect(p.data[i * 3 + c]).toBeCloseTo(Math.exp(z[c]) / s, 6);
      expect(pred[i]).toBe([0, 4, 9][z.indexOf(Math.max(...z))]);
    }
  });

  it('warns (ConvergenceWarning) and reports when maxIter is reached', () => {
    const { x, y } = randomProblem(5, 50, 4, 3);
    const warnings: string[] = [];
    const model = new LogisticRegression({ maxIter: 2, tol: 1e-12, onWarning: (m) => warnings.push(m) }).fit({ data: x, shape: [50, 4] }, y);
    expect(model.fitInfo.nIter).toBe(2);
    expect(model.fitInfo.converged).toBe(false);
    expect(model.fitInfo.stop).toBe('maxIter');
    expect(model.fitInfo.gradNorm).toBeGreaterThan(1e-12);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/ConvergenceWarning.*maxIter = 2/);
  });

  it('leaves the weight of a zero-variance zero feature at exactly 0 and handles duplicates', () => {
    // Column 1 is all zeros: its gradient is W/C alone, so from W = 0 it never moves.
    const x = new Float32Array([0, 0, 1, 0, 0, 0, 1, 0, 2, 0, 2, 0]);
    const y = Int32Array.of(0, 1, 0, 1, 1, 1);
    const m = new LogisticRegression().fit({ data: x, shape: [6, 2] }, y);
    expect(m.coef.data[1]).toBe(0);
    expect(m.fitInfo.converged).toBe(true);
  });

  it('rejects degenerate input loudly', () => {
    const X = { data: new Float32Array([0, 1, 2, 3]), shape: [2, 2] };
    expect(() => new LogisticRegression().fit(X, Int32Array.of(3, 3))).toThrow(/at least 2 classes, got 1/);
    expect(() => new LogisticRegression().fit(X, Int32Array.of(0, 1, 1))).toThrow(ShapeError);
    expect(() => new LogisticRegression().fit({ data: Float32Array.of(0, NaN, 2, 3), shape: [2, 2] }, Int32Array.of(0, 1))).toThrow(OptionError);
    expect(() => new LogisticRegression().fit({ data: new Float32Array(5), shape: [2, 2] }, Int32Array.of(0, 1))).toThrow(/needs 4 values, its data has 5/);
    expect(() => new LogisticRegression().fit({ data: new Float32Array(4), shape: [4] }, Int32Array.of(0, 1))).toThrow(/expected X of shape \[N, F\], got \[4\]/);
    expect(() => new LogisticRegression().fit(X, Float64Array.of(0, 1) as unknown as Int32Array)).toThrow(/Int32Array or number\[\] of labels, got a Float64Array/);
    expect(() => new LogisticRegression({ C: 0 })).toThrow(OptionError);
    expect(() => new LogisticRegression({ maxIter: 1.5 })).toThrow(OptionError);
    expect(() => new LogisticRegression().predict(X)).toThrow(/not fitted/);
    const m = new LogisticRegression().fit(X, Int32Array.of(0, 1));
    expect(() => m.predict({ data: new Float32Array(3), shape: [1, 3] })).toThrow(/fitted on 2 features, X has 3/);
  });
});
