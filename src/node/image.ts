/**
 * Digit images from files, for `spikessl predict` and `predictFiles`: PNG (8-bit grayscale or RGB,
 * decompressed with node:zlib), PGM (P5/P2) and IDX image files ([N, 28, 28] unsigned bytes, as
 * MNIST's), told apart by their first bytes, whatever the file is called.
 */
import { inflateSync } from 'node:zlib';
import { parseIdx } from '../data/idx';
import { type DecodedImage, type MnistPixelsOptions, PNG_SIGNATURE, mnistPixels, parsePgm, parsePng } from '../data/image';
import { DataFormatError, ShapeError, fmtShape } from '../errors';
import { readFileChecked } from './fs';

/** Decodes PNG bytes (see `parsePng`), inflating with node:zlib, never past the size the header declares. */
export function decodePng(bytes: Uint8Array, source = 'PNG data'): DecodedImage {
  return parsePng(bytes, source, (data, maxLength) => inflateSync(data, { maxOutputLength: maxLength }));
}

/** Images read from files, as MNIST network inputs. */
export interface DigitImages {
  /** Row-major [n, 784] pixels in [0, 1], light digits on black. */
  images: Float32Array;
  n: number;
  /** Where each image came from: the file name, with `[i]` for the i-th image of an IDX file. */
  names: string[];
  /** Whether each image was inverted (a dark digit on a light background; PNG and PGM only). */
  inverted: boolean[];
}

/**
 * Reads PNG, PGM and IDX image files into one batch. Every file is read and checked before any
 * result is returned; the first bad file throws (a `DataFormatError` for a file that is not one
 * of these formats or not 8-bit grayscale/RGB, a `ShapeError` for a size other than 28×28, a
 * `FileError` for one that cannot be read).
 */
export function readDigitImages(files: readonly string[], options: MnistPixelsOptions = {}): DigitImages {
  const size = options.size ?? 28;
  const rows: Float32Array[] = [];
  const names: string[] = [];
  const inverted: boolean[] = [];
  for (const file of files) {
    const bytes = readFileChecked(file);
    const head = String.fromCharCode(...bytes.subarray(0, 2));
    if (PNG_SIGNATURE.every((b, i) => bytes[i] === b) || head === 'P5' || head === 'P2') {
      const image = head === 'P5' || head === 'P2' ? parsePgm(bytes, file) : decodePng(bytes, file);
      const r = mnistPixels(image, file, options);
      rows.push(r.pixels);
      names.push(file);
      inverted.push(r.inverted);
    } else if (bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0) {
      const idx = parseIdx(bytes, file);
      if (idx.dtype !== 'u8' || idx.shape.length !== 3 || idx.shape[1] !== size || idx.shape[2] !== size) {
        throw new ShapeError(`${file}: IDX holds ${idx.dtype} ${fmtShape(idx.shape)}; expected u8 images [N, ${size}, ${size}] as in MNIST`);
      }
      const n = idx.shape[0];
      const all = new Float32Array(idx.data.length);
      for (let i = 0; i < all.length; i++) all[i] = idx.data[i] / 255;
      for (let i = 0; i < n; i++) {
        rows.push(all.subarray(i * size * size, (i + 1) * size * size));
        names.push(`${file}[${i}]`);
        inverted.push(false);
      }
    } else {
      throw new DataFormatError(`${file}: not a PNG, PGM or IDX image file (it starts with bytes ${Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ')})`);
    }
  }
  const images = new Float32Array(rows.length * size * size);
  rows.forEach((r, i) => images.set(r, i * size * size));
  return { images, n: rows.length, names, inverted };
}
