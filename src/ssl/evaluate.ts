/**
 * Judging a representation on frozen features, as in the paper: a linear probe (logistic
 * regression on standardized features) and k-nearest neighbours (k = 20, cosine distance,
 * distance-weighted votes), both trained on the training split's features.
 */
import { KNN } from '../classifiers/knn';
import { LogisticRegression } from '../classifiers/logistic';
import { confusionMatrix } from '../classifiers/metrics';
import { StandardScaler } from '../classifiers/scaler';
import type { MatrixInput } from '../classifiers/input';
import { OptionError } from '../errors';

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
  /** Iteration budget of the linear probe's L-BFGS. Default 1000. */
  maxIter?: number;
  /**
   * Convergence tolerance of the linear probe on the gradient of the MEAN objective
   * J(W, b) / n (see `LogisticRegression`): it stops when every |∂(J/n)/∂θ_i| ≤ tol. Default
   * 1e-4. (scikit-learn 1.2's `tol` bounds the gradient of the summed J, which grows with n:
   * its 1e-4 on 60,000 rows would ask for 6e4 times more than on one.)
   */
  tol?: number;
  /** Inverse L2 strength of the linear probe (penalty ½‖W‖² / C on the summed loss). Default 1. */
  C?: number;
  /** Neighbours of the kNN. Default 20. */
  k?: number;
  /** Called with a warning the linear probe raises (no convergence). Default console.warn. */
  onWarning?: (message: string) => void;
  /**
   * Standardize `train.data` and `test.data` in place instead of into copies, to save memory
   * (60,000 × 1568 features are 376 MB). The kNN runs first, on the unscaled features. Default false.
   */
  overwrite?: boolean;
  /**
   * Called as the work goes: the kNN's test images classified (done of the test set's size), then
   * the linear probe's L-BFGS iterations (done of `maxIter`; when it stops earlier, converged, a
   * last call reports the iterations run as done and total).
   */
  onProgress?: (stage: 'linear probe' | 'kNN', done: number, total: number) => void;
}

/** How the linear probe's fit ended. */
export interface LinearFit {
  iterations: number;
  converged: boolean;
  /** max_i |∂(J/n)/∂θ_i| at the solution: the quantity compared to `tol`. */
  gradient: number;
  tol: number;
}

/** Accuracies of the linear probe and kNN on the test features, the probe's confusion matrix and timings. */
export interface ProbeResult {
  linear: number;
  knn: number;
  /** Confusion matrix of the linear probe on the test split (rows: true class). */
  confusion: number[][];
  labels: number[];
  linearFit: LinearFit;
  seconds: { linear: number; knn: number };
  /** The fitted linear probe: the scaler and logistic regression (what a model file keeps to predict). */
  fitted: { scaler: StandardScaler; classifier: LogisticRegression };
}

/** Test images the kNN classifies per call, between progress reports (its GEMM blocks are 512 queries). */
const KNN_CHUNK = 1024;

/**
 * The kNN's accuracy on `test`, fitted on `train` without a copy of its rows (nothing changes
 * them until it returns, and the model is dropped with this call's frame).
 */
function knnAccuracy(train: FeatureSet, test: FeatureSet, k: number, onProgress: ProbeOptions['onProgress']): number {
  const knn = new KNN({ k, metric: 'cosine', weights: 'distance', copy: false }).fit({ data: train.data, shape: [train.n, train.dim] }, train.labels);
  // Classified in chunks only to report progress: each query's neighbours do not depend on the others.
  let hits = 0;
  for (let r0 = 0; r0 < test.n; r0 += KNN_CHUNK) {
    const rows = Math.min(KNN_CHUNK, test.n - r0);
    const p = knn.predict({ data: test.data.subarray(r0 * test.dim, (r0 + rows) * test.dim), shape: [rows, test.dim] });
    for (let i = 0; i < rows; i++) if (p[i] === test.labels[r0 + i]) hits++;
    onProgress?.('kNN', r0 + rows, test.n);
  }
  return test.n === 0 ? 0 : hits / test.n;
}

function standardizeInPlace(scaler: StandardScaler, f: FeatureSet): void {
  const { mean, scale } = scaler;
  const d = f.data;
  const F = f.dim;
  for (let i = 0; i < f.n; i++) for (let j = 0, o = i * F; j < F; j++) d[o + j] = (d[o + j] - mean[j]) / scale[j];
}

/**
 * Trains both classifiers on `train` and scores them on `test`. The linear probe is run to
 * convergence (the mean-objective gradient under `tol`); when it stops short, `linearFit.converged`
 * is false and `onWarning` is told.
 *
 * @example
 * ```ts
 * const r = probe(trainFeatures, testFeatures);
 * r.linear; r.knn;            // accuracies in [0, 1]
 * r.linearFit.converged;      // true unless a warning was raised
 * ```
 */
export function probe(train: FeatureSet, test: FeatureSet, options: ProbeOptions = {}): ProbeResult {
  if (train.dim !== test.dim) throw new OptionError(`probe: train features have ${train.dim} columns, test features ${test.dim}`);
  const tol = options.tol ?? 1e-4;
  if (!(tol > 0)) throw new OptionError(`probe: tol must be positive, got ${tol}`);
  const X = { data: train.data, shape: [train.n, train.dim] };
  const Xt = { data: test.data, shape: [test.n, test.dim] };
  const onProgress = options.onProgress;
  let t0 = performance.now();
  const knnAcc = knnAccuracy(train, test, options.k ?? DEFAULT_PROBE_K, onProgress);
  const knnSeconds = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const scaler = new StandardScaler().fit(X);
  let Xs: MatrixInput;
  let Xts: MatrixInput;
  if (options.overwrite) {
    standardizeInPlace(scaler, train);
    standardizeInPlace(scaler, test);
    Xs = X;
    Xts = Xt;
  } else {
    Xs = scaler.transform(X);
    Xts = scaler.transform(Xt);
  }
  // J sums over the n rows, so its gradient bound is n · tol (at least tol for an empty set).
  const maxIter = options.maxIter ?? 1000;
  const onIteration = onProgress && ((i: number) => onProgress('linear probe', i, maxIter));
  const lr = new LogisticRegression({ C: options.C ?? 1, maxIter, tol: tol * Math.max(1, train.n), onWarning: options.onWarning, onIteration }).fit(Xs, train.labels);
  if (onProgress && lr.fitInfo.nIter < maxIter) onProgress('linear probe', lr.fitInfo.nIter, lr.fitInfo.nIter);
  const predicted = lr.predict(Xts);
  let correct = 0;
  for (let i = 0; i < test.n; i++) if (predicted[i] === test.labels[i]) correct++;
  const linearSeconds = (performance.now() - t0) / 1000;
  const cm = confusionMatrix(test.labels, predicted);
  const info = lr.fitInfo;
  return {
    linear: test.n === 0 ? 0 : correct / test.n,
    knn: knnAcc,
    confusion: cm.matrix.map((r) => [...r]),
    labels: [...cm.labels],
    linearFit: { iterations: info.nIter, converged: info.converged, gradient: info.gradNorm / Math.max(1, train.n), tol },
    seconds: { linear: linearSeconds, knn: knnSeconds },
    fitted: { scaler, classifier: lr },
  };
}
