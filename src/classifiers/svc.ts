/**
 * Linear support vector classification, scikit-learn's default `LinearSVC()`: L2 penalty,
 * squared hinge loss, one-vs-rest, solved by liblinear's dual coordinate descent
 * (Hsieh et al., ICML 2008, Algorithm 3, with liblinear's shrinking and stopping rule).
 */
import { OptionError } from '../errors';
import { Rng } from '../rng';
import { type LabelInput, type MatrixInput, integer, notFitted, positive } from './input';
import { LinearClassifierBase } from './linear';

/** Options of {@link LinearSVC}; the defaults are scikit-learn's. */
export interface LinearSVCOptions {
  /** Inverse regularisation strength. Default 1. */
  C?: number;
  /**
   * Stopping tolerance of the dual coordinate descent: stop when the spread of the projected
   * dual gradient over one pass, max PG − min PG, is ≤ tol (liblinear's `eps`). Default 1e-4.
   */
  tol?: number;
  /** Maximum passes over the data per binary problem. Default 1000. */
  maxIter?: number;
  /** Append a constant feature of value `interceptScaling` (liblinear's bias term). Default true. */
  fitIntercept?: boolean;
  /** Value of the constant feature; its weight is penalised like the others. Default 1. */
  interceptScaling?: number;
  /** Seed of the random order of the coordinates in each pass. Default 0. */
  seed?: number;
  /** Receives the non-convergence warning. Default `console.warn`. */
  onWarning?: (message: string) => void;
}

/**
 * One-vs-rest linear SVM. For each class c (one problem for two classes, positive =
 * classes[1]) with targets y_i = ±1 it minimises
 *
 *   ½‖w̃‖² + C Σ_i max(0, 1 − y_i w̃·x̃_i)²,   x̃_i = [x_i, s], w̃ = [w, w_b],
 *
 * where s = `interceptScaling`: as in liblinear (and so scikit-learn), the intercept
 * b = s·w_b is a weight on a constant feature and is penalised too (a larger s weakens that
 * penalty). The solver is coordinate descent on the dual
 * min_α ½ αᵀ(Q + I/(2C))α − Σα_i, α ≥ 0, Q_ij = y_i y_j x̃_i·x̃_j, with w̃ = Σ α_i y_i x̃_i,
 * visiting the active coordinates in a random order each pass; it stops when
 * max PG − min PG ≤ tol over a pass over all coordinates, or after maxIter passes (then it
 * warns, like scikit-learn's ConvergenceWarning). Prediction is the argmax of X·Wᵀ + b (ties to
 * the smaller label). One class is an error.
 *
 * @example
 * ```ts
 * const svm = new LinearSVC({ C: 1 }).fit(xTrain, yTrain);
 * svm.nIter;                 // passes of the slowest binary problem
 * svm.score(xTest, yTest);
 * ```
 */
export class LinearSVC extends LinearClassifierBase {
  protected readonly name = 'LinearSVC';
  readonly C: number;
  readonly tol: number;
  readonly maxIter: number;
  readonly fitIntercept: boolean;
  readonly interceptScaling: number;
  readonly seed: number;
  private readonly onWarning: (message: string) => void;
  private iters = 0;

  constructor(options: LinearSVCOptions = {}) {
    super();
    const op = 'LinearSVC';
    this.C = positive(options.C ?? 1, 'C', op);
    this.tol = positive(options.tol ?? 1e-4, 'tol', op);
    this.maxIter = integer(options.maxIter ?? 1000, 'maxIter', op, 1);
    this.fitIntercept = options.fitIntercept ?? true;
    this.interceptScaling = positive(options.interceptScaling ?? 1, 'interceptScaling', op);
    this.seed = options.seed ?? 0;
    if (!Number.isSafeInteger(this.seed)) throw new OptionError(`${op}: seed must be a safe integer, got ${String(this.seed)}`);
    this.onWarning = options.onWarning ?? ((m) => console.warn(m));
  }

  /** Passes over the data of the binary problem that needed the most (scikit-learn's `n_iter_`). */
  get nIter(): number {
    if (this.fitted === null) notFitted('LinearSVC.nIter');
    return this.iters;
  }

