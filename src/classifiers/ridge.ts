/**
 * Ridge classification, scikit-learn's `RidgeClassifier(solver='cholesky')`: least squares on
 * ±1 targets with an L2 penalty, solved in closed form.
 */
import { OptionError } from '../errors';
import { gemm } from '../tensor/gemm';
import { type LabelInput, type MatrixInput, integer, positive } from './input';
import { LinearClassifierBase } from './linear';

/** Options of {@link RidgeClassifier}; the defaults are scikit-learn's. */
export interface RidgeClassifierOptions {
  /** L2 penalty α. Default 1. α = 0 is allowed but fails loudly when XᵀX is singular. */
  alpha?: number;
  /** Fit an (unpenalised) intercept by centring X and the targets. Default true. */
  fitIntercept?: boolean;
  /** Rows per GEMM block when forming the Gram matrix. Default 2048. */
  blockRows?: number;
}

/**
 * One-vs-all ridge classifier. Targets are +1 for the sample's class and −1 otherwise (one
 * column for two classes, positive = classes[1]; K columns for K ≥ 3). With intercept, X and the
 * targets are centred (means μ_X, μ_Y) and
 *
 *   W = (X_cᵀX_c + αI)⁻¹ X_cᵀY_c,   b = μ_Y − μ_X·W,
 *
 * solved by a Cholesky factorisation of the F×F matrix in double precision (X_cᵀX_c is
 * accumulated from float32 GEMM blocks into double). The primal F×F system is used whatever
 * N is (scikit-learn switches to the N×N kernel form when F > N; the solution is the same).
 * Prediction is the argmax of X·Wᵀ + b (ties to the smaller label). One class is an error.
 *
 * @example
 * ```ts
 * const ridge = new RidgeClassifier({ alpha: 1 }).fit(xTrain, yTrain);
 * ridge.score(xTest, yTest);
 * ```
 */
export class RidgeClassifier extends LinearClassifierBase {
  protected readonly name = 'RidgeClassifier';
  readonly alpha: number;
  readonly fitIntercept: boolean;
  private readonly blockRows: number;

  constructor(options: RidgeClassifierOptions = {}) {
    super();
    this.alpha = positive(options.alpha ?? 1, 'alpha', 'RidgeClassifier', true);
    this.fitIntercept = options.fitIntercept ?? true;
    this.blockRows = integer(options.blockRows ?? 2048, 'blockRows', 'RidgeClassifier', 1);
  }

