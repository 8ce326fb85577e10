/**
 * Unconstrained L-BFGS (Nocedal & Wright, Numerical Optimization, 2nd ed., Alg. 7.4 / 7.5)
 * with a strong-Wolfe line search (Alg. 3.5 / 3.6, cubic interpolation in the zoom), in
 * double precision. Stopping rules follow scipy's L-BFGS-B as scikit-learn calls it:
 * ‖g‖∞ ≤ gtol, or a relative decrease (f_k − f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) ≤ ftol,
 * or maxIter iterations.
 */

/** Options of {@link minimizeLbfgs}. */
export interface LbfgsOptions {
  /** Maximum number of iterations (line searches). */
  maxIter: number;
  /** Stop when max |g_i| ≤ gtol (scipy's `pgtol`; without bounds the projected gradient is g). */
  gtol: number;
  /** Stop when the relative decrease of f in one iteration is ≤ ftol. scipy's default is 1e7 · eps ≈ 2.2e-9. */
  ftol?: number;
  /** Number of correction pairs kept. Default 10 (scipy's `maxcor`). */
  history?: number;
  /** Maximum function evaluations per line search. Default 20 (scipy's `maxls`). */
  maxLineSearch?: number;
  /** Sufficient-decrease constant of the Wolfe conditions. Default 1e-3, as L-BFGS-B's line search. */
  c1?: number;
  /** Curvature constant of the strong Wolfe conditions. Default 0.9. */
  c2?: number;
  /** Called after each iteration with the iterations done and the objective (for progress). */
  onIteration?: (iteration: number, f: number) => void;
}

/** Why {@link minimizeLbfgs} stopped. */
export type LbfgsStop = 'gtol' | 'ftol' | 'maxIter' | 'lineSearch';

/** The result of {@link minimizeLbfgs}. */
export interface LbfgsResult {
  /** The final point (the argument `x0`, updated in place). */
  x: Float64Array;
  /** f at x. */
  f: number;
  /** The gradient at x. */
  g: Float64Array;
  /** Completed iterations. */
  nIter: number;
  /** Function-and-gradient evaluations, including the one at x0. */
  nFev: number;
  /** max |g_i| at x. */
  gradMaxAbs: number;
  stop: LbfgsStop;
}

/** Evaluates f at x and writes its gradient into g; returns f. */
export type ObjectiveFn = (x: Float64Array, g: Float64Array) => number;

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]);
    if (v > m || v !== v) m = v;
  }
  return m;
}

/**
 * Minimises `fg` from `x0` (overwritten with the result).
 *
 * @example
 * ```ts
 * // f(x) = Σ (x_i − i)²
 * const r = minimizeLbfgs((x, g) => { let f = 0; x.forEach((v, i) => { f += (v - i) ** 2; g[i] = 2 * (v - i); }); return f; },
 *   new Float64Array(3), { maxIter: 100, gtol: 1e-8 });
 * r.x; // ≈ [0, 1, 2]
 * ```
 */
