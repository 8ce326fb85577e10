/**
 * Logistic regression with scikit-learn 1.2's objective and lbfgs stopping rules, solved by a
 * hand-written L-BFGS. The data term runs on the GEMM kernel in float32, row block by row
 * block; the loss and the gradient are summed over blocks in double.
 */
import { OptionError, ShapeError } from '../errors';
import { gemm } from '../tensor/gemm';
import { Tensor } from '../tensor/tensor';
import { asTensor } from './base';
import { type LabelInput, type Matrix, type MatrixInput, integer, notFitted, positive } from './input';
import { LinearClassifierBase } from './linear';
import { minimizeLbfgs, type LbfgsStop } from './lbfgs';

/** Options of {@link LogisticRegression}; the defaults are scikit-learn's. */
export interface LogisticRegressionOptions {
  /** Inverse regularisation strength: the penalty is ½‖W‖² / C. Default 1. */
  C?: number;
  /** Maximum L-BFGS iterations. Default 100. */
  maxIter?: number;
  /**
   * Stop when every component of the gradient of the summed objective (see the class doc)
   * has |g_i| ≤ tol — scipy L-BFGS-B's `pgtol`, which scikit-learn 1.2 sets to its `tol`.
   * Default 1e-4. (L-BFGS also stops, converged, when one iteration lowers the objective by a
   * relative 2.2e-9 or less: scipy's default `ftol`.)
   */
  tol?: number;
  /** Fit the intercept (unpenalised). Default true. */
  fitIntercept?: boolean;
  /** Receives the non-convergence warning. Default `console.warn`. */
  onWarning?: (message: string) => void;
  /** Called after each L-BFGS iteration of `fit` with the iterations done and `maxIter` (for progress). */
  onIteration?: (iteration: number, maxIter: number) => void;
  /**
   * Rows per GEMM block of the data term. Default 512: the block is still in cache when the
   * gradient GEMM reads it again after the logits GEMM (measured faster than 2048 or 4096).
   */
  blockRows?: number;
}

/** How a fit ended. */
export interface LogisticFitInfo {
  /** L-BFGS iterations done. */
  readonly nIter: number;
  /** Objective (and gradient) evaluations. */
  readonly nFunEvals: number;
  /** max_i |∂J/∂θ_i| at the solution: the quantity compared to `tol`. */
  readonly gradNorm: number;
  /** The objective J at the solution. */
  readonly loss: number;
  /** Whether `gradNorm ≤ tol` or the relative-decrease test held (not maxIter, not a failed line search). */
  readonly converged: boolean;
  readonly stop: LbfgsStop;
}

/**
 * Multinomial logistic regression, scikit-learn's `LogisticRegression(solver='lbfgs')`.
 *
 * With K ≥ 3 classes it minimises the summed multinomial log-loss plus an L2 penalty on the
 * weights (not on the intercept):
 *
 *   J(W, b) = Σ_i [ log Σ_c exp(w_c·x_i + b_c) − (w_{y_i}·x_i + b_{y_i}) ] + ½‖W‖²_F / C,
 *
 * with W of shape [K, F]. With K = 2, as scikit-learn, it fits one weight vector w (`coef`
 * [1, F]) of the binary log-loss Σ_i [ log(1 + exp(z_i)) − [y_i = classes[1]]·z_i ] + ½‖w‖²/C,
 * z_i = w·x_i + b. One class is an error (there is nothing to separate). Weights start at 0.
 *
 * J is a sum over samples, not a mean (scikit-learn 1.2's lbfgs path does the same), so `tol`
 * bounds a gradient that grows with N: on 60,000 MNIST rows the default 1e-4 is not reached in
 * 100 iterations, and both libraries warn. The solver is L-BFGS with 10 correction pairs and a
 * strong-Wolfe line search (c1 = 1e-3, c2 = 0.9, at most 20 evaluations; see
 * {@link minimizeLbfgs}). Logits and the gradient come from float32 GEMMs over blocks of rows;
 * the loss, the intercept gradient and the block gradients are summed in double. Near the
 * optimum float32 rounding can make the line search fail: the fit then stops there, reports
 * `stop: 'lineSearch'` and warns, as scipy does (ABNORMAL_TERMINATION_IN_LNSRCH).
 *
 * @example
 * ```ts
 * const model = new LogisticRegression({ C: 1, maxIter: 100 }).fit(xTrain, yTrain);
 * model.fitInfo.converged;          // false → a warning was printed
 * const acc = model.score(xTest, yTest);
 * const p = model.predictProba(xTest); // Tensor [N, K], rows sum to 1
 * ```
 */
