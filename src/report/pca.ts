/**
 * Two-component PCA for the report's scatter plot: a block Krylov (block Lanczos) method with
 * full reorthogonalisation, Rayleigh–Ritz extraction and thick restarts, applied to the sample
 * covariance C = Xcᵀ Xc / (n − 1) without forming it — each product C·[b vectors] is one pass
 * over the centred data (2·n·dim·b multiply-adds, b = min(dim, 4)). Krylov spaces converge on
 * the extreme eigenvalues much faster than plain power iteration when the spectrum's gaps are small.
 */
import { OptionError, ShapeError } from '../errors';
import { Rng } from '../rng';

/** Options of {@link pca2}. */
export interface Pca2Options {
  /** Most passes over the data (each multiplies a block of up to 4 vectors by C). Default 300. */
  maxIter?: number;
  /** Stop when both Ritz residuals ‖C v − λ v‖ ≤ tol · λ₁. Default 1e-7. */
  tol?: number;
  /** Start block; the result does not depend on it beyond `tol`. Default `new Rng(0)`. */
  rng?: Rng;
}

/** The result of {@link pca2}. */
export interface Pca2Result {
  /** Scores (x − mean)·[v₁ v₂], [n, 2] row-major. */
  points: Float32Array;
  /** λₖ / Σᵢ λᵢ: the fraction of the total variance along each component. */
  explained: [number, number];
  /** The principal directions v₁, v₂ as rows, [2, dim], unit length and orthogonal. */
  components: Float32Array;
  /** The per-feature mean that was subtracted, [dim]. */
  mean: Float32Array;
  /** Whether the residual tolerance was met within `maxIter` passes. */
  converged: boolean;
  /** Passes over the data used. */
  passes: number;
}

/** Block size b and the largest Krylov basis kept before a restart. */
const BLOCK = 4;
const MAX_BASIS = 48;

/**
 * The first two principal components of `data` ([n, dim], row-major): the eigenvectors of the
 * sample covariance C = Xcᵀ Xc / (n − 1) of the centred data Xc with the two largest eigenvalues.
 *
 * Sign convention (deterministic, independent of `rng`): each component is flipped so that its
 * entry of largest absolute value is positive (the first such entry on an exact tie).
 * Degenerate data: when the total variance is 0 the points are all 0, `explained` is [0, 0]
 * and the components are the first two unit vectors; a rank-1 cloud gets `explained[1] = 0`.
 *
 * @example
 * ```ts
 * const { points, explained } = pca2(features, n, 512); // points: [n, 2] for a scatter plot
 * ```
 */
