/**
 * Image files for `predict` (bytes in; file access is in `spikessl/node`): the PNG container
 * (chunks, CRC-32, the five row filters) and PGM, and the step that turns a decoded image into an
 * MNIST-style input row.
 *
 * PNG decompression (zlib) is not written here: the caller passes an `inflate` function (in Node,
 * `decodePng` from `spikessl/node` passes node:zlib's). Only what a digit image needs is read:
 * 8-bit grayscale or RGB, not interlaced. Anything else is refused with a `DataFormatError` that
 * names what the file holds.
 */
import { DataFormatError, OptionError, ShapeError } from '../errors';

/** A decoded image: `channels` interleaved 8-bit (or, from PGM, up to 16-bit) samples per pixel, row-major. */
export interface DecodedImage {
  width: number;
  height: number;
  /** 1 (grayscale) or 3 (RGB). */
  channels: 1 | 3;
  /** The largest sample value: 255 for PNG, the file's maxval for PGM. */
  maxValue: number;
  data: Uint8Array | Uint16Array;
}

/** Decompresses zlib data (RFC 1950) to at most `maxLength` bytes; throws if it is corrupt or longer. */
export type Inflate = (data: Uint8Array, maxLength: number) => Uint8Array;

/** The 8 bytes every PNG file starts with. */
export const PNG_SIGNATURE: readonly number[] = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Images larger than this many pixels are refused before anything is decompressed. */
const MAX_PIXELS = 1 << 26;

let crcTable: Uint32Array | null = null;

/** CRC-32 (ISO 3309, polynomial 0xEDB88320 reflected), as PNG's chunks carry it. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (crcTable === null) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const COLOUR_TYPES: Record<number, string> = { 0: 'grayscale', 2: 'RGB', 3: 'palette', 4: 'grayscale with alpha', 6: 'RGBA' };

/**
 * Decodes a PNG file: 8-bit grayscale (colour type 0) or RGB (colour type 2), not interlaced.
 * Checks the signature, every chunk's CRC, the header and the decompressed length before it
 * unfilters the rows. `source` (e.g. the file name) starts every error message.
 *
 * @example
 * ```ts
 * import { inflateSync } from 'node:zlib';
 * const image = parsePng(bytes, 'digit.png', (d, max) => inflateSync(d, { maxOutputLength: max }));
 * ```
 */
