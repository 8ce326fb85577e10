/** Nearest-centroid classification, scikit-learn's `NearestCentroid()` (euclidean, no shrinkage). */
import { Tensor } from '../tensor/tensor';
import { LabelledModel, asTensor } from './base';
import { type LabelInput, type MatrixInput, checkCols, checkTrainable, encodeLabels, notFitted, toMatrix } from './input';

/**
 * Each class is represented by the mean of its training rows; a sample gets the label of the
 * nearest mean in euclidean distance. Distances are computed in double directly (K·F per
 * sample, K is small), so equidistant centroids tie exactly and the tie goes to the smaller
 * label. Fewer than two classes is an error, as in scikit-learn.
 *
 * @example
 * ```ts
 * const nc = new NearestCentroid().fit(xTrain, yTrain);
 * nc.centroids; // Tensor [K, F]
 * nc.score(xTest, yTest);
 * ```
 */
export class NearestCentroid extends LabelledModel {
  protected readonly name = 'NearestCentroid';
  private mean: Float64Array | null = null;
  private nFeatures = 0;

  /** Class means [K, F] (scikit-learn's `centroids_`), rows in `classes` order. */
  get centroids(): Tensor {
    if (this.mean === null) notFitted('NearestCentroid.centroids');
    return asTensor(Float32Array.from(this.mean), this.mean.length / this.nFeatures, this.nFeatures);
  }

  fit(X: MatrixInput, y: LabelInput): this {
    const op = 'NearestCentroid.fit';
    const m = toMatrix(X, op);
    checkTrainable(m, op);
    const { classes, index } = encodeLabels(y, m.rows, op, 2);
    const K = classes.length;
    const F = m.cols;
    const mean = new Float64Array(K * F);
    const count = new Float64Array(K);
    for (let i = 0; i < m.rows; i++) {
      const o = index[i] * F;
      count[index[i]]++;
      for (let j = 0; j < F; j++) mean[o + j] += m.data[i * F + j];
    }
    for (let c = 0; c < K; c++) for (let j = 0; j < F; j++) mean[c * F + j] /= count[c];
    this.mean = mean;
    this.nFeatures = F;
    this.fitted = classes;
    return this;
  }

  predict(X: MatrixInput): Int32Array {
    const op = 'NearestCentroid.predict';
    if (this.mean === null) notFitted(op);
    const m = toMatrix(X, op);
    checkCols(m, this.nFeatures, op);
    const classes = this.classes;
    const K = classes.length;
    const F = m.cols;
    const mean = this.mean;
    const out = new Int32Array(m.rows);
    for (let i = 0; i < m.rows; i++) {
      let best = 0;
      let bestD = Infinity;
      for (let c = 0; c < K; c++) {
        let d = 0;
        for (let j = 0; j < F; j++) {
          const t = m.data[i * F + j] - mean[c * F + j];
          d += t * t;
        }
        if (d < bestD) {
          bestD = d;
          best = c;
        }
      }
      out[i] = classes[best];
    }
    return out;
  }
}