export function pca2(data: Float32Array | ArrayLike<number>, n: number, dim: number, o: Pca2Options = {}): Pca2Result {
  const op = 'pca2';
  if (!Number.isSafeInteger(n) || n < 2) throw new ShapeError(`${op}: expected n ≥ 2 samples, got ${n}`);
  if (!Number.isSafeInteger(dim) || dim < 2) throw new ShapeError(`${op}: expected dim ≥ 2 features, got ${dim}`);
  if (data.length !== n * dim) throw new ShapeError(`${op}: expected data [n, dim] = [${n}, ${dim}] (${n * dim} values), got ${data.length}`);
  const maxIter = o.maxIter ?? 300;
  if (!Number.isSafeInteger(maxIter) || maxIter < 1) throw new OptionError(`${op}: maxIter must be an integer ≥ 1, got ${maxIter}`);
  const tol = o.tol ?? 1e-7;
  if (!(tol > 0)) throw new OptionError(`${op}: tol must be > 0, got ${tol}`);
  const rng = o.rng ?? new Rng(0);

  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    const row = i * dim;
    for (let j = 0; j < dim; j++) {
      const v = data[row + j];
      if (!Number.isFinite(v)) throw new OptionError(`${op}: data must be finite, got ${v} at sample ${i}, feature ${j}`);
      mean[j] += v;
    }
  }
  for (let j = 0; j < dim; j++) mean[j] /= n;
  // Centred copy in float32 (centring in float64 first keeps the small differences exact enough).
  const xc = new Float32Array(n * dim);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const row = i * dim;
    for (let j = 0; j < dim; j++) {
      const v = data[row + j] - mean[j];
      xc[row + j] = v;
      total += v * v;
    }
  }
  total /= n - 1;

  const components = new Float64Array(2 * dim);
  let explained: [number, number] = [0, 0];
  let converged = true;
  let passes = 0;
  if (total === 0) {
    components[0] = 1;
    components[dim + 1] = 1;
  } else {
    const r = topTwo(xc, n, dim, total, maxIter, tol, rng);
    components.set(r.vectors);
    explained = [Math.max(0, r.values[0]) / total, Math.max(0, r.values[1]) / total];
    converged = r.converged;
    passes = r.passes;
  }

  for (let c = 0; c < 2; c++) {
    let arg = 0;
    for (let j = 1; j < dim; j++) if (Math.abs(components[c * dim + j]) > Math.abs(components[c * dim + arg])) arg = j;
    if (components[c * dim + arg] < 0) for (let j = 0; j < dim; j++) components[c * dim + j] = -components[c * dim + j];
  }
  const points = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    const row = i * dim;
    let s0 = 0;
    let s1 = 0;
    for (let j = 0; j < dim; j++) {
      s0 += xc[row + j] * components[j];
      s1 += xc[row + j] * components[dim + j];
    }
    points[2 * i] = s0;
    points[2 * i + 1] = s1;
  }
  return {
    points,
    explained,
    components: Float32Array.from(components),
    mean: Float32Array.from(mean),
    converged,
    passes,
  };
}

/**
 * The two largest eigenpairs of C = Xcᵀ Xc / (n − 1). Basis V (rows, orthonormal) grows by
 * blocks: the newest block's products C·v, orthogonalised against V (twice). When V holds
 * MAX_BASIS vectors (or the Krylov space stops growing), Rayleigh–Ritz on T = V C Vᵀ gives
 * Ritz pairs (θ, u); stop when ‖C u − θ u‖ ≤ tol·θ₁ for the top two, else restart from the best
 * 2b Ritz vectors, whose products C·u = Σ W·(C v) come for free.
 */
