/**
 * The IDX format of the MNIST distribution (bytes in; file access is in `spikessl/node`).
 *
 * ```
 * byte 0, 1   0x00 0x00
 * byte 2      element type: 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64
 * byte 3      number of dimensions d
 * 4·d bytes   the dimensions, unsigned 32-bit big-endian
 * the rest    the elements, row-major, big-endian, exactly the product of the dimensions
 * ```
 */
import { DataFormatError, OptionError } from '../errors';

/** Element types of IDX files, by name. */
export type IdxDType = 'u8' | 'i8' | 'i16' | 'i32' | 'f32' | 'f64';

/** A parsed IDX file. `data` is a fresh array (it never shares memory with the input bytes). */
export interface IdxArray {
  dtype: IdxDType;
  shape: number[];
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

const TYPES: ReadonlyMap<number, { dtype: IdxDType; size: number }> = new Map([
  [0x08, { dtype: 'u8', size: 1 }],
  [0x09, { dtype: 'i8', size: 1 }],
  [0x0b, { dtype: 'i16', size: 2 }],
  [0x0c, { dtype: 'i32', size: 4 }],
  [0x0d, { dtype: 'f32', size: 4 }],
  [0x0e, { dtype: 'f64', size: 8 }],
] as const);

const hex = (b: number): string => `0x${b.toString(16).padStart(2, '0')}`;

/**
 * Parses an IDX file. `source` (e.g. the file name) starts every error message.
 *
 * Throws a `DataFormatError` for a wrong magic number, an unknown element type, zero
 * dimensions, a truncated header, and data whose length is not the product of the dimensions
 * times the element size (too short, or trailing bytes).
 *
 * @example
 * ```ts
 * // A 2×3 image of unsigned bytes.
 * const bytes = Uint8Array.of(0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6);
 * const { dtype, shape, data } = parseIdx(bytes, 'tiny-idx2-ubyte');
 * // dtype 'u8', shape [2, 3], data Uint8Array [1, 2, 3, 4, 5, 6]
 * ```
 */
export function parseIdx(bytes: Uint8Array, source = 'IDX data'): IdxArray {
  if (!(bytes instanceof Uint8Array)) throw new OptionError(`parseIdx: expected a Uint8Array, got ${(bytes as unknown)?.constructor?.name ?? typeof bytes}`);
  const bad = (problem: string): DataFormatError => new DataFormatError(`${source}: ${problem}`);
  if (bytes.length < 4) throw bad(`truncated header: ${bytes.length} bytes, fewer than the 4-byte magic number of an IDX file`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw bad(`wrong magic number: an IDX file starts with two zero bytes, got ${hex(bytes[0])} ${hex(bytes[1])} (gzip-compressed files start with 0x1f 0x8b: decompress them first)`);
  }
  const type = TYPES.get(bytes[2]);
  if (type === undefined) throw bad(`unknown element type ${hex(bytes[2])} (expected 0x08 u8, 0x09 i8, 0x0b i16, 0x0c i32, 0x0d f32 or 0x0e f64)`);
  const ndim = bytes[3];
  if (ndim === 0) throw bad('the header declares zero dimensions');
  const dataStart = 4 + 4 * ndim;
  if (bytes.length < dataStart) throw bad(`truncated header: ${ndim} dimensions need ${dataStart} header bytes, the file has ${bytes.length}`);

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let i = 0; i < ndim; i++) shape.push(view.getUint32(4 + 4 * i, false));
  const dataBytes = bytes.length - dataStart;
  // The exact byte count (BigInt: a product of up to 255 u32 dimensions overflows a double).
  const needed = shape.reduce((acc, d) => acc * BigInt(d), BigInt(type.size));
  if (needed !== BigInt(dataBytes)) {
    const what = needed > BigInt(dataBytes) ? 'truncated data' : `${BigInt(dataBytes) - needed} trailing bytes`;
    throw bad(`${what}: dimensions [${shape.join(', ')}] of ${type.dtype} need ${needed} bytes after the ${dataStart}-byte header, the file has ${dataBytes}`);
  }
  const numel = dataBytes / type.size;

  let data: IdxArray['data'];
  switch (type.dtype) {
    // Copies (not bytes.slice(), which on a Node Buffer is a view).
    case 'u8':
      data = new Uint8Array(bytes.subarray(dataStart));
      break;
    case 'i8':
      data = new Int8Array(new Uint8Array(bytes.subarray(dataStart)).buffer);
      break;
    case 'i16': {
      const a = new Int16Array(numel);
      for (let i = 0, p = dataStart; i < numel; i++, p += 2) a[i] = view.getInt16(p, false);
      data = a;
      break;
    }
    case 'i32': {
      const a = new Int32Array(numel);
      for (let i = 0, p = dataStart; i < numel; i++, p += 4) a[i] = view.getInt32(p, false);
      data = a;
      break;
    }
    case 'f32': {
      const a = new Float32Array(numel);
      for (let i = 0, p = dataStart; i < numel; i++, p += 4) a[i] = view.getFloat32(p, false);
      data = a;
      break;
    }
    case 'f64': {
      const a = new Float64Array(numel);
      for (let i = 0, p = dataStart; i < numel; i++, p += 8) a[i] = view.getFloat64(p, false);
      data = a;
      break;
    }
  }
  return { dtype: type.dtype, shape, data };
}
