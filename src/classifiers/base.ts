/** What every classifier shares: the fitted label set and `score`. */
import { Tensor } from '../tensor/tensor';
import { type LabelInput, type MatrixInput, checkLabelVector, notFitted, toMatrix } from './input';
import { accuracy } from './metrics';

/** The common interface of the classifiers in spikessl. */
export interface Classifier {
  /** The distinct training labels, ascending (scikit-learn's `classes_`). Throws before `fit`. */
  readonly classes: Int32Array;
  /** Fits the model to X [N, F] and labels y (any non-negative integers). Returns the model. */
  fit(X: MatrixInput, y: LabelInput): this;
  /** The predicted label of each row of X. */
  predict(X: MatrixInput): Int32Array;
  /** Mean accuracy of `predict(X)` against y. */
  score(X: MatrixInput, y: LabelInput): number;
}

/** Base class: holds `classes` and implements `score` on top of `predict`. */
export abstract class LabelledModel implements Classifier {
  protected fitted: Int32Array | null = null;
  protected abstract readonly name: string;

  get classes(): Int32Array {
    if (this.fitted === null) notFitted(`${this.name}.classes`);
    return this.fitted;
  }

  abstract fit(X: MatrixInput, y: LabelInput): this;
  abstract predict(X: MatrixInput): Int32Array;

  /** Fraction of rows of X whose predicted label equals y (a ShapeError for an empty X). */
  score(X: MatrixInput, y: LabelInput): number {
    const m = toMatrix(X, `${this.name}.score`);
    const labels = checkLabelVector(y, m.rows, `${this.name}.score`);
    // Plain rows are converted once: predict gets the float32 matrix.
    return accuracy(labels, this.predict(Array.isArray(X) ? { data: m.data, shape: [m.rows, m.cols] } : X));
  }
}

/** Labels of the row-wise argmax of decision values [N, R]; R = 1 means binary (positive = classes[1]). */
export function labelsFromDecision(dec: Float32Array, n: number, classes: Int32Array): Int32Array {
  const out = new Int32Array(n);
  const k = classes.length;
  if (k === 1) {
    out.fill(classes[0]);
    return out;
  }
  if (k === 2 && dec.length === n) {
    for (let i = 0; i < n; i++) out[i] = dec[i] > 0 ? classes[1] : classes[0];
    return out;
  }
  for (let i = 0; i < n; i++) {
    const off = i * k;
    let best = 0;
    let bv = dec[off];
    // Strict > keeps the first maximum: ties go to the smaller label.
    for (let c = 1; c < k; c++) {
      if (dec[off + c] > bv) {
        bv = dec[off + c];
        best = c;
      }
    }
    out[i] = classes[best];
  }
  return out;
}

/** Wraps row-major float data as a [rows, cols] Tensor. */
export function asTensor(data: Float32Array, rows: number, cols: number): Tensor {
  return new Tensor(data, [rows, cols]);
}
