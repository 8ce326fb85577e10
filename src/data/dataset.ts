/**
 * In-memory labelled image datasets and mini-batches.
 *
 * A {@link Dataset} holds N samples as one row-major `Float32Array` [N, D] (D = the product of
 * `sampleShape`) and their integer labels. {@link batches} walks it once (one epoch) in seeded
 * random order; each batch is a fresh tensor, so keeping one (e.g. in an autograd graph) is safe.
 */
import { OptionError, ShapeError, fmtShape } from '../errors';
import type { Rng } from '../rng';
import { Tensor } from '../tensor/tensor';

/** N labelled samples. `images[i * dim + j]` is feature j of sample i. */
export interface Dataset {
  /** [n, dim] row-major, for images the pixel intensities in [0, 1]. */
  images: Float32Array;
  /** One non-negative class index per sample. */
  labels: Int32Array;
  /** Number of samples. */
  n: number;
  /** Features per sample: the product of `sampleShape`. */
  dim: number;
  /** The shape of one sample, e.g. [28, 28] for MNIST. */
  sampleShape: number[];
}

/**
 * Builds a {@link Dataset}, checking that the sizes agree (a `ShapeError` otherwise) and that the
 * labels are non-negative integers (an `OptionError` otherwise). The arrays are not copied.
 *
 * @example
 * ```ts
 * const ds = makeDataset(new Float32Array(3 * 4), Int32Array.of(0, 1, 0), [2, 2]);
 * ds.n;   // 3
 * ds.dim; // 4
 * ```
 */
export function makeDataset(images: Float32Array, labels: Int32Array, sampleShape: readonly number[]): Dataset {
  if (!sampleShape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new ShapeError(`makeDataset: sampleShape must be a list of non-negative integers, got ${fmtShape(sampleShape)}`);
  }
  const dim = sampleShape.reduce((a, b) => a * b, 1);
  const n = labels.length;
  if (images.length !== n * dim) {
    throw new ShapeError(`makeDataset: ${n} labels of samples shaped ${fmtShape(sampleShape)} need ${n * dim} image values, got ${images.length}`);
  }
  for (let i = 0; i < n; i++) {
    if (labels[i] < 0) throw new OptionError(`makeDataset: labels must be non-negative, label ${i} is ${labels[i]}`);
  }
  return { images, labels, n, dim, sampleShape: sampleShape.slice() };
}

/**
 * A new dataset of some samples of `ds` (copied): the first `n` when given a number, else the
 * samples at `indices`, in that order (repeats allowed). Out-of-range requests throw an `OptionError`.
 *
 * @example
 * ```ts
 * const small = subset(train, 1000);               // the first 1000 samples
 * const picked = subset(train, Int32Array.of(5, 2)); // samples 5 and 2
 * ```
 */
export function subset(ds: Dataset, selection: number | ArrayLike<number>): Dataset {
  const { dim } = ds;
  if (typeof selection === 'number') {
    if (!Number.isSafeInteger(selection) || selection < 0 || selection > ds.n) {
      throw new OptionError(`subset: n must be an integer in [0, ${ds.n}], got ${selection}`);
    }
    return makeDataset(ds.images.slice(0, selection * dim), ds.labels.slice(0, selection), ds.sampleShape);
  }
  const m = selection.length;
  const images = new Float32Array(m * dim);
  const labels = new Int32Array(m);
  for (let k = 0; k < m; k++) {
    const i = selection[k];
    if (!Number.isInteger(i) || i < 0 || i >= ds.n) throw new OptionError(`subset: index ${i} (position ${k}) is outside [0, ${ds.n})`);
    images.set(ds.images.subarray(i * dim, (i + 1) * dim), k * dim);
    labels[k] = ds.labels[i];
  }
  return { images, labels, n: m, dim, sampleShape: ds.sampleShape.slice() };
}

/** Options of {@link batches}. */
export interface BatchOptions {
  /** Samples per batch (a positive integer). */
  batchSize: number;
  /** Visit the samples in a random order drawn from `rng` (default true); false: in order 0..n−1. */
  shuffle?: boolean;
  /** Skip the last batch when it has fewer than `batchSize` samples (default false). */
  dropLast?: boolean;
  /** Required when shuffling. Each epoch draws one permutation, advancing the generator. */
  rng?: Rng;
}

/** One mini-batch. */
export interface Batch {
  /** [B, dim], a fresh tensor. */
  x: Tensor;
  /** The B labels. */
  y: Int32Array;
  /** The dataset positions of the B samples. */
  indices: Int32Array;
}

function checkBatchOptions(op: string, options: BatchOptions): void {
  const { batchSize } = options;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw new OptionError(`${op}: batchSize must be a positive integer, got ${batchSize}`);
}

/**
 * The number of batches {@link batches} yields for `n` samples.
 *
 * @example
 * ```ts
 * batchCount(10, { batchSize: 4 });                 // 3
 * batchCount(10, { batchSize: 4, dropLast: true }); // 2
 * ```
 */
export function batchCount(n: number, options: Pick<BatchOptions, 'batchSize' | 'dropLast'>): number {
  checkBatchOptions('batchCount', options);
  return options.dropLast ? Math.floor(n / options.batchSize) : Math.ceil(n / options.batchSize);
}

/**
 * One epoch over `ds` in mini-batches: every sample exactly once (except the short tail batch
 * when `dropLast`), in an order drawn from `rng` when `shuffle` (the default). Calling it again
 * with the same generator gives the next epoch's order; the same seed replays the same epochs.
 * Options are checked and the permutation drawn when `batches` is called, not at the first batch.
 *
 * @example
 * ```ts
 * const rng = new Rng(0);
 * for (let epoch = 0; epoch < 3; epoch++) {
 *   for (const { x, y } of batches(train, { batchSize: 256, rng })) {
 *     // x: Tensor [256, 784] (the last batch may be smaller), y: Int32Array of labels
 *   }
 * }
 * ```
 */
export function batches(ds: Dataset, options: BatchOptions): Generator<Batch, void, undefined> {
  checkBatchOptions('batches', options);
  const { batchSize, shuffle = true, dropLast = false, rng } = options;
  if (shuffle && rng === undefined) throw new OptionError('batches: shuffle needs an rng (pass { rng: new Rng(seed) }, or shuffle: false)');
  const { n, dim, images, labels } = ds;
  let order: Int32Array;
  if (shuffle) {
    order = (rng as Rng).permutation(n);
  } else {
    order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
  }
  return batchGenerator(images, labels, dim, order, batchSize, dropLast ? n - (n % batchSize) : n);
}

function* batchGenerator(images: Float32Array, labels: Int32Array, dim: number, order: Int32Array, batchSize: number, end: number): Generator<Batch, void, undefined> {
  for (let start = 0; start < end; start += batchSize) {
    const b = Math.min(batchSize, end - start);
    const indices = order.slice(start, start + b);
    const x = new Float32Array(b * dim);
    const y = new Int32Array(b);
    for (let k = 0; k < b; k++) {
      const i = indices[k];
      x.set(images.subarray(i * dim, (i + 1) * dim), k * dim);
      y[k] = labels[i];
    }
    yield { x: new Tensor(x, [b, dim]), y, indices };
  }
}
