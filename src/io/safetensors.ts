/**
 * safetensors encode/decode in pure TypeScript, bytes in and bytes out (no file access here;
 * `spikessl/node` adds the file helpers).
 *
 * Layout (the format of huggingface/safetensors):
 * ```
 * [8 bytes]  N, the header length, unsigned 64-bit little-endian
 * [N bytes]  UTF-8 JSON: {"__metadata__"?: {str: str}, NAME: {"dtype", "shape", "data_offsets": [begin, end]}, …}
 * [rest]     the tensors' bytes, row-major, little-endian; offsets count from the first byte after the header
 * ```
 * Rules enforced when reading, as the reference implementation does: the entries, ordered by
 * offsets, tile the data exactly (no gap, no overlap, the last one ends at the end of the file),
 * and each entry's byte length is its element count × the dtype's size. This reader is stricter
 * in three places, because a header that breaks them is corrupt rather than merely unusual:
 * duplicate JSON keys, unknown fields in an entry, and non-string metadata values are errors.
 */
import { DataFormatError, OptionError, ShapeError, fmtShape } from '../errors';
import { Tensor } from '../tensor/tensor';
import { type JsonValue, JsonSyntaxError, parseJsonStrict } from './json';

/** The element types read here (all seven) and written (all seven, from a {@link RawTensor}). */
export type SafetensorsDType = 'F32' | 'U8' | 'I32' | 'F64' | 'I64' | 'F16' | 'BF16';

/**
 * A tensor exactly as stored: its dtype, shape and elements in the typed array of that dtype —
 * `Float32Array` (F32), `Uint8Array` (U8), `Int32Array` (I32), `Float64Array` (F64),
 * `BigInt64Array` (I64), and `Uint16Array` holding the raw bit patterns (F16, BF16).
 */
export interface RawTensor {
  dtype: SafetensorsDType;
  shape: number[];
  data: ArrayBufferView;
}

/** What {@link decodeSafetensors} returns. */
export interface DecodedSafetensors {
  /** Every entry converted to a float32 `Tensor` (see {@link decodeSafetensors} for the rounding). */
  tensors: Record<string, Tensor>;
  /** Every entry as stored, exact. */
  raw: Record<string, RawTensor>;
  /** The `__metadata__` map ({} when absent). */
  metadata: Record<string, string>;
}

interface DTypeInfo {
  size: number;
  array: { new (buffer: ArrayBuffer, byteOffset: number, length: number): ArrayBufferView; readonly name: string };
}

const DTYPES: ReadonlyMap<string, DTypeInfo> = new Map<SafetensorsDType, DTypeInfo>([
  ['F64', { size: 8, array: Float64Array }],
  ['I64', { size: 8, array: BigInt64Array }],
  ['F32', { size: 4, array: Float32Array }],
  ['I32', { size: 4, array: Int32Array }],
  ['F16', { size: 2, array: Uint16Array }],
  ['BF16', { size: 2, array: Uint16Array }],
  ['U8', { size: 1, array: Uint8Array }],
]);
const DTYPE_NAMES = [...DTYPES.keys()].join(', ');

/** The data is little-endian; on a big-endian host every element's bytes are swapped on the way in and out. */
const LITTLE_ENDIAN_HOST = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i < bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

/** Sets `record[key] = value` as an own property, so a name such as `__proto__` is an ordinary key. */
function setOwn<V>(record: Record<string, V>, key: string, value: V): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

function byteView(data: ArrayBufferView): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Encodes tensors (and optional string metadata) as a safetensors file.
 *
 * A `Tensor` is written as F32; a {@link RawTensor} as its own dtype, its `data` being the typed
 * array of that dtype with exactly shape-product elements. As the reference writer does, entries
 * are laid out by descending element size, then by name, and the header is padded with spaces to
 * a multiple of 8 bytes, so every tensor's data is aligned to its element size in the file.
 *
 * Throws an `OptionError` for the reserved name `__metadata__`, a non-string metadata value, an
 * unknown dtype or a data array of the wrong type, and a `ShapeError` when a raw tensor's shape
 * and element count disagree.
 *
 * @example
 * ```ts
 * const bytes = encodeSafetensors(
 *   { 'fc.weight': tensor([[1, 2, 3], [4, 5, 6]]), steps: { dtype: 'I32', shape: [], data: Int32Array.of(7) } },
 *   { format: 'pt' },
 * );
 * const back = decodeSafetensors(bytes);
 * back.tensors['fc.weight'].shape; // [2, 3]
 * back.raw.steps.data;             // Int32Array [7]
 * ```
 */