  fit(X: MatrixInput, y: LabelInput): this {
    const op = 'RidgeClassifier.fit';
    const { m, classes, index, R } = this.trainingSet(X, y);
    const { rows: N, cols: F, data } = m;
    const target = (i: number, c: number): number => (R === 1 ? (index[i] === 1 ? 1 : -1) : index[i] === c ? 1 : -1);

    const muX = new Float64Array(F);
    const muY = new Float64Array(R);
    if (this.fitIntercept) {
      for (let i = 0; i < N; i++) for (let j = 0; j < F; j++) muX[j] += data[i * F + j];
      for (let j = 0; j < F; j++) muX[j] /= N;
      for (let i = 0; i < N; i++) for (let c = 0; c < R; c++) muY[c] += target(i, c);
      for (let c = 0; c < R; c++) muY[c] /= N;
    }

    // A = X_cᵀX_c (upper triangle, F×F) and Z = X_cᵀY_c (F×R), summed over row blocks in double.
    const A = new Float64Array(F * F);
    const Z = new Float64Array(F * R);
    const B = Math.min(this.blockRows, N);
    const xc = new Float32Array(B * F);
    const yc = new Float32Array(B * R);
    // Square tiles of about 200 (balanced over F): measured faster than one F×F product even
    // before counting the tiles below the diagonal that are skipped.
    const nTiles = Math.max(1, Math.round(F / 200));
    const tile = Math.ceil(F / nTiles / 8) * 8;
    const g32 = new Float32Array(tile * tile);
    const z32 = new Float32Array(F * R);
    for (let r0 = 0; r0 < N; r0 += B) {
      const nb = Math.min(B, N - r0);
      for (let i = 0; i < nb; i++) {
        for (let j = 0; j < F; j++) xc[i * F + j] = data[(r0 + i) * F + j] - muX[j];
        for (let c = 0; c < R; c++) yc[i * R + c] = target(r0 + i, c) - muY[c];
      }
      // Only tiles on or above the diagonal: the Gram matrix is symmetric.
      for (let i0 = 0; i0 < F; i0 += tile) {
        const ti = Math.min(tile, F - i0);
        for (let j0 = i0; j0 < F; j0 += tile) {
          const tj = Math.min(tile, F - j0);
          gemm(true, false, ti, tj, nb, xc, i0, F, xc, j0, F, g32, 0, tj, false);
          for (let a = 0; a < ti; a++) for (let b = 0; b < tj; b++) A[(i0 + a) * F + j0 + b] += g32[a * tj + b];
        }
      }
      gemm(true, false, F, R, nb, xc, 0, F, yc, 0, R, z32, 0, R, false);
      for (let i = 0; i < F * R; i++) Z[i] += z32[i];
    }
    for (let i = 0; i < F; i++) {
      A[i * F + i] += this.alpha;
      for (let j = 0; j < i; j++) A[i * F + j] = A[j * F + i];
    }
    choleskyInPlace(A, F, op);
    choleskySolve(A, F, Z, R);

    const w = new Float32Array(R * F);
    const b = new Float32Array(R);
    for (let c = 0; c < R; c++) {
      let s = muY[c];
      for (let j = 0; j < F; j++) {
        w[c * F + j] = Z[j * R + c];
        s -= muX[j] * Z[j * R + c];
      }
      b[c] = this.fitIntercept ? s : 0;
    }
    this.setSolution(w, b, F, classes);
    return this;
  }
}

/**
 * Overwrites the lower triangle of the symmetric positive-definite A (n×n, row-major) with L,
 * A = L·Lᵀ. A pivot ≤ n·eps·max(diag A) means A is singular to working precision: OptionError.
 */
export function choleskyInPlace(A: Float64Array, n: number, op: string): void {
  let maxDiag = 0;
  for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, Math.abs(A[i * n + i]));
  const floor = n * 2.220446049250313e-16 * maxDiag;
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    let d = A[rj + j];
    for (let p = 0; p < j; p++) d -= A[rj + p] * A[rj + p];
    if (!(d > floor)) {
      throw new OptionError(
        `${op}: XᵀX + αI is not positive definite (pivot ${j} is ${d.toExponential(3)}, max diagonal ${maxDiag.toExponential(3)}); with α = 0 the features must be linearly independent — use α > 0`,
      );
    }
    const l = Math.sqrt(d);
    A[rj + j] = l;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = A[ri + j];
      for (let p = 0; p < j; p++) s -= A[ri + p] * A[rj + p];
      A[ri + j] = s / l;
    }
  }
}

/** Solves L·Lᵀ·X = Z in place for the R right-hand sides in Z [n, R] (L from {@link choleskyInPlace}). */
export function choleskySolve(L: Float64Array, n: number, Z: Float64Array, R: number): void {
  for (let i = 0; i < n; i++) {
    for (let p = 0; p < i; p++) {
      const l = L[i * n + p];
      for (let c = 0; c < R; c++) Z[i * R + c] -= l * Z[p * R + c];
    }
    const d = L[i * n + i];
    for (let c = 0; c < R; c++) Z[i * R + c] /= d;
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let p = i + 1; p < n; p++) {
      const l = L[p * n + i];
      for (let c = 0; c < R; c++) Z[i * R + c] -= l * Z[p * R + c];
    }
    const d = L[i * n + i];
    for (let c = 0; c < R; c++) Z[i * R + c] /= d;
  }
}