export class LogisticRegression extends LinearClassifierBase {
  protected readonly name = 'LogisticRegression';
  readonly C: number;
  readonly maxIter: number;
  readonly tol: number;
  readonly fitIntercept: boolean;
  private readonly onWarning: (message: string) => void;
  private readonly onIteration: ((iteration: number, maxIter: number) => void) | undefined;
  private readonly blockRows: number;
  private info: LogisticFitInfo | null = null;

  constructor(options: LogisticRegressionOptions = {}) {
    super();
    const op = 'LogisticRegression';
    this.C = positive(options.C ?? 1, 'C', op);
    this.maxIter = integer(options.maxIter ?? 100, 'maxIter', op, 0);
    this.tol = positive(options.tol ?? 1e-4, 'tol', op, true);
    this.fitIntercept = options.fitIntercept ?? true;
    this.blockRows = integer(options.blockRows ?? 512, 'blockRows', op, 1);
    this.onWarning = options.onWarning ?? ((m) => console.warn(m));
    if (typeof this.onWarning !== 'function') throw new OptionError(`${op}: onWarning must be a function`);
    this.onIteration = options.onIteration;
  }

  /**
   * A fitted model from saved parameters (e.g. a model file's): weights `coef` [R, F] row-major,
   * intercepts [R] and the label set (R = 1 for two classes, else R = K, as `coef` describes).
   * Shapes, finiteness and ascending distinct labels are checked; `fitInfo` stays unset.
   */
  static fromParameters(p: { coef: Float32Array; intercept: Float32Array; classes: Int32Array; features: number }, options: LogisticRegressionOptions = {}): LogisticRegression {
    const op = 'LogisticRegression.fromParameters';
    const K = p.classes.length;
    const R = K === 2 ? 1 : K;
    if (K < 2) throw new OptionError(`${op}: needs at least 2 classes, got ${K}`);
    for (let c = 1; c < K; c++) if (!(p.classes[c] > p.classes[c - 1])) throw new OptionError(`${op}: classes must be distinct and ascending, got [${Array.from(p.classes).join(', ')}]`);
    if (p.intercept.length !== R || p.coef.length !== R * p.features) {
      throw new ShapeError(`${op}: ${K} classes and ${p.features} features need coef of ${R * p.features} and intercept of ${R} values, got ${p.coef.length} and ${p.intercept.length}`);
    }
    for (const v of [...p.coef, ...p.intercept]) if (!Number.isFinite(v)) throw new OptionError(`${op}: parameters must be finite, got ${v}`);
    const model = new LogisticRegression(options);
    model.setSolution(Float32Array.from(p.coef), Float32Array.from(p.intercept), p.features, Int32Array.from(p.classes));
    return model;
  }

  /** Iterations, final gradient norm and convergence of the last fit. */
  get fitInfo(): LogisticFitInfo {
    if (this.info === null) notFitted('LogisticRegression.fitInfo');
    return this.info;
  }

  fit(X: MatrixInput, y: LabelInput): this {
    const { m, classes, index, R } = this.trainingSet(X, y);
    const F = m.cols;
    const objective = new LogisticObjective(m, index, R, this.C, this.fitIntercept, this.blockRows);
    const theta = new Float64Array(R * (F + 1));
    const r = minimizeLbfgs((x, g) => objective.evaluate(x, g), theta, {
      maxIter: this.maxIter,
      gtol: this.tol,
      onIteration: this.onIteration && ((i) => this.onIteration!(i, this.maxIter)),
    });
    this.setSolution(Float32Array.from(theta.subarray(0, R * F)), Float32Array.from(theta.subarray(R * F)), F, classes);
    const converged = r.stop === 'gtol' || r.stop === 'ftol';
    this.info = { nIter: r.nIter, nFunEvals: r.nFev, gradNorm: r.gradMaxAbs, loss: r.f, converged, stop: r.stop };
    if (!converged) {
      const why =
        r.stop === 'maxIter'
          ? `reached maxIter = ${this.maxIter} iterations`
          : `stopped after ${r.nIter} iterations: the line search found no point satisfying the Wolfe conditions (rounding in float32 near the optimum, or badly scaled data)`;
      this.onWarning(
        `ConvergenceWarning: LogisticRegression (lbfgs) failed to converge: ${why}; max |gradient| = ${r.gradMaxAbs.toExponential(3)} > tol = ${this.tol}. ` +
          'Increase maxIter or scale the data (e.g. with StandardScaler).',
      );
    }
    return this;
  }