export function parsePng(bytes: Uint8Array, source: string, inflate: Inflate): DecodedImage {
  if (bytes.length < 8 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) throw new DataFormatError(`${source}: not a PNG file (no PNG signature)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let header: { width: number; height: number; depth: number; colour: number; interlace: number } | null = null;
  const idat: Uint8Array[] = [];
  let idatLength = 0;
  let ended = false;
  for (let p = 8; !ended; ) {
    if (p + 12 > bytes.length) throw new DataFormatError(`${source}: PNG truncated at byte ${p} (a chunk needs 12 bytes, ${bytes.length - p} left; no IEND chunk)`);
    const length = view.getUint32(p);
    const type = String.fromCharCode(bytes[p + 4], bytes[p + 5], bytes[p + 6], bytes[p + 7]);
    const data = p + 8;
    if (length > bytes.length - data - 4) throw new DataFormatError(`${source}: PNG chunk '${type}' of ${length} bytes runs past the end of the file`);
    const crc = view.getUint32(data + length);
    if (crc32(bytes, p + 4, data + length) !== crc) throw new DataFormatError(`${source}: PNG chunk '${type}' has a wrong CRC (the file is corrupt)`);
    if (type === 'IHDR') {
      if (length !== 13) throw new DataFormatError(`${source}: PNG header is ${length} bytes, expected 13`);
      header = { width: view.getUint32(data), height: view.getUint32(data + 4), depth: bytes[data + 8], colour: bytes[data + 9], interlace: bytes[data + 12] };
      if (bytes[data + 10] !== 0 || bytes[data + 11] !== 0) throw new DataFormatError(`${source}: PNG compression or filter method is not 0`);
    } else if (header === null) {
      throw new DataFormatError(`${source}: PNG chunk '${type}' comes before the IHDR header`);
    } else if (type === 'IDAT') {
      idat.push(bytes.subarray(data, data + length));
      idatLength += length;
    } else if (type === 'IEND') {
      ended = true;
    } else if ((bytes[p + 4] & 0x20) === 0) {
      // An unknown critical chunk (upper-case first letter) changes the meaning of the image.
      throw new DataFormatError(`${source}: PNG has a critical chunk '${type}' this decoder does not know`);
    }
    p = data + length + 4;
  }
  if (header === null) throw new DataFormatError(`${source}: PNG has no IHDR header`);
  const { width, height, depth, colour, interlace } = header;
  if ((colour !== 0 && colour !== 2) || depth !== 8) {
    throw new DataFormatError(`${source}: PNG is ${depth}-bit ${COLOUR_TYPES[colour] ?? `colour type ${colour}`}; expected an 8-bit grayscale or RGB image`);
  }
  if (interlace !== 0) throw new DataFormatError(`${source}: PNG is interlaced (Adam7); expected a non-interlaced image`);
  if (width === 0 || height === 0 || width * height > MAX_PIXELS) throw new DataFormatError(`${source}: PNG is ${width}×${height} pixels; expected 1 to ${MAX_PIXELS} pixels`);
  if (idat.length === 0) throw new DataFormatError(`${source}: PNG has no image data (IDAT)`);
  const channels = colour === 2 ? 3 : 1;
  const stride = width * channels;
  const expected = height * (stride + 1);
  const compressed = new Uint8Array(idatLength);
  let o = 0;
  for (const c of idat) {
    compressed.set(c, o);
    o += c.length;
  }
  let raw: Uint8Array;
  try {
    raw = inflate(compressed, expected);
  } catch (e) {
    throw new DataFormatError(`${source}: PNG image data does not decompress to ${expected} bytes (${(e as Error).message})`);
  }
  if (raw.length !== expected) throw new DataFormatError(`${source}: PNG image data decompresses to ${raw.length} bytes, ${width}×${height} ${COLOUR_TYPES[colour]} needs ${expected}`);
  return { width, height, channels, maxValue: 255, data: unfilter(raw, height, stride, channels, source) };
}

/**
 * Undoes PNG's per-row filters (PNG specification §9): each row starts with its filter type and
 * stores x − predictor mod 256, where the predictor is 0 (None), a = the byte one pixel left (Sub),
 * b = the byte above (Up), ⌊(a + b) / 2⌋ (Average) or the Paeth predictor of a, b and c = the
 * byte above-left (Paeth).
 */
function unfilter(raw: Uint8Array, height: number, stride: number, bpp: number, source: string): Uint8Array {
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const inp = y * (stride + 1) + 1;
    const row = y * stride;
    const up = row - stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? out[row + i - bpp] : 0;
      const b = y > 0 ? out[up + i] : 0;
      let pred: number;
      if (filter === 0) pred = 0;
      else if (filter === 1) pred = a;
      else if (filter === 2) pred = b;
      else if (filter === 3) pred = (a + b) >> 1;
      else if (filter === 4) {
        const c = y > 0 && i >= bpp ? out[up + i - bpp] : 0;
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else throw new DataFormatError(`${source}: PNG row ${y} has filter type ${filter}; expected 0 to 4`);
      out[row + i] = (raw[inp + i] + pred) & 0xff;
    }
  }
  return out;
}

/**
 * Decodes a PGM file (Netpbm graymap): binary `P5` or plain-text `P2`, maxval 1 … 65535 (binary
 * samples of 2 bytes, big-endian, above 255), `#` comments in the header. Exactly width × height
 * samples must follow.
 */
export function parsePgm(bytes: Uint8Array, source: string): DecodedImage {
  const magic = bytes.length >= 2 ? String.fromCharCode(bytes[0], bytes[1]) : '';
  if (magic !== 'P5' && magic !== 'P2') throw new DataFormatError(`${source}: not a PGM file (expected 'P5' or 'P2' at the start)`);
  let p = 2;
  const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;
  const token = (what: string): number => {
    for (;;) {
      while (p < bytes.length && isSpace(bytes[p])) p++;
      if (bytes[p] !== 0x23) break; // '#': a comment to the end of the line
      while (p < bytes.length && bytes[p] !== 0x0a && bytes[p] !== 0x0d) p++;
    }
    const start = p;
    while (p < bytes.length && bytes[p] >= 0x30 && bytes[p] <= 0x39) p++;
    if (p === start || (p < bytes.length && !isSpace(bytes[p]) && bytes[p] !== 0x23)) throw new DataFormatError(`${source}: PGM ${what} is not a decimal number (at byte ${start})`);
    return Number(String.fromCharCode(...bytes.subarray(start, p)));
  };
  const width = token('width');
  const height = token('height');
  const maxValue = token('maxval');
  if (width === 0 || height === 0 || width * height > MAX_PIXELS) throw new DataFormatError(`${source}: PGM is ${width}×${height} pixels; expected 1 to ${MAX_PIXELS} pixels`);
  if (maxValue < 1 || maxValue > 65535) throw new DataFormatError(`${source}: PGM maxval is ${maxValue}; expected 1 to 65535`);
  const n = width * height;
  const data = maxValue > 255 ? new Uint16Array(n) : new Uint8Array(n);
  if (magic === 'P5') {
    p++; // exactly one whitespace byte ends the header
    const size = maxValue > 255 ? 2 : 1;
    if (bytes.length - p !== n * size) throw new DataFormatError(`${source}: PGM of ${width}×${height} needs ${n * size} bytes of samples, the file has ${Math.max(0, bytes.length - p)}`);
    for (let i = 0; i < n; i++) data[i] = size === 2 ? (bytes[p + 2 * i] << 8) | bytes[p + 2 * i + 1] : bytes[p + i];
  } else {
    for (let i = 0; i < n; i++) {
      while (p < bytes.length && isSpace(bytes[p])) p++;
      if (p >= bytes.length) throw new DataFormatError(`${source}: PGM of ${width}×${height} needs ${n} samples, the file has ${i}`);
      data[i] = token('sample');
    }
    while (p < bytes.length && isSpace(bytes[p])) p++;
    if (p < bytes.length) throw new DataFormatError(`${source}: PGM has data after its ${n} samples (at byte ${p})`);
  }
  for (let i = 0; i < n; i++) if (data[i] > maxValue) throw new DataFormatError(`${source}: PGM sample ${i} is ${data[i]}, above maxval ${maxValue}`);
  return { width, height, channels: 1, maxValue, data };
}

/** Options of `mnistPixels` (and of `readDigitImages` in spikessl/node). */
export interface MnistPixelsOptions {
  /** Required width and height. Default 28 (MNIST). */
  size?: number;
  /**
   * Dark digit on a light background (as people draw) is inverted to MNIST's light digit on black:
   * 'auto' (default) inverts when the mean of the border pixels is above one half; true always,
   * false never.
   */
  invert?: boolean | 'auto';
}

/**
 * An image as MNIST's network input: `size × size` pixels in [0, 1], a light digit on a black
 * background. RGB is reduced to luma, Y = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601); samples are
 * divided by the image's maximum value. The image is not resized or recentred: it must already be
 * `size × size` with the digit centred as MNIST's are (a ShapeError otherwise).
 */
export function mnistPixels(image: DecodedImage, source: string, options: MnistPixelsOptions = {}): { pixels: Float32Array; inverted: boolean } {
  const size = options.size ?? 28;
  if (!Number.isSafeInteger(size) || size < 2) throw new OptionError(`mnistPixels: size must be an integer ≥ 2, got ${size}`);
  if (image.width !== size || image.height !== size) {
    throw new ShapeError(`${source}: image is ${image.width}×${image.height} pixels; expected ${size}×${size} (grayscale, the digit centred as in MNIST)`);
  }
  const n = size * size;
  const pixels = new Float32Array(n);
  const d = image.data;
  for (let i = 0; i < n; i++) {
    const v = image.channels === 3 ? 0.299 * d[3 * i] + 0.587 * d[3 * i + 1] + 0.114 * d[3 * i + 2] : d[i];
    pixels[i] = v / image.maxValue;
  }
  let inverted = options.invert === true;
  if ((options.invert ?? 'auto') === 'auto') {
    let border = 0;
    for (let i = 0; i < size; i++) border += pixels[i] + pixels[n - size + i] + (i > 0 && i < size - 1 ? pixels[i * size] + pixels[i * size + size - 1] : 0);
    inverted = border / (4 * size - 4) > 0.5;
  }
  if (inverted) for (let i = 0; i < n; i++) pixels[i] = 1 - pixels[i];
  return { pixels, inverted };
}