export function encodeSafetensors(tensors: Record<string, Tensor | RawTensor>, metadata?: Record<string, string>): Uint8Array {
  interface Entry {
    name: string;
    dtype: SafetensorsDType;
    shape: readonly number[];
    size: number;
    bytes: Uint8Array;
  }
  const entries: Entry[] = [];
  for (const name of Object.keys(tensors)) {
    if (name === '__metadata__') throw new OptionError('encodeSafetensors: "__metadata__" is reserved for the metadata and cannot name a tensor');
    const t = tensors[name];
    if (t instanceof Tensor) {
      entries.push({ name, dtype: 'F32', shape: t.shape, size: 4, bytes: byteView(t.data) });
      continue;
    }
    if (t === null || typeof t !== 'object') throw new OptionError(`encodeSafetensors: "${name}" must be a Tensor or a RawTensor, got ${t === null ? 'null' : typeof t}`);
    const info = DTYPES.get(t.dtype);
    if (info === undefined) throw new OptionError(`encodeSafetensors: "${name}" has unknown dtype ${JSON.stringify(t.dtype)} (expected one of ${DTYPE_NAMES})`);
    if (!Array.isArray(t.shape) || t.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      throw new ShapeError(`encodeSafetensors: "${name}" shape must be a list of non-negative integers, got ${JSON.stringify(t.shape)}`);
    }
    if (!(t.data instanceof info.array)) {
      throw new OptionError(`encodeSafetensors: "${name}" has dtype ${t.dtype}, so its data must be a ${info.array.name}, got ${(t.data as unknown as { constructor?: { name?: string } } | undefined)?.constructor?.name ?? typeof t.data}`);
    }
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.byteLength !== numel * info.size) {
      throw new ShapeError(`encodeSafetensors: "${name}" has shape ${fmtShape(t.shape)} (${numel} elements) but its data holds ${t.data.byteLength / info.size}`);
    }
    entries.push({ name, dtype: t.dtype, shape: t.shape, size: info.size, bytes: byteView(t.data) });
  }
  entries.sort((a, b) => b.size - a.size || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const parts: string[] = [];
  if (metadata !== undefined) {
    const kv: string[] = [];
    for (const key of Object.keys(metadata)) {
      const value = metadata[key];
      if (typeof value !== 'string') throw new OptionError(`encodeSafetensors: metadata values must be strings, "${key}" is ${typeof value}`);
      kv.push(`${JSON.stringify(key)}:${JSON.stringify(value)}`);
    }
    parts.push(`"__metadata__":{${kv.join(',')}}`);
  }
  let offset = 0;
  for (const e of entries) {
    const end = offset + e.bytes.byteLength;
    parts.push(`${JSON.stringify(e.name)}:{"dtype":"${e.dtype}","shape":[${e.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;

  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLength % 2 ** 32, true);
  view.setUint32(4, Math.floor(headerLength / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const e of entries) {
    out.set(e.bytes, at);
    if (!LITTLE_ENDIAN_HOST) swapBytes(out.subarray(at, at + e.bytes.byteLength), e.size);
    at += e.bytes.byteLength;
  }
  return out;
}

/** A short description of a JSON value for error messages. */
function show(v: JsonValue): string {
  if (v instanceof Map) return 'an object';
  const s = JSON.stringify(v, (_k, x: unknown) => (x instanceof Map ? '{…}' : x));
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** A shape for an error message: in full up to 8 dimensions, else its first 6, an ellipsis and the count. */
function shortShape(shape: readonly number[]): string {
  return shape.length <= 8 ? fmtShape(shape) : `[${shape.slice(0, 6).join(', ')}, … (${shape.length} dimensions)]`;
}

/**
 * The byte count of a shape, exactly up to 2^256 (BigInt: a product of safe integers overflows a
 * double) and "more than 2^256" beyond, stopping there: the exact product of thousands of huge
 * dimensions costs time quadratic in its digits (80,000 took 11–18 s).
 */
function byteCount(shape: readonly number[], size: number): string {
  if (shape.includes(0)) return '0';
  let bytes = BigInt(size);
  for (const d of shape) {
    bytes *= BigInt(d);
    if (bytes > BYTE_COUNT_LIMIT) return 'more than 2^256';
  }
  return String(bytes);
}
const BYTE_COUNT_LIMIT = 2n ** 256n;

function isNonNegativeInt(v: JsonValue): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

const ENTRY_FIELDS = new Set(['dtype', 'shape', 'data_offsets']);

/**
 * Decodes a safetensors file. `source` (e.g. the file name) starts every error message.
 *
 * Returns each entry twice: in `raw` exactly as stored, and in `tensors` converted to a float32
 * `Tensor`. The conversion is exact for F32, F16, BF16, U8 and I32 values up to 2^24 in
 * magnitude; otherwise it rounds to the nearest float32, ties to even (F64 beyond ±3.4e38
 * becomes ±Infinity, as IEEE rounding does; I64 is rounded correctly at any magnitude). Use
 * `raw` when the exact values matter. Nothing returned shares memory with `bytes`: data is
 * copied, which also aligns tensors stored at offsets that are not multiples of their element size.
 *
 * Throws a `DataFormatError` naming the source and the problem for a truncated file, a header
 * length past the end, a header that is not UTF-8 JSON or not an object, duplicate keys, an
 * unknown dtype or field, a shape that is not a list of non-negative integers, data offsets out
 * of range, overlapping, leaving gaps or not covering the data, a byte length that is not
 * shape × dtype size, and non-string metadata values.
 *
 * @example
 * ```ts
 * const { tensors, raw, metadata } = decodeSafetensors(bytes, 'model.safetensors');
 * const w = tensors['0.weight'];          // float32 Tensor
 * const steps = raw['1.num_batches_tracked']; // { dtype: 'I64', shape: [], data: BigInt64Array }
 * ```
 */
export function decodeSafetensors(bytes: Uint8Array, source = 'safetensors data'): DecodedSafetensors {
  if (!(bytes instanceof Uint8Array)) throw new OptionError(`decodeSafetensors: expected a Uint8Array, got ${(bytes as unknown)?.constructor?.name ?? typeof bytes}`);
  const bad = (problem: string): DataFormatError => new DataFormatError(`${source}: ${problem}`);
  if (bytes.length < 8) throw bad(`truncated: ${bytes.length} bytes, fewer than the 8-byte header length that starts a safetensors file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  const available = bytes.length - 8;
  if (headerLength > BigInt(available)) {
    throw bad(`header length ${headerLength} runs past the end of the file (only ${available} bytes follow the 8-byte length): truncated or not a safetensors file`);
  }
  const n = Number(headerLength);
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, dataStart));
  } catch {
    throw bad('the header is not valid UTF-8');
  }
  let root: JsonValue;
  try {
    root = parseJsonStrict(text);
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw bad(`malformed JSON header: ${e.message}`);
    throw e;
  }
  if (!(root instanceof Map)) throw bad(`the header must be a JSON object, got ${show(root)}`);

  interface Info {
    name: string;
    dtype: SafetensorsDType;
    size: number;
    shape: number[];
    numel: number;
    begin: number;
    end: number;
  }
  const infos: Info[] = [];
  const metadata: Record<string, string> = {};
  for (const [name, entry] of root) {
    if (name === '__metadata__') {
      if (!(entry instanceof Map)) throw bad(`"__metadata__" must be an object of strings, got ${show(entry)}`);
      for (const [key, value] of entry) {
        if (typeof value !== 'string') throw bad(`metadata values must be strings, "${key}" is ${show(value)}`);
        setOwn(metadata, key, value);
      }
      continue;
    }
    const what = `tensor ${JSON.stringify(name)}`;
    if (!(entry instanceof Map)) throw bad(`${what}: expected an object {dtype, shape, data_offsets}, got ${show(entry)}`);
    for (const key of entry.keys()) {
      if (!ENTRY_FIELDS.has(key)) throw bad(`${what}: unknown field ${JSON.stringify(key)} (expected dtype, shape, data_offsets)`);
    }
    const dtype = entry.get('dtype');
    const shape = entry.get('shape');
    const offsets = entry.get('data_offsets');
    if (dtype === undefined || shape === undefined || offsets === undefined) {
      throw bad(`${what}: missing field ${dtype === undefined ? 'dtype' : shape === undefined ? 'shape' : 'data_offsets'}`);
    }
    const info = typeof dtype === 'string' ? DTYPES.get(dtype) : undefined;
    if (info === undefined) throw bad(`${what}: unknown or unsupported dtype ${show(dtype)} (supported: ${DTYPE_NAMES})`);
    if (!Array.isArray(shape) || !shape.every(isNonNegativeInt)) {
      throw bad(`${what}: shape must be a list of non-negative integers, got ${show(shape)}`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isNonNegativeInt) || offsets[0] > offsets[1]) {
      throw bad(`${what}: data_offsets must be [begin, end] with integers 0 ≤ begin ≤ end, got ${show(offsets)}`);
    }
    const [begin, end] = offsets;
    if (end > dataLength) {
      throw bad(`${what}: data_offsets [${begin}, ${end}] run past the end of the data (${dataLength} bytes follow the header): truncated file or offsets out of range`);
    }
    // Element count, stopping early once it is past what the bytes could hold (no overflow).
    let numel = shape.includes(0) ? 0 : 1;
    for (let i = 0; i < shape.length && numel !== 0 && numel * info.size <= dataLength; i++) numel *= shape[i];
    if (numel * info.size !== end - begin) {
      throw bad(`${what}: shape ${shortShape(shape)} of ${dtype} (${info.size} bytes each) needs ${byteCount(shape, info.size)} bytes, but data_offsets [${begin}, ${end}] hold ${end - begin}`);
    }
    infos.push({ name, dtype: dtype as SafetensorsDType, size: info.size, shape: shape.slice(), numel, begin, end });
  }

  // Ordered by offsets, the entries must tile [0, dataLength) exactly.
  const ordered = infos.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous = '';
  for (const t of ordered) {
    if (t.begin > cursor) throw bad(`gap in the data: bytes [${cursor}, ${t.begin}) belong to no tensor (next is ${JSON.stringify(t.name)})`);
    if (t.begin < cursor) throw bad(`tensor ${JSON.stringify(t.name)} data_offsets [${t.begin}, ${t.end}] overlap tensor ${JSON.stringify(previous)}, which ends at ${cursor}`);
    cursor = t.end;
    previous = t.name;
  }
  if (cursor !== dataLength) {
    throw bad(`the tensors cover ${cursor} bytes of data but ${dataLength} follow the header: ${dataLength - cursor} trailing bytes belong to no tensor`);
  }

  const tensors: Record<string, Tensor> = {};
  const raw: Record<string, RawTensor> = {};
  for (const t of ordered) {
    // A copy in a fresh, aligned buffer. (Not bytes.slice(): on a Node Buffer that is a view.)
    const copy = new Uint8Array(bytes.subarray(dataStart + t.begin, dataStart + t.end));
    if (!LITTLE_ENDIAN_HOST) swapBytes(copy, t.size);
    const data = new (DTYPES.get(t.dtype) as DTypeInfo).array(copy.buffer, 0, t.numel);
    setOwn(raw, t.name, { dtype: t.dtype, shape: t.shape, data });
    setOwn(tensors, t.name, new Tensor(toFloat32(t.dtype, data), t.shape.slice()));
  }
  return { tensors, raw, metadata };
}

