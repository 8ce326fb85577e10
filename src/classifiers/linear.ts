/** What the linear classifiers share: a weight matrix W [R, F], intercepts b [R] and prediction by X·Wᵀ + b. */
import { gemm } from '../tensor/gemm';
import { Tensor } from '../tensor/tensor';
import { LabelledModel, asTensor, labelsFromDecision } from './base';
import { type LabelInput, type Matrix, type MatrixInput, checkCols, checkTrainable, encodeLabels, notFitted, toMatrix } from './input';

/** Validated training data of a linear classifier, with the number R of weight rows it needs. */
export interface LinearTrainingSet {
  readonly m: Matrix;
  readonly classes: Int32Array;
  /** `index[i]` is the position of `y[i]` in `classes`. */
  readonly index: Int32Array;
  /** 1 for two classes (one score, positive = classes[1]), else K (one score per class). */
  readonly R: number;
}

/**
 * Base class of `LogisticRegression`, `LinearSVC` and `RidgeClassifier`: it
 * holds the solution W [R, F], b [R] (R = 1 for two classes, else K, as scikit-learn) and
 * implements `coef`, `intercept`, `decisionFunction` and `predict` on it. A subclass's `fit`
 * computes W and b and stores them with {@link LinearClassifierBase.setSolution}.
 */
export abstract class LinearClassifierBase extends LabelledModel {
  private w: Float32Array | null = null;
  private b: Float32Array | null = null;
  private nFeatures = 0;

  /** Weights [R, F] (R = 1 for two classes, else K), scikit-learn's `coef_`. */
  get coef(): Tensor {
    if (this.w === null) notFitted(`${this.name}.coef`);
    return asTensor(this.w, this.w.length / this.nFeatures, this.nFeatures);
  }

  /** Intercepts [R], scikit-learn's `intercept_` (zeros when fitIntercept is false). */
  get intercept(): Float32Array {
    if (this.b === null) notFitted(`${this.name}.intercept`);
    return this.b;
  }

  /** Raw scores X·Wᵀ + b: [N, R] (R = 1 for two classes: > 0 means classes[1]; else R = K). */
  decisionFunction(X: MatrixInput): Tensor {
    const op = `${this.name}.decisionFunction`;
    if (this.w === null || this.b === null) notFitted(op);
    const m = toMatrix(X, op);
    checkCols(m, this.nFeatures, op);
    return linearDecision(m.data, m.rows, m.cols, this.w, this.b);
  }

  /** The label of the highest score of each row (ties to the smaller label; two classes: classes[1] where the score is > 0). */
  predict(X: MatrixInput): Int32Array {
    const dec = this.decisionFunction(X);
    return labelsFromDecision(dec.data, dec.shape[0], this.classes);
  }

  /**
   * Checks the training data of `fit` (at least one row, one feature and two classes) and encodes the labels.
   * @internal
   */
  protected trainingSet(X: MatrixInput, y: LabelInput): LinearTrainingSet {
    const op = `${this.name}.fit`;
    const m = toMatrix(X, op);
    checkTrainable(m, op);
    const { classes, index } = encodeLabels(y, m.rows, op, 2);
    return { m, classes, index, R: classes.length === 2 ? 1 : classes.length };
  }

  /** Stores the fitted model: W [R, F] row-major in `w`, b [R], and the label set. */
  protected setSolution(w: Float32Array, b: Float32Array, nFeatures: number, classes: Int32Array): void {
    this.w = w;
    this.b = b;
    this.nFeatures = nFeatures;
    this.fitted = classes;
  }
}

/** X·Wᵀ + b with W [R, F] by GEMM, as a Tensor [N, R]. */
export function linearDecision(x: Float32Array, n: number, f: number, w: Float32Array, b: Float32Array): Tensor {
  const R = b.length;
  const out = new Float32Array(n * R);
  if (n > 0) gemm(false, true, n, R, f, x, 0, f, w, 0, f, out, 0, R, false);
  for (let i = 0; i < n; i++) for (let c = 0; c < R; c++) out[i * R + c] += b[c];
  return asTensor(out, n, R);
}