export function minimizeLbfgs(fg: ObjectiveFn, x0: Float64Array, options: LbfgsOptions): LbfgsResult {
  const n = x0.length;
  const m = options.history ?? 10;
  const ftol = options.ftol ?? 2.220446049250313e-9;
  const maxLs = options.maxLineSearch ?? 20;
  const c1 = options.c1 ?? 1e-3;
  const c2 = options.c2 ?? 0.9;
  const x = x0;
  const g = new Float64Array(n);
  let f = fg(x, g);
  let nFev = 1;
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const alphaHist = new Float64Array(m);
  const d = new Float64Array(n);
  const xTrial = new Float64Array(n);
  const gTrial = new Float64Array(n);
  // The best acceptable point seen in the current line search (the zoom's "lo" end).
  const xLo = new Float64Array(n);
  const gLo = new Float64Array(n);
  const xPrev = new Float64Array(n);
  const gPrev = new Float64Array(n);
  let nIter = 0;
  let stop: LbfgsStop = 'maxIter';
  let gm = maxAbs(g);
  if (gm <= options.gtol) return { x, f, g, nIter, nFev, gradMaxAbs: gm, stop: 'gtol' };

  while (nIter < options.maxIter) {
    // Two-loop recursion: d = −H g with H₀ = (sᵀy / yᵀy) I.
    for (let i = 0; i < n; i++) d[i] = -g[i];
    const h = S.length;
    for (let j = h - 1; j >= 0; j--) {
      const a = rho[j] * dot(S[j], d);
      alphaHist[j] = a;
      const yj = Y[j];
      for (let i = 0; i < n; i++) d[i] -= a * yj[i];
    }
    if (h > 0) {
      const gamma = 1 / (rho[h - 1] * dot(Y[h - 1], Y[h - 1]));
      for (let i = 0; i < n; i++) d[i] *= gamma;
    }
    for (let j = 0; j < h; j++) {
      const b = rho[j] * dot(Y[j], d);
      const sj = S[j];
      const c = alphaHist[j] - b;
      for (let i = 0; i < n; i++) d[i] += c * sj[i];
    }
    let dphi0 = dot(g, d);
    if (!(dphi0 < 0)) {
      // Not a descent direction (rounding in a stale memory): restart from steepest descent.
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      for (let i = 0; i < n; i++) d[i] = -g[i];
      dphi0 = dot(g, d);
    }
    // First step from x0 (or after a restart): ‖α d‖₂ = 1, as L-BFGS-B; then the quasi-Newton step α = 1.
    const alpha0 = S.length === 0 ? Math.min(1, 1 / Math.sqrt(dot(d, d))) : 1;

    const phi0 = f;
    xPrev.set(x);
    gPrev.set(g);
    const evalAt = (alpha: number): number => {
      for (let i = 0; i < n; i++) xTrial[i] = x[i] + alpha * d[i];
      nFev++;
      return fg(xTrial, gTrial);
    };
    // Strong-Wolfe search. lo: lowest sufficient-decrease point so far; hi: the other bracket end.
    let aLo = 0;
    let fLo = phi0;
    let dLo = dphi0;
    let haveLo = false;
    let aHi = NaN;
    let fHi = NaN;
    let dHi = NaN;
    let bracketed = false;
    let alpha = alpha0;
    let accepted = false;
    let fNew = phi0;
    for (let ls = 0; ls < maxLs; ls++) {
      const phi = evalAt(alpha);
      const dphi = dot(gTrial, d);
      const armijoFails = !(phi <= phi0 + c1 * alpha * dphi0) || !Number.isFinite(phi);
      if (armijoFails || phi >= fLo) {
        aHi = alpha;
        fHi = phi;
        dHi = dphi;
        bracketed = true;
      } else {
        if (Math.abs(dphi) <= -c2 * dphi0) {
          accepted = true;
          fNew = phi;
          x.set(xTrial);
          g.set(gTrial);
          break;
        }
        if (bracketed && dphi * (aHi - aLo) >= 0) {
          aHi = aLo;
          fHi = fLo;
          dHi = dLo;
        } else if (!bracketed && dphi >= 0) {
          aHi = aLo;
          fHi = fLo;
          dHi = dLo;
          bracketed = true;
        }
        aLo = alpha;
        fLo = phi;
        dLo = dphi;
        haveLo = true;
        xLo.set(xTrial);
        gLo.set(gTrial);
      }
      if (bracketed) {
        // Cubic interpolation between the bracket ends, kept inside the middle 80 %.
        const lo = Math.min(aLo, aHi);
        const hi = Math.max(aLo, aHi);
        let t = cubicMin(aLo, fLo, dLo, aHi, fHi, dHi);
        const w = hi - lo;
        if (!(t >= lo + 0.1 * w && t <= hi - 0.1 * w)) t = 0.5 * (lo + hi);
        alpha = t;
        if (w <= 1e-16 * Math.max(1, hi)) break;
      } else {
        // Still descending with a steep slope: extrapolate.
        alpha *= 4;
      }
    }
    if (!accepted) {
      if (haveLo && fLo < phi0) {
        // No strong-Wolfe point within maxLineSearch evaluations, but a sufficient decrease: take it.
        fNew = fLo;
        x.set(xLo);
        g.set(gLo);
        accepted = true;
      } else {
        stop = 'lineSearch';
        break;
      }
    }
    nIter++;
    options.onIteration?.(nIter, f);
    // Curvature pair s = x_{k+1} − x_k, y = g_{k+1} − g_k, kept only when sᵀy > eps·yᵀy
    // (the skip rule of L-BFGS-B), so that H stays positive definite.
    const s = new Float64Array(n);
    const yv = new Float64Array(n);
    let sy = 0;
    let yy = 0;
    for (let i = 0; i < n; i++) {
      s[i] = x[i] - xPrev[i];
      yv[i] = g[i] - gPrev[i];
      sy += s[i] * yv[i];
      yy += yv[i] * yv[i];
    }
    if (sy > 2.220446049250313e-16 * yy) {
      S.push(s);
      Y.push(yv);
      rho.push(1 / sy);
      if (S.length > m) {
        S.shift();
        Y.shift();
        rho.shift();
      }
    }
    const fOld = f;
    f = fNew;
    gm = maxAbs(g);
    if (gm <= options.gtol) {
      stop = 'gtol';
      break;
    }
    if ((fOld - f) / Math.max(Math.abs(fOld), Math.abs(f), 1) <= ftol) {
      stop = 'ftol';
      break;
    }
  }
  return { x, f, g, nIter, nFev, gradMaxAbs: maxAbs(g), stop };
}

/** Minimiser of the cubic through (a, fa, da), (b, fb, db); NaN when it has none. */
function cubicMin(a: number, fa: number, da: number, b: number, fb: number, db: number): number {
  const d1 = da + db - (3 * (fa - fb)) / (a - b);
  const disc = d1 * d1 - da * db;
  if (!(disc >= 0)) return NaN;
  const d2 = Math.sign(b - a) * Math.sqrt(disc);
  return b - ((b - a) * (db + d2 - d1)) / (db - da + 2 * d2);
}