/** Converts stored elements to float32 (exactly where float32 can hold them, else rounded to nearest). */
function toFloat32(dtype: SafetensorsDType, data: ArrayBufferView): Float32Array {
  switch (dtype) {
    case 'F32':
    case 'F64':
    case 'U8':
    case 'I32':
      // Each value is exact as a double, so this is a single correctly rounded conversion.
      return new Float32Array(data as Float32Array | Float64Array | Uint8Array | Int32Array);
    case 'BF16': {
      // bfloat16 is the top half of a float32's bits.
      const src = data as Uint16Array;
      const bits = new Uint32Array(src.length);
      for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
      return new Float32Array(bits.buffer);
    }
    case 'F16': {
      const src = data as Uint16Array;
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = halfToNumber(src[i]);
      return out;
    }
    case 'I64': {
      const src = data as BigInt64Array;
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = bigIntToFloat32(src[i]);
      return out;
    }
  }
}

/** IEEE binary16 → number: (−1)^s · 2^(e−15) · (1 + m/1024), subnormals 2^−14 · m/1024. */
function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m === 0 ? sign * Infinity : NaN;
  return sign * (1024 + m) * 2 ** (e - 25);
}

const TWO_POW_53 = 2n ** 53n;

/**
 * A 64-bit integer rounded once to the nearest float32. Going through a double first would round
 * twice, which is wrong near float32 ties (2^60 + 2^36 + 1 would become 2^60); so beyond 2^53 the
 * value is first cut to 53 significant bits with the last bit made sticky ("round to odd"),
 * which a double holds exactly and whose rounding to 24 bits then equals the direct rounding.
 */
function bigIntToFloat32(v: bigint): number {
  const a = v < 0n ? -v : v;
  if (a <= TWO_POW_53) return Math.fround(Number(v));
  const shift = BigInt(a.toString(2).length - 53);
  let top = a >> shift;
  if (top << shift !== a) top |= 1n;
  const magnitude = Number(top) * 2 ** Number(shift);
  return Math.fround(v < 0n ? -magnitude : magnitude);
}
