/**
 * An MNIST-format pair of IDX arrays (images [N, H, W] u8, labels [N] integers) as a Dataset:
 * the one place that checks the pair and scales the pixels, shared by `loadMnist` (files on
 * disk, src/node/mnist.ts) and the browser demo (bytes fetched by the page). Browser-safe.
 */
import { DataFormatError } from '../errors';
import { type Dataset, makeDataset } from './dataset';
import type { IdxArray } from './idx';

/**
 * The dataset an MNIST-format pair holds: images become [N, H·W] floats in [0, 1] (pixel / 255)
 * with `sampleShape` [H, W]; labels are Int32 class indices (any non-negative values). A
 * DataFormatError names the file (`names.images` / `names.labels`) when the images are not 3-D
 * unsigned bytes with at least one image of at least one pixel, the labels are not 1-D
 * non-negative integers, or the counts differ.
 *
 * @example
 * ```ts
 * const test = mnistFromIdx(parseIdx(imageBytes, 't10k-images'), parseIdx(labelBytes, 't10k-labels'), { images: 't10k-images', labels: 't10k-labels' });
 * ```
 */
export function mnistFromIdx(images: IdxArray, labels: IdxArray, names: { images: string; labels: string }): Dataset {
  const { images: imageFile, labels: labelFile } = names;
  if (images.dtype !== 'u8') throw new DataFormatError(`${imageFile}: images must be unsigned bytes (type 0x08), got ${images.dtype}`);
  if (images.shape.length !== 3) throw new DataFormatError(`${imageFile}: images must be 3-D [N, height, width], got ${images.shape.length}-D [${images.shape.join(', ')}]`);
  if (labels.dtype === 'f32' || labels.dtype === 'f64') throw new DataFormatError(`${labelFile}: labels must be integers, got ${labels.dtype}`);
  if (labels.shape.length !== 1) throw new DataFormatError(`${labelFile}: labels must be 1-D [N], got ${labels.shape.length}-D [${labels.shape.join(', ')}]`);
  const [n, h, w] = images.shape;
  if (n === 0) throw new DataFormatError(`${imageFile}: holds no images (dimensions [${images.shape.join(', ')}])`);
  if (h === 0 || w === 0) throw new DataFormatError(`${imageFile}: images must have at least one pixel, got ${h}×${w}`);
  if (labels.shape[0] !== n) throw new DataFormatError(`${labelFile}: ${labels.shape[0]} labels for the ${n} images of ${imageFile}`);

  const pixels = images.data as Uint8Array;
  const x = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) x[i] = pixels[i] / 255;
  const y = Int32Array.from(labels.data as ArrayLike<number>);
  for (let i = 0; i < n; i++) {
    if (y[i] < 0) throw new DataFormatError(`${labelFile}: labels must be non-negative, label ${i} is ${y[i]}`);
  }
  return makeDataset(x, y, [h, w]);
}
