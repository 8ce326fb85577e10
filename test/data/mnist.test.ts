/**
 * mnistFromIdx: an IDX pair to a Dataset, checked. The same function behind loadMnist (disk) and
 * the web demo's parseDigits (bytes), so both refuse the same pairs with the same messages.
 */
import { describe, expect, it } from 'vitest';
import { DataFormatError } from '../../src/errors';
import type { IdxArray } from '../../src/data/idx';
import { mnistFromIdx } from '../../src/data/mnist';

const idx = (dtype: IdxArray['dtype'], shape: number[], data: ArrayLike<number>): IdxArray => {
  const arrays = { u8: Uint8Array, i8: Int8Array, i16: Int16Array, i32: Int32Array, f32: Float32Array, f64: Float64Array } as const;
  return { dtype, shape, data: arrays[dtype].from(data) } as IdxArray;
};
const names = { images: 'img.idx', labels: 'lab.idx' };

describe('mnistFromIdx', () => {
  it('scales pixels by 1/255, flattens each image and keeps the labels', () => {
    const d = mnistFromIdx(idx('u8', [2, 1, 3], [0, 255, 51, 102, 153, 204]), idx('u8', [2], [7, 3]), names);
    expect(d.n).toBe(2);
    expect(d.sampleShape).toEqual([1, 3]);
    // 51/255 = 0.2 exactly in decimal; float32 rounding of each quotient.
    expect(Array.from(d.images)).toEqual([0, 1, 0.2, 0.4, 0.6, 0.8].map(Math.fround));
    expect(Array.from(d.labels)).toEqual([7, 3]);
  });

  it('refuses pairs that are not MNIST-format, naming the file', () => {
    const cases: Array<[IdxArray, IdxArray, RegExp]> = [
      [idx('f32', [1, 2, 2], [0, 0, 0, 0]), idx('u8', [1], [0]), /img\.idx: images must be unsigned bytes \(type 0x08\), got f32/],
      [idx('u8', [4], [0, 0, 0, 0]), idx('u8', [1], [0]), /img\.idx: images must be 3-D \[N, height, width\], got 1-D \[4\]/],
      [idx('u8', [1, 1, 1], [0]), idx('f64', [1], [0]), /lab\.idx: labels must be integers, got f64/],
      [idx('u8', [1, 1, 1], [0]), idx('u8', [1, 1], [0]), /lab\.idx: labels must be 1-D \[N\], got 2-D \[1, 1\]/],
      [idx('u8', [0, 28, 28], []), idx('u8', [0], []), /img\.idx: holds no images/],
      [idx('u8', [2, 0, 28], []), idx('u8', [2], [0, 1]), /img\.idx: images must have at least one pixel, got 0×28/],
      [idx('u8', [2, 1, 1], [0, 0]), idx('u8', [3], [0, 1, 2]), /lab\.idx: 3 labels for the 2 images of img\.idx/],
      [idx('u8', [2, 1, 1], [0, 0]), idx('i16', [2], [0, -1]), /lab\.idx: labels must be non-negative, label 1 is -1/],
    ];
    for (const [images, labels, message] of cases) {
      expect(() => mnistFromIdx(images, labels, names)).toThrow(DataFormatError);
      expect(() => mnistFromIdx(images, labels, names)).toThrow(message);
    }
  });
});
