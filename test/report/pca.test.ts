import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OptionError, Rng, ShapeError } from '../../src/index';
import { pca2 } from '../../src/internals';

/** Two orthonormal vectors in R^dim (Gram–Schmidt on random normals). */
function orthonormalPair(dim: number, rng: Rng): [Float64Array, Float64Array] {
  const u = Float64Array.from({ length: dim }, () => rng.normal());
  const w = Float64Array.from({ length: dim }, () => rng.normal());
  const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i], 0);
  const nu = Math.sqrt(dot(u, u));
  u.forEach((v, i) => (u[i] = v / nu));
  const p = dot(w, u);
  w.forEach((v, i) => (w[i] = v - p * u[i]));
  const nw = Math.sqrt(dot(w, w));
  w.forEach((v, i) => (w[i] = v / nw));
  return [u, w];
}

/** Sample covariance C = Xcᵀ Xc / (n − 1), computed directly. */
function covariance(x: ArrayLike<number>, n: number, dim: number): Float64Array {
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j] += x[i * dim + j] / n;
  const c = new Float64Array(dim * dim);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < dim; a++) {
      for (let b = 0; b < dim; b++) c[a * dim + b] += ((x[i * dim + a] - mean[a]) * (x[i * dim + b] - mean[b])) / (n - 1);
    }
  }
  return c;
}

/** Eigenvalues of the symmetric 2×2 [[p, q], [q, r]], descending (closed form). */
function eig2(p: number, q: number, r: number): [number, number] {
  const m = (p + r) / 2;
  const d = Math.sqrt(((p - r) / 2) ** 2 + q * q);
  return [m + d, m - d];
}

function row(c: Float32Array, k: number, dim: number): number[] {
  return Array.from(c.subarray(k * dim, (k + 1) * dim));
}

