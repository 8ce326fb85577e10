/**
 * Judging a representation on frozen features, as in the paper: a linear probe (logistic
 * regression on standardized features) and k-nearest neighbours (k = 20, cosine distance,
 * distance-weighted votes), both trained on the training split's features.
 */
import { KNN } from '../classifiers/knn';
import { LogisticRegression } from '../classifiers/logistic';
import { confusionMatrix } from '../classifiers/metrics';
import { StandardScaler } from '../classifiers/scaler';

/** Features of one split: a row-major Float32Array [n, dim] and its labels. */
export interface FeatureSet {
  data: Float32Array;
  n: number;
  dim: number;
  labels: Int32Array;
}

/** The kNN's neighbours in {@link probe} unless told otherwise (the paper's k). */
export const DEFAULT_PROBE_K = 20;

/** Options of {@link probe}. */
export interface ProbeOptions {
  /** L-BFGS iterations of the linear probe. Default 100 (scikit-learn's default). */
  maxIter?: number;
  /** Neighbours of the kNN. Default 20. */
  k?: number;
  /** Called with a warning the linear probe raises (no convergence). Default console.warn. */
  onWarning?: (message: string) => void;
}

/** Accuracies of the linear probe and kNN on the test features, the probe's confusion matrix and timings. */
export interface ProbeResult {
  linear: number;
  knn: number;
  /** Confusion matrix of the linear probe on the test split (rows: true class). */
  confusion: number[][];
  labels: number[];
  seconds: { linear: number; knn: number };
}

/** Trains both classifiers on `train` and scores them on `test`. */
export function probe(train: FeatureSet, test: FeatureSet, options: ProbeOptions = {}): ProbeResult {
  const X = { data: train.data, shape: [train.n, train.dim] };
  const Xt = { data: test.data, shape: [test.n, test.dim] };
  let t0 = performance.now();
  const scaler = new StandardScaler().fit(X);
  const lr = new LogisticRegression({ maxIter: options.maxIter ?? 100, onWarning: options.onWarning }).fit(scaler.transform(X), train.labels);
  const predicted = lr.predict(scaler.transform(Xt));
  let correct = 0;
  for (let i = 0; i < test.n; i++) if (predicted[i] === test.labels[i]) correct++;
  const linearSeconds = (performance.now() - t0) / 1000;
  const cm = confusionMatrix(test.labels, predicted);
  t0 = performance.now();
  const knn = new KNN({ k: options.k ?? DEFAULT_PROBE_K, metric: 'cosine', weights: 'distance' }).fit(X, train.labels);
  const knnAcc = knn.score(Xt, test.labels);
  const knnSeconds = (performance.now() - t0) / 1000;
  return {
    linear: test.n === 0 ? 0 : correct / test.n,
    knn: knnAcc,
    confusion: cm.matrix.map((r) => [...r]),
    labels: [...cm.labels],
    seconds: { linear: linearSeconds, knn: knnSeconds },
  };
}