  fit(X: MatrixInput, y: LabelInput): this {
    const { m, classes, index, R } = this.trainingSet(X, y);
    const F = m.cols;
    const rng = new Rng(this.seed);
    const w = new Float32Array(R * F);
    const b = new Float32Array(R);
    const sign = new Int8Array(m.rows);
    let maxIters = 0;
    let unconverged = 0;
    for (let c = 0; c < R; c++) {
      const positiveClass = R === 1 ? 1 : c;
      for (let i = 0; i < m.rows; i++) sign[i] = index[i] === positiveClass ? 1 : -1;
      const { weights, iters } = dualCoordinateDescent(m.data, m.rows, F, sign, this.C, this.fitIntercept ? this.interceptScaling : 0, this.tol, this.maxIter, rng);
      for (let j = 0; j < F; j++) w[c * F + j] = weights[j];
      b[c] = this.fitIntercept ? this.interceptScaling * weights[F] : 0;
      maxIters = Math.max(maxIters, iters);
      if (iters >= this.maxIter) unconverged++;
    }
    this.setSolution(w, b, F, classes);
    this.iters = maxIters;
    if (unconverged > 0) {
      this.onWarning(
        `ConvergenceWarning: LinearSVC (liblinear dual coordinate descent) failed to converge for ${unconverged} of ${R} binary problem${R === 1 ? '' : 's'} within maxIter = ${this.maxIter} passes; increase maxIter or scale the data (e.g. with StandardScaler).`,
      );
    }
    return this;
  }
}

/**
 * liblinear's `solve_l2r_l1l2_svc` for the L2 loss (upper bound ∞, D_ii = 1/(2C)). `bias` is
 * the value of the appended constant feature (0: none). Returns w̃ = [w, w_b] and the passes.
 */
function dualCoordinateDescent(
  x: Float32Array,
  n: number,
  F: number,
  y: Int8Array,
  C: number,
  bias: number,
  eps: number,
  maxIter: number,
  rng: Rng,
): { weights: Float64Array; iters: number } {
  const diag = 0.5 / C;
  const w = new Float64Array(F + 1);
  const alpha = new Float64Array(n);
  const QD = new Float64Array(n);
  const index = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let s = diag + bias * bias;
    for (let p = i * F; p < (i + 1) * F; p++) s += x[p] * x[p];
    QD[i] = s;
    index[i] = i;
  }
  let active = n;
  // The squared hinge has no upper bound on α, so liblinear's α = C shrinking branch and its
  // PGmin_old never apply.
  let pgMaxOld = Infinity;
  let iter = 0;
  while (iter < maxIter) {
    let pgMaxNew = -Infinity;
    let pgMinNew = Infinity;
    for (let i = 0; i < active; i++) {
      const j = i + rng.int(0, active - i);
      const t = index[i];
      index[i] = index[j];
      index[j] = t;
    }
    for (let s = 0; s < active; s++) {
      const i = index[s];
      const o = i * F;
      const yi = y[i];
      let dot = w[F] * bias;
      for (let p = 0; p < F; p++) dot += w[p] * x[o + p];
      const G = dot * yi - 1 + alpha[i] * diag;
      let PG = 0;
      if (alpha[i] === 0) {
        if (G > pgMaxOld) {
          // Shrinking: at the bound with a gradient pointing outward; skip until the final check.
          active--;
          index[s] = index[active];
          index[active] = i;
          s--;
          continue;
        } else if (G < 0) PG = G;
      } else PG = G;
      if (PG > pgMaxNew) pgMaxNew = PG;
      if (PG < pgMinNew) pgMinNew = PG;
      if (Math.abs(PG) > 1e-12) {
        const old = alpha[i];
        alpha[i] = Math.max(old - G / QD[i], 0);
        const d = (alpha[i] - old) * yi;
        for (let p = 0; p < F; p++) w[p] += d * x[o + p];
        w[F] += d * bias;
      }
    }
    iter++;
    if (pgMaxNew - pgMinNew <= eps) {
      if (active === n) break;
      // Converged on the shrunk set: check once more on all coordinates.
      active = n;
      pgMaxOld = Infinity;
      continue;
    }
    pgMaxOld = pgMaxNew > 0 ? pgMaxNew : Infinity;
  }
  return { weights: w, iters: iter };
}