describe('pca2', () => {
  it('recovers a known plane: explained ratios, principal angles, centred scores, sign convention', () => {
    const rng = new Rng(11);
    const n = 500;
    const dim = 90;
    const [u1, u2] = orthonormalPair(dim, rng);
    const offset = Float64Array.from({ length: dim }, () => 5 * rng.normal());
    const a = Float64Array.from({ length: n }, () => 3 * rng.normal());
    const b = Float64Array.from({ length: n }, () => rng.normal());
    const x = new Float32Array(n * dim);
    for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) x[i * dim + j] = offset[j] + a[i] * u1[j] + b[i] * u2[j] + 1e-4 * rng.normal();
    const r = pca2(x, n, dim);
    expect(r.converged).toBe(true);

    // Closed form: the variance lies in the plane, with the 2×2 sample covariance of (a, b).
    const ma = a.reduce((s, v) => s + v, 0) / n;
    const mb = b.reduce((s, v) => s + v, 0) / n;
    let saa = 0;
    let sbb = 0;
    let sab = 0;
    for (let i = 0; i < n; i++) {
      saa += (a[i] - ma) ** 2 / (n - 1);
      sbb += (b[i] - mb) ** 2 / (n - 1);
      sab += ((a[i] - ma) * (b[i] - mb)) / (n - 1);
    }
    const [l1, l2] = eig2(saa, sab, sbb);
    const total = saa + sbb; // noise adds ~dim·1e-8, far below the tolerance
    expect(r.explained[0]).toBeCloseTo(l1 / total, 5);
    expect(r.explained[1]).toBeCloseTo(l2 / total, 5);

    // Principal angles between span(v1, v2) and span(u1, u2): the singular values of M = Uᵀ V are their cosines.
    const v1 = row(r.components, 0, dim);
    const v2 = row(r.components, 1, dim);
    const dot = (p: ArrayLike<number>, q: ArrayLike<number>) => Array.from(p).reduce((s, v, i) => s + v * q[i], 0);
    const m = [dot(u1, v1), dot(u1, v2), dot(u2, v1), dot(u2, v2)];
    // MᵀM = [[m0²+m2², m0m1+m2m3], [.., m1²+m3²]]; its eigenvalues are cos² of the principal angles.
    const [c1, c2] = eig2(m[0] ** 2 + m[2] ** 2, m[0] * m[1] + m[2] * m[3], m[1] ** 2 + m[3] ** 2);
    expect(Math.sqrt(c1)).toBeCloseTo(1, 6);
    expect(Math.sqrt(c2)).toBeCloseTo(1, 6);
    // v1 is the plane's major axis: (cos φ, sin φ) in the (u1, u2) basis with tan 2φ = 2 s_ab / (s_aa − s_bb).
    const phi = 0.5 * Math.atan2(2 * sab, saa - sbb);
    expect(Math.abs(Math.cos(phi) * m[0] + Math.sin(phi) * m[2])).toBeCloseTo(1, 6);

    // Unit, orthogonal; the entry of largest magnitude is positive.
    expect(dot(v1, v1)).toBeCloseTo(1, 6);
    expect(dot(v2, v2)).toBeCloseTo(1, 6);
    expect(dot(v1, v2)).toBeCloseTo(0, 6);
    for (const v of [v1, v2]) {
      const big = v.reduce((k, e, i) => (Math.abs(e) > Math.abs(v[k]) ? i : k), 0);
      expect(v[big]).toBeGreaterThan(0);
    }

    // Scores are (x − mean)·V, centred, with variances λ1, λ2.
    for (let i = 0; i < n; i += 37) {
      let s0 = 0;
      let s1 = 0;
      for (let j = 0; j < dim; j++) {
        const xc = x[i * dim + j] - r.mean[j];
        s0 += xc * v1[j];
        s1 += xc * v2[j];
      }
      expect(r.points[2 * i]).toBeCloseTo(s0, 3);
      expect(r.points[2 * i + 1]).toBeCloseTo(s1, 3);
    }
    for (let k = 0; k < 2; k++) {
      let mean = 0;
      let sq = 0;
      for (let i = 0; i < n; i++) mean += r.points[2 * i + k] / n;
      for (let i = 0; i < n; i++) sq += (r.points[2 * i + k] - mean) ** 2 / (n - 1);
      expect(Math.abs(mean)).toBeLessThan(1e-4);
      expect(sq).toBeCloseTo(k === 0 ? l1 : l2, 3);
    }
  });

  it('the result does not depend on the rng (deterministic signs)', () => {
    const rng = new Rng(2);
    const n = 300;
    const dim = 150; // above the Krylov basis limit (48), so the restarts are exercised
    const x = Float32Array.from({ length: n * dim }, (_, k) => rng.normal() * (1 + (k % dim)));
    const a = pca2(x, n, dim, { rng: new Rng(1) });
    const b = pca2(x, n, dim, { rng: new Rng(123456) });
    expect(a.converged && b.converged).toBe(true);
    expect(a.passes).toBeGreaterThan(12);
    for (let k = 0; k < 2 * dim; k++) expect(a.components[k]).toBeCloseTo(b.components[k], 4);
    expect(a.explained[0]).toBeCloseTo(b.explained[0], 8);
  });

  it('eigenpairs of the directly computed covariance, on random small data', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 60 }), fc.integer({ min: 2, max: 64 }), fc.integer(), (n, dim, seed) => {
        const rng = new Rng(seed);
        // Feature scales 1, 1/2, 1/3, … keep the spectrum's gaps away from zero most of the time.
        const x = Float32Array.from({ length: n * dim }, (_, k) => (rng.normal() * 3) / (1 + (k % dim)));
        const r = pca2(x, n, dim, { maxIter: 2000 });
        fc.pre(r.converged);
        const c = covariance(x, n, dim);
        let trace = 0;
        for (let j = 0; j < dim; j++) trace += c[j * dim + j];
        const lam = [r.explained[0] * trace, r.explained[1] * trace];
        expect(lam[0]).toBeGreaterThanOrEqual(lam[1] - 1e-9);
        for (let k = 0; k < 2; k++) {
          const v = row(r.components, k, dim);
          // C v = λ v
          for (let a = 0; a < dim; a++) {
            let cv = 0;
            for (let b = 0; b < dim; b++) cv += c[a * dim + b] * v[b];
            expect(Math.abs(cv - lam[k] * v[a])).toBeLessThan(1e-4 * trace + 1e-9);
          }
        }
        // λ1 is the largest Rayleigh quotient: no random direction beats it.
        for (let t = 0; t < 20; t++) {
          const w = Array.from({ length: dim }, () => rng.normal());
          let num = 0;
          let den = 0;
          for (let a = 0; a < dim; a++) {
            den += w[a] * w[a];
            for (let b = 0; b < dim; b++) num += w[a] * c[a * dim + b] * w[b];
          }
          expect(num / den).toBeLessThanOrEqual(lam[0] * (1 + 1e-5) + 1e-9);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('degenerate data: constant rows and a rank-1 cloud', () => {
    const flat = pca2(new Float32Array(12).fill(3), 4, 3);
    expect(Array.from(flat.points)).toEqual(new Array(8).fill(0));
    expect(flat.explained).toEqual([0, 0]);
    const line = new Float32Array(5 * 3);
    for (let i = 0; i < 5; i++) [1, 2, -3].forEach((d, j) => (line[i * 3 + j] = i * d));
    const r = pca2(line, 5, 3);
    expect(r.explained[0]).toBeCloseTo(1, 6);
    expect(r.explained[1]).toBeCloseTo(0, 6);
    // v1 = ±(1, 2, −3)/√14; the entry of largest magnitude (−3) is made positive.
    const s14 = Math.sqrt(14);
    Array.from(r.components.subarray(0, 3)).forEach((v, j) => expect(v).toBeCloseTo([-1, -2, 3][j] / s14, 6));
  });

  it('rejects bad shapes and data', () => {
    expect(() => pca2(new Float32Array(3), 1, 3)).toThrow(ShapeError);
    expect(() => pca2(new Float32Array(3), 3, 1)).toThrow(ShapeError);
    expect(() => pca2(new Float32Array(5), 2, 3)).toThrow(ShapeError);
    expect(() => pca2(Float32Array.from([0, 1, NaN, 2]), 2, 2)).toThrow(OptionError);
    expect(() => pca2(new Float32Array(4), 2, 2, { maxIter: 0 })).toThrow(OptionError);
  });
});