  /** Class probabilities [N, K] (softmax, or sigmoid for two classes), columns in `classes` order. */
  predictProba(X: MatrixInput): Tensor {
    const dec = this.decisionFunction(X);
    const n = dec.shape[0];
    const R = dec.shape[1];
    const K = this.classes.length;
    const out = new Float32Array(n * K);
    const z = dec.data;
    for (let i = 0; i < n; i++) {
      if (R === 1) {
        const p = 1 / (1 + Math.exp(-z[i]));
        out[2 * i] = 1 - p;
        out[2 * i + 1] = p;
        continue;
      }
      let mx = -Infinity;
      for (let c = 0; c < K; c++) mx = Math.max(mx, z[i * K + c]);
      let s = 0;
      for (let c = 0; c < K; c++) s += Math.exp(z[i * K + c] - mx);
      for (let c = 0; c < K; c++) out[i * K + c] = Math.exp(z[i * K + c] - mx) / s;
    }
    return asTensor(out, n, K);
  }
}

/**
 * The objective J of {@link LogisticRegression} and its gradient, over parameters
 * θ = [W row-major (R × F), b (R)] in double. R = 1 is the binary (sigmoid) case with
 * targets [index = 1]; R ≥ 3 the multinomial case. Exported for tests.
 */
export class LogisticObjective {
  private readonly wf: Float32Array;
  private readonly z: Float32Array;
  private readonly gBlock: Float32Array;

  constructor(
    private readonly X: Matrix,
    private readonly target: Int32Array,
    private readonly R: number,
    private readonly C: number,
    private readonly fitIntercept: boolean,
    private readonly blockRows: number,
  ) {
    const B = Math.min(blockRows, X.rows);
    this.wf = new Float32Array(R * X.cols);
    this.z = new Float32Array(B * R);
    this.gBlock = new Float32Array(R * X.cols);
  }

  /** Returns J(θ) and writes ∇J(θ) into g. */
  evaluate(theta: Float64Array, g: Float64Array): number {
    const { X, R, target, wf, z, gBlock } = this;
    const F = X.cols;
    const N = X.rows;
    const bOff = R * F;
    for (let i = 0; i < bOff; i++) wf[i] = theta[i];
    g.fill(0);
    let loss = 0;
    for (let r0 = 0; r0 < N; r0 += this.blockRows) {
      const B = Math.min(this.blockRows, N - r0);
      // Logits of the block: Z = X_block · Wᵀ  [B, R].
      gemm(false, true, B, R, F, X.data, r0 * F, F, wf, 0, F, z, 0, R, false);
      // Loss per row in double; z is overwritten with the residual p − onehot(y).
      for (let i = 0; i < B; i++) {
        const t = target[r0 + i];
        const off = i * R;
        if (R === 1) {
          const zi = z[off] + (this.fitIntercept ? theta[bOff] : 0);
          // log(1 + e^z) − y·z, computed without overflow.
          loss += (zi > 0 ? zi + Math.log1p(Math.exp(-zi)) : Math.log1p(Math.exp(zi))) - (t === 1 ? zi : 0);
          const p = zi >= 0 ? 1 / (1 + Math.exp(-zi)) : Math.exp(zi) / (1 + Math.exp(zi));
          const res = p - (t === 1 ? 1 : 0);
          z[off] = res;
          g[bOff] += res;
        } else {
          let mx = -Infinity;
          for (let c = 0; c < R; c++) {
            const v = z[off + c] + (this.fitIntercept ? theta[bOff + c] : 0);
            if (v > mx) mx = v;
          }
          let s = 0;
          for (let c = 0; c < R; c++) s += Math.exp(z[off + c] + (this.fitIntercept ? theta[bOff + c] : 0) - mx);
          const lse = mx + Math.log(s);
          loss += lse - (z[off + t] + (this.fitIntercept ? theta[bOff + t] : 0));
          for (let c = 0; c < R; c++) {
            const p = Math.exp(z[off + c] + (this.fitIntercept ? theta[bOff + c] : 0) - lse);
            const res = p - (c === t ? 1 : 0);
            z[off + c] = res;
            g[bOff + c] += res;
          }
        }
      }
      // Gradient of the block: G = residualᵀ · X_block  [R, F], summed into g in double.
      gemm(true, false, R, F, B, z, 0, R, X.data, r0 * F, F, gBlock, 0, F, false);
      for (let i = 0; i < bOff; i++) g[i] += gBlock[i];
    }
    if (!this.fitIntercept) for (let c = 0; c < R; c++) g[bOff + c] = 0;
    let pen = 0;
    const invC = 1 / this.C;
    for (let i = 0; i < bOff; i++) {
      pen += theta[i] * theta[i];
      g[i] += theta[i] * invC;
    }
    return loss + 0.5 * pen * invC;
  }
}
