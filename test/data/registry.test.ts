import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDataset } from '../../src/data/dataset';
import { DATASETS, datasetInfo, holdOut } from '../../src/data/registry';
import { DataFormatError, OptionError } from '../../src/errors';
import { FASHION_MNIST_DIR, loadDataset } from '../../src/node/datasets';

describe('datasetInfo', () => {
  it('knows MNIST and Fashion-MNIST with ten classes each, Zalando’s names in label order', () => {
    expect(datasetInfo('mnist').classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(datasetInfo('fashion-mnist').classes).toEqual(['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']);
    expect(Object.keys(DATASETS)).toEqual(['mnist', 'fashion-mnist']);
  });

  it('refuses an unknown name, listing the known ones', () => {
    expect(() => datasetInfo('cifar10')).toThrow(OptionError);
    expect(() => datasetInfo('cifar10')).toThrow(/unknown dataset 'cifar10', expected one of: mnist, fashion-mnist/);
    expect(() => datasetInfo('toString')).toThrow(OptionError);
  });
});

describe('holdOut', () => {
  // Sample i holds the values 10·i and 10·i + 1, label i % 3.
  const ds = makeDataset(Float32Array.from({ length: 14 }, (_, j) => 10 * Math.floor(j / 2) + (j % 2)), Int32Array.from({ length: 7 }, (_, i) => i % 3), [2]);

  it('keeps the first N − n samples for training and the last n for validation, in order', () => {
    const { train, val } = holdOut(ds, 3);
    expect([train.n, val.n]).toEqual([4, 3]);
    expect(Array.from(train.images)).toEqual([0, 1, 10, 11, 20, 21, 30, 31]);
    expect(Array.from(val.images)).toEqual([40, 41, 50, 51, 60, 61]);
    expect(Array.from(train.labels)).toEqual([0, 1, 2, 0]);
    expect(Array.from(val.labels)).toEqual([1, 2, 0]);
    expect(val.sampleShape).toEqual([2]);
  });

  it('n = 0 leaves an empty validation set; n ≥ N, negative or fractional n is an OptionError', () => {
    expect(holdOut(ds, 0).val.n).toBe(0);
    expect(holdOut(ds, 0).train.n).toBe(7);
    expect(() => holdOut(ds, 7)).toThrow(/validation size must be an integer in \[0, 6\] \(the training set has 7 samples\), got 7/);
    expect(() => holdOut(ds, -1)).toThrow(OptionError);
    expect(() => holdOut(ds, 1.5)).toThrow(OptionError);
  });
});

describe.runIf(existsSync(FASHION_MNIST_DIR))('Fashion-MNIST from Debian’s dataset-fashion-mnist', () => {
  it('loads 60,000 + 10,000 images of 28×28, 6,000 / 1,000 of each class (the published balance)', () => {
    const train = loadDataset({ name: 'fashion-mnist', split: 'train' });
    const test = loadDataset({ name: 'fashion-mnist', split: 'test' });
    expect([train.n, train.sampleShape, test.n]).toEqual([60000, [28, 28], 10000]);
    const count = (y: Int32Array) => {
      const c = new Array<number>(10).fill(0);
      for (const v of y) c[v]++;
      return c;
    };
    expect(count(train.labels)).toEqual(new Array(10).fill(6000));
    expect(count(test.labels)).toEqual(new Array(10).fill(1000));
    // The first training image is an ankle boot, the first test image too (Zalando's README figure).
    expect([train.labels[0], test.labels[0]]).toEqual([9, 9]);
    expect(train.info.classes[9]).toBe('Ankle boot');
  });
});

/** A 2×2-image IDX pair: the wrong size for a 28×28 dataset. */
const SMALL = Uint8Array.of(0, 0, 0x08, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4);
function idxImages(n: number, label: number): { images: Uint8Array; labels: Uint8Array } {
  const images = new Uint8Array(16 + n * 784);
  images.set([0, 0, 0x08, 3, 0, 0, 0, n, 0, 0, 0, 28, 0, 0, 0, 28]);
  const labels = new Uint8Array(8 + n).fill(label);
  labels.set([0, 0, 0x08, 1, 0, 0, 0, n]);
  return { images, labels };
}

describe('loadDataset refuses data that is not what the dataset is', () => {
  let tmp = '';
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'spikessl-ds-'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('labels out of range name the folder, the split and the offending label', () => {
    const { images, labels } = idxImages(2, 10);
    writeFileSync(join(tmp, 'train-images-idx3-ubyte'), images);
    writeFileSync(join(tmp, 'train-labels-idx1-ubyte'), labels);
    expect(() => loadDataset({ name: 'fashion-mnist', split: 'train', dir: tmp })).toThrow(DataFormatError);
    expect(() => loadDataset({ name: 'fashion-mnist', split: 'train', dir: tmp })).toThrow(/has 10 classes \(labels 0–9\), train label 0 is 10/);
  });

  it('images that are not 28×28 are refused', () => {
    writeFileSync(join(tmp, 't10k-images-idx3-ubyte'), SMALL);
    writeFileSync(join(tmp, 't10k-labels-idx1-ubyte'), Uint8Array.of(0, 0, 0x08, 1, 0, 0, 0, 1, 3));
    expect(() => loadDataset({ name: 'mnist', split: 'test', dir: tmp })).toThrow(/mnist images must be 28×28, the test images are 2×2/);
  });

  it('a folder without the files says which files it looked for; an unknown name is an OptionError', () => {
    const empty = mkdtempSync(join(tmpdir(), 'spikessl-empty-'));
    try {
      expect(() => loadDataset({ name: 'fashion-mnist', split: 'train', dir: empty })).toThrow(/no train-images-idx3-ubyte in .* \(looked for train-images-idx3-ubyte and train-images-idx3-ubyte.gz\)/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    expect(() => loadDataset({ name: 'kmnist', split: 'train' })).toThrow(OptionError);
  });

  it('a valid folder loads, with the dataset’s info attached', () => {
    const { images, labels } = idxImages(3, 7);
    const dir = mkdtempSync(join(tmpdir(), 'spikessl-ok-'));
    try {
      writeFileSync(join(dir, 'train-images-idx3-ubyte'), images);
      writeFileSync(join(dir, 'train-labels-idx1-ubyte'), labels);
      const ds = loadDataset({ name: 'fashion-mnist', split: 'train', dir });
      expect([ds.n, ds.dim, Array.from(ds.labels), ds.info.name]).toEqual([3, 784, [7, 7, 7], 'fashion-mnist']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