function topTwo(xc: Float32Array, n: number, dim: number, total: number, maxPasses: number, tol: number, rng: Rng): { values: [number, number]; vectors: Float64Array; converged: boolean; passes: number } {
  const b = Math.min(dim, BLOCK);
  const mMax = Math.min(dim, Math.max(MAX_BASIS, 3 * b));
  const v = new Float64Array(mMax * dim); // basis rows
  const cv = new Float64Array(mMax * dim); // C · basis rows
  const z = new Float64Array(b * dim);
  const cand = new Float64Array(b * dim);
  let m = 0;
  let passes = 0;
  // Rows [blockStart, m) are the newest block, whose products seed the next block.
  let blockStart = 0;

  /** Orthonormalises the candidate rows against V and each other; appends the survivors to V and their products to CV. */
  const append = (rows: Float64Array, count: number): number => {
    let added = 0;
    for (let c = 0; c < count && m < mMax; c++) {
      const w = rows.subarray(c * dim, (c + 1) * dim);
      let before = 0;
      for (let j = 0; j < dim; j++) before += w[j] * w[j];
      if (before === 0) continue;
      for (let pass = 0; pass < 2; pass++) {
        for (let k = 0; k < m; k++) {
          const off = k * dim;
          let d = 0;
          for (let j = 0; j < dim; j++) d += w[j] * v[off + j];
          for (let j = 0; j < dim; j++) w[j] -= d * v[off + j];
        }
      }
      let norm = 0;
      for (let j = 0; j < dim; j++) norm += w[j] * w[j];
      // A candidate that (nearly) lies in span(V) adds nothing: the Krylov space is invariant there.
      if (!(norm > 1e-20 * before)) continue;
      const sc = 1 / Math.sqrt(norm);
      for (let j = 0; j < dim; j++) v[m * dim + j] = w[j] * sc;
      m++;
      added++;
    }
    if (added > 0) {
      // C · (new rows), one pass over the data.
      multiplyBlock(xc, v.subarray((m - added) * dim, m * dim), z, n, dim, added);
      passes++;
      for (let k = 0; k < added * dim; k++) cv[(m - added) * dim + k] = z[k] / (n - 1);
    }
    return added;
  };

  for (let k = 0; k < b * dim; k++) cand[k] = rng.normal();
  append(cand, b);
  blockStart = 0;
  let values: [number, number] = [0, 0];
  const vectors = new Float64Array(2 * dim);
  for (;;) {
    // Grow the Krylov basis.
    while (m < mMax && passes < maxPasses) {
      const count = m - blockStart;
      cand.set(cv.subarray(blockStart * dim, m * dim));
      const start = m;
      if (append(cand, count) === 0) break;
      blockStart = start;
    }
    // Rayleigh–Ritz: T = V (C V)ᵀ, symmetrised against rounding.
    const t = new Float64Array(m * m);
    for (let a = 0; a < m; a++) {
      for (let c = a; c < m; c++) {
        let s1 = 0;
        let s2 = 0;
        for (let j = 0; j < dim; j++) {
          s1 += v[a * dim + j] * cv[c * dim + j];
          s2 += v[c * dim + j] * cv[a * dim + j];
        }
        t[a * m + c] = t[c * m + a] = (s1 + s2) / 2;
      }
    }
    const eig = symmetricEigen(t, m);
    const keep = Math.min(m, 2 * b);
    const u = new Float64Array(keep * dim);
    const cu = new Float64Array(keep * dim);
    for (let c = 0; c < keep; c++) {
      for (let k = 0; k < m; k++) {
        const w = eig.vectors[k * m + c];
        if (w === 0) continue;
        for (let j = 0; j < dim; j++) {
          u[c * dim + j] += w * v[k * dim + j];
          cu[c * dim + j] += w * cv[k * dim + j];
        }
      }
    }
    values = [eig.values[0], m > 1 ? eig.values[1] : 0];
    vectors.set(u.subarray(0, 2 * dim));
    let resid = 0;
    for (let c = 0; c < Math.min(2, keep); c++) {
      let r = 0;
      for (let j = 0; j < dim; j++) {
        const e = cu[c * dim + j] - eig.values[c] * u[c * dim + j];
        r += e * e;
      }
      resid = Math.max(resid, Math.sqrt(r));
    }
    // The basis spans the whole space (or an invariant subspace containing the start): exact.
    const exhausted = m === dim;
    if (resid <= tol * Math.max(eig.values[0], 1e-300 * total) || exhausted) return { values, vectors, converged: true, passes };
    if (passes >= maxPasses) return { values, vectors, converged: false, passes };
    // Thick restart: V ← the best Ritz vectors (re-orthonormalised), C V ← their products.
    v.fill(0);
    cv.fill(0);
    m = 0;
    for (let c = 0; c < keep; c++) {
      const w = u.subarray(c * dim, (c + 1) * dim);
      let norm = 0;
      for (let j = 0; j < dim; j++) norm += w[j] * w[j];
      const sc = 1 / Math.sqrt(norm);
      for (let j = 0; j < dim; j++) {
        v[m * dim + j] = w[j] * sc;
        cv[m * dim + j] = cu[c * dim + j] * sc;
      }
      m++;
    }
    blockStart = 0;
    // Seed the next block with the products of the best b Ritz vectors only.
    if (m > b) {
      const seedEnd = b;
      cand.set(cv.subarray(0, seedEnd * dim));
      const start = m;
      // Nothing new: each residual C u − θ u lies in span(V) yet is orthogonal to it (Galerkin), so it is 0.
      if (append(cand, seedEnd) === 0) return { values, vectors, converged: true, passes };
      blockStart = start;
    }
  }
}

/**
 * Z = Xcᵀ (Xc Q) for b ≤ 4 rows of Q (dim each), in one pass over the rows of Xc: each row is
 * read once for the four dot products and once for the four updates (missing rows count as 0).
 */
function multiplyBlock(xc: Float32Array, q: Float64Array, z: Float64Array, n: number, dim: number, b: number): void {
  const q0 = q.subarray(0, dim);
  const q1 = b > 1 ? q.subarray(dim, 2 * dim) : new Float64Array(dim);
  const q2 = b > 2 ? q.subarray(2 * dim, 3 * dim) : new Float64Array(dim);
  const q3 = b > 3 ? q.subarray(3 * dim, 4 * dim) : new Float64Array(dim);
  const z0 = new Float64Array(dim);
  const z1 = new Float64Array(dim);
  const z2 = new Float64Array(dim);
  const z3 = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    const row = i * dim;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let j = 0; j < dim; j++) {
      const x = xc[row + j];
      s0 += x * q0[j];
      s1 += x * q1[j];
      s2 += x * q2[j];
      s3 += x * q3[j];
    }
    for (let j = 0; j < dim; j++) {
      const x = xc[row + j];
      z0[j] += x * s0;
      z1[j] += x * s1;
      z2[j] += x * s2;
      z3[j] += x * s3;
    }
  }
  const zs = [z0, z1, z2, z3];
  for (let k = 0; k < b; k++) z.set(zs[k], k * dim);
}

/**
 * Eigen-decomposition of a small symmetric matrix a [m, m] by cyclic Jacobi rotations.
 * Returns eigenvalues in descending order and the eigenvectors as the columns of `vectors`
 * (vectors[k·m + c] is entry k of eigenvector c).
 */
export function symmetricEigen(a: Float64Array, m: number): { values: Float64Array; vectors: Float64Array } {
  const s = Float64Array.from(a);
  const v = new Float64Array(m * m);
  for (let i = 0; i < m; i++) v[i * m + i] = 1;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < m; i++) {
      diag += s[i * m + i] * s[i * m + i];
      for (let j = i + 1; j < m; j++) off += s[i * m + j] * s[i * m + j];
    }
    if (off <= 1e-30 * diag || off === 0) break;
    for (let p = 0; p < m; p++) {
      for (let r = p + 1; r < m; r++) {
        const apq = s[p * m + r];
        if (apq === 0) continue;
        // Rotation angle that zeroes s[p][r]: tan 2θ = 2 a_pq / (a_qq − a_pp).
        const theta = (s[r * m + r] - s[p * m + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const sn = t * c;
        for (let k = 0; k < m; k++) {
          const skp = s[k * m + p];
          const skr = s[k * m + r];
          s[k * m + p] = c * skp - sn * skr;
          s[k * m + r] = sn * skp + c * skr;
        }
        for (let k = 0; k < m; k++) {
          const spk = s[p * m + k];
          const srk = s[r * m + k];
          s[p * m + k] = c * spk - sn * srk;
          s[r * m + k] = sn * spk + c * srk;
        }
        for (let k = 0; k < m; k++) {
          const vkp = v[k * m + p];
          const vkr = v[k * m + r];
          v[k * m + p] = c * vkp - sn * vkr;
          v[k * m + r] = sn * vkp + c * vkr;
        }
      }
    }
  }
  const order = Array.from({ length: m }, (_, i) => i).sort((i, j) => s[j * m + j] - s[i * m + i]);
  const values = new Float64Array(m);
  const vectors = new Float64Array(m * m);
  order.forEach((src, c) => {
    values[c] = s[src * m + src];
    for (let k = 0; k < m; k++) vectors[k * m + c] = v[k * m + src];
  });
  return { values, vectors };
}
