/**
 * A small HDF5 writer and reader in pure TypeScript, bytes in and bytes out, for the subset of
 * the format that NIR files use: nested groups and datasets of numbers and strings.
 *
 * The files are those h5py writes by default (the "earliest" format, readable by every HDF5
 * since 1.8):
 * ```
 * superblock v0      signature, sizes (8-byte offsets and lengths), root symbol-table entry
 * group              object header v1 with a symbol-table message → v1 B-tree (type 0) →
 *                    symbol-table nodes (SNOD, ≤ 2·K entries sorted by name) + a local heap of names
 * dataset            object header v1: dataspace, datatype, fill value, layout (contiguous or compact)
 * variable strings   each element {length u32, global-heap collection address, object index u32};
 *                    the bytes live in a global heap collection (GCOL, at least 4096 bytes)
 * ```
 * The reader accepts superblock v0/v1, object header v1 (with continuation blocks), dataspace
 * v1/v2, little- or big-endian integers (1, 2, 4, 8 bytes) and IEEE floats (4, 8 bytes), fixed and
 * variable-length strings, contiguous and compact layouts. Anything else (v2 object headers of
 * libver='latest', chunked or filtered data, compound types, soft or external links) is refused
 * with a `DataFormatError`, as is every structure that does not fit the file: every address and
 * length is checked against the file size before it is used, so nothing allocated is larger than
 * the file, and a link cycle is an error rather than a hang.
 */
import { DataFormatError, OptionError, ShapeError, fmtShape } from '../errors';

/** Element types of a dataset. */
export type Hdf5DType = 'float32' | 'float64' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'string';

/** The elements of a dataset: the typed array of its dtype, or strings. */
export type Hdf5Data =
  | Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array
  | BigInt64Array | BigUint64Array | string[];

/** A dataset: its dtype, its shape ([] for a scalar) and its elements in row-major order. */
export interface Hdf5Dataset {
  kind: 'dataset';
  dtype: Hdf5DType;
  shape: number[];
  data: Hdf5Data;
  /** For strings: variable-length (h5py's `string_dtype()`, the default) or fixed-length, null-padded. */
  strings?: 'variable' | 'fixed';
}

/** A group: named members, in the order HDF5 lists them (by name, byte-wise). */
export interface Hdf5Group {
  kind: 'group';
  children: Map<string, Hdf5Node>;
}

export type Hdf5Node = Hdf5Group | Hdf5Dataset;

/** Shorthand for building a group from an object of members. */
export function hdf5Group(children: Record<string, Hdf5Node>): Hdf5Group {
  return { kind: 'group', children: new Map(Object.entries(children)) };
}

/** Shorthand for a dataset; `shape` defaults to [] for one element, else [n]. */
export function hdf5Dataset(dtype: Hdf5DType, data: Hdf5Data, shape?: number[]): Hdf5Dataset {
  return { kind: 'dataset', dtype, data, shape: shape ?? (data.length === 1 ? [] : [data.length]) };
}

interface NumericType {
  size: number;
  float: boolean;
  signed: boolean;
  array: { new (n: number): Exclude<Hdf5Data, string[]>; readonly name: string };
}

const NUMERIC: Record<Exclude<Hdf5DType, 'string'>, NumericType> = {
  float32: { size: 4, float: true, signed: true, array: Float32Array },
  float64: { size: 8, float: true, signed: true, array: Float64Array },
  int8: { size: 1, float: false, signed: true, array: Int8Array },
  uint8: { size: 1, float: false, signed: false, array: Uint8Array },
  int16: { size: 2, float: false, signed: true, array: Int16Array },
  uint16: { size: 2, float: false, signed: false, array: Uint16Array },
  int32: { size: 4, float: false, signed: true, array: Int32Array },
  uint32: { size: 4, float: false, signed: false, array: Uint32Array },
  int64: { size: 8, float: false, signed: true, array: BigInt64Array },
  uint64: { size: 8, float: false, signed: false, array: BigUint64Array },
};

const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
/** HDF5's undefined address: all bits set. */
const UNDEF = 0xffffffffffffffffn;
/** Group B-tree K (children per node ≤ 2K) and symbol-table-node K (entries per node ≤ 2K), HDF5's defaults. */
const TREE_K = 16;
const LEAF_K = 4;
const SNOD_SIZE = 8 + 2 * LEAF_K * 40;
const TREE_SIZE = 24 + (2 * TREE_K + 1) * 8 + 2 * TREE_K * 8;
/** HDF5 reads a global heap collection's first 4096 bytes before its header says how long it is. */
const GCOL_MIN = 4096;

const MSG_NIL = 0x0000;
const MSG_DATASPACE = 0x0001;
const MSG_DATATYPE = 0x0003;
const MSG_FILL = 0x0005;
const MSG_LAYOUT = 0x0008;
const MSG_CONTINUATION = 0x0010;
const MSG_SYMBOL_TABLE = 0x0011;
const MSG_LINK = 0x0006;
const MSG_LINK_INFO = 0x0002;

const utf8 = new TextEncoder();

function pad8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

// ---------------------------------------------------------------------------------------------
// Writer

/** A growing file: parts appended at 8-byte-aligned addresses. */
class FileBuilder {
  private readonly parts: Uint8Array[] = [];
  size = 0;

  /** Appends `bytes` (padded to 8) and returns its address. */
  append(bytes: Uint8Array): number {
    const at = this.size;
    this.parts.push(bytes);
    this.size += bytes.length;
    const pad = pad8(this.size) - this.size;
    if (pad) {
      this.parts.push(new Uint8Array(pad));
      this.size += pad;
    }
    return at;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

/** A little-endian byte writer over a fixed-size buffer. */
class Writer {
  readonly buf: Uint8Array;
  readonly view: DataView;
  pos = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }
  u8(v: number): this {
    this.view.setUint8(this.pos, v);
    this.pos += 1;
    return this;
  }
  u16(v: number): this {
    this.view.setUint16(this.pos, v, true);
    this.pos += 2;
    return this;
  }
  u32(v: number): this {
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
    return this;
  }
  u64(v: number | bigint): this {
    this.view.setBigUint64(this.pos, BigInt(v), true);
    this.pos += 8;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }
  ascii(s: string): this {
    for (let i = 0; i < s.length; i++) this.u8(s.charCodeAt(i));
    return this;
  }
  skip(n: number): this {
    this.pos += n;
    return this;
  }
}

/** A v1 object header holding `messages` (type, body); bodies are padded to 8 bytes. */
function objectHeader(messages: Array<[number, Uint8Array]>): Uint8Array {
  const body = messages.reduce((n, [, m]) => n + 8 + pad8(m.length), 0);
  const w = new Writer(16 + body);
  w.u8(1).u8(0).u16(messages.length).u32(1).u32(body).skip(4);
  for (const [type, m] of messages) {
    w.u16(type).u16(pad8(m.length)).u8(0).skip(3).bytes(m);
    w.pos = pad8(w.pos);
  }
  return w.buf;
}

function datatypeMessage(d: Hdf5Dataset, fixedLength: number): Uint8Array {
  if (d.dtype === 'string') {
    if (d.strings === 'fixed') {
      // Class 3 (string), version 1; padding 1 (null-padded), charset 1 (UTF-8).
      return new Writer(8).u8(0x13).u8(0x01 | (1 << 4)).u8(0).u8(0).u32(Math.max(1, fixedLength)).buf;
    }
    // Class 9 (variable-length), version 1: type 1 (string), padding 0 (null-terminated),
    // charset 1 (UTF-8); size 16 = length u32 + heap address + object index; base type u8.
    return new Writer(20).u8(0x19).u8(0x01).u8(0x01).u8(0).u32(16).u8(0x10).u8(0).u8(0).u8(0).u32(1).u16(0).u16(8).buf;
  }
  const t = NUMERIC[d.dtype];
  if (t.float) {
    // Class 1, version 1: little-endian, mantissa normalisation 2 (implied leading 1), sign bit at size·8 − 1.
    const w = new Writer(20).u8(0x11).u8(0x20).u8(t.size * 8 - 1).u8(0).u32(t.size).u16(0).u16(t.size * 8);
    return t.size === 4 ? w.u8(23).u8(8).u8(0).u8(23).u32(127).buf : w.u8(52).u8(11).u8(0).u8(52).u32(1023).buf;
  }
  // Class 0 (fixed-point), version 1: little-endian, bit 3 = signed; offset 0, precision size·8.
  return new Writer(12).u8(0x10).u8(t.signed ? 0x08 : 0).u8(0).u8(0).u32(t.size).u16(0).u16(t.size * 8).buf;
}

function dataspaceMessage(shape: readonly number[]): Uint8Array {
  // Version 1; rank 0 is a scalar.
  const w = new Writer(8 + 8 * shape.length).u8(1).u8(shape.length).u8(0).skip(5);
  for (const d of shape) w.u64(d);
  return w.buf;
}

function validateDataset(path: string, d: Hdf5Dataset): void {
  if (!Array.isArray(d.shape) || d.shape.some((n) => !Number.isSafeInteger(n) || n < 0)) {
    throw new ShapeError(`writeHdf5: "${path}" shape must be a list of non-negative integers, got ${JSON.stringify(d.shape)}`);
  }
  const n = numel(d.shape);
  if (d.dtype === 'string') {
    if (!Array.isArray(d.data) || d.data.some((s) => typeof s !== 'string')) throw new OptionError(`writeHdf5: "${path}" has dtype string, so its data must be an array of strings`);
  } else {
    const t = NUMERIC[d.dtype];
    if (t === undefined) throw new OptionError(`writeHdf5: "${path}" has unknown dtype ${JSON.stringify(d.dtype)}`);
    if (!(d.data instanceof t.array)) throw new OptionError(`writeHdf5: "${path}" has dtype ${d.dtype}, so its data must be a ${t.array.name}`);
  }
  if (d.data.length !== n) throw new ShapeError(`writeHdf5: "${path}" has shape ${fmtShape(d.shape)} (${n} elements) but ${d.data.length} data elements`);
}

/**
 * Encodes `root` as an HDF5 file laid out as h5py lays out its default files (see the module
 * comment). Member names must be non-empty and free of '/' and NUL; strings are UTF-8.
 * Variable-length strings go into one global heap collection.
 *
 * Throws an `OptionError` for a bad name, dtype or data array, a `ShapeError` when a shape
 * and the element count disagree.
 *
 * @example
 * ```ts
 * const bytes = writeHdf5(hdf5Group({
 *   version: hdf5Dataset('string', ['1.0']),
 *   weight: hdf5Dataset('float32', Float32Array.of(1, 2, 3, 4), [2, 2]),
 * }));
 * readHdf5(bytes).children.get('weight'); // { kind: 'dataset', dtype: 'float32', shape: [2, 2], … }
 * ```
 */
export function writeHdf5(root: Hdf5Group): Uint8Array {
  const file = new FileBuilder();
  file.append(new Uint8Array(96)); // superblock, written last

  // Pass 1: every variable-length string gets an object in one global heap collection.
  const heapObjects: Uint8Array[] = [];
  const heapIndex = new Map<Hdf5Dataset, number>(); // first object index of each dataset
  const visit = (g: Hdf5Group, path: string, seen: Set<Hdf5Group>): void => {
    if (seen.has(g)) throw new OptionError(`writeHdf5: group "${path}" contains itself`);
    seen.add(g);
    for (const [name, node] of g.children) {
      const p = `${path}/${name}`;
      if (name === '' || name.includes('/') || name.includes('\0')) throw new OptionError(`writeHdf5: member name ${JSON.stringify(name)} in "${path || '/'}" must be non-empty without '/' or NUL`);
      if (node.kind === 'group') visit(node, p, seen);
      else {
        validateDataset(p, node);
        if (node.dtype === 'string' && node.strings !== 'fixed') {
          heapIndex.set(node, heapObjects.length + 1);
          for (const s of node.data as string[]) heapObjects.push(utf8.encode(s));
        }
      }
    }
    seen.delete(g);
  };
  visit(root, '', new Set());
  if (heapObjects.length > 0xffff) throw new OptionError(`writeHdf5: ${heapObjects.length} variable-length strings exceed one heap collection's 65535`);
  let heapAddress = 0;
  if (heapObjects.length > 0) {
    const used = 16 + heapObjects.reduce((n, o) => n + 16 + pad8(o.length), 0);
    const size = Math.max(GCOL_MIN, used + 16);
    const w = new Writer(size).ascii('GCOL').u8(1).skip(3).u64(size);
    heapObjects.forEach((o, i) => {
      w.u16(i + 1).u16(1).skip(4).u64(o.length).bytes(o);
      w.pos = pad8(w.pos);
    });
    // Object 0 marks the free space that follows, its size including its own header.
    w.u16(0).u16(0).skip(4).u64(size - w.pos);
    heapAddress = file.append(w.buf);
  }

  const writeDataset = (d: Hdf5Dataset): number => {
    const n = d.data.length;
    let raw: Uint8Array;
    let fixedLength = 0;
    if (d.dtype === 'string') {
      const strings = d.data as string[];
      if (d.strings === 'fixed') {
        const encoded = strings.map((s) => utf8.encode(s));
        fixedLength = Math.max(1, ...encoded.map((e) => e.length));
        raw = new Uint8Array(n * fixedLength);
        encoded.forEach((e, i) => raw.set(e, i * fixedLength));
      } else {
        const w = new Writer(16 * n);
        const first = heapIndex.get(d)!;
        for (let i = 0; i < n; i++) w.u32(heapObjects[first - 1 + i].length).u64(heapAddress).u32(first + i);
        raw = w.buf;
      }
    } else {
      const t = NUMERIC[d.dtype];
      const w = new Writer(n * t.size);
      const src = d.data;
      for (let i = 0; i < n; i++) {
        const v = src[i] as number | bigint;
        if (t.float) t.size === 4 ? w.view.setFloat32(i * 4, v as number, true) : w.view.setFloat64(i * 8, v as number, true);
        else if (t.size === 8) t.signed ? w.view.setBigInt64(i * 8, v as bigint, true) : w.view.setBigUint64(i * 8, v as bigint, true);
        else if (t.size === 4) t.signed ? w.view.setInt32(i * 4, v as number, true) : w.view.setUint32(i * 4, v as number, true);
        else if (t.size === 2) t.signed ? w.view.setInt16(i * 2, v as number, true) : w.view.setUint16(i * 2, v as number, true);
        else t.signed ? w.view.setInt8(i, v as number) : w.view.setUint8(i, v as number);
      }
      raw = w.buf;
    }
    const address = raw.length > 0 ? file.append(raw) : UNDEF;
    // Fill value v2: allocation time late (2), write time if set (2), no fill value defined.
    const fill = Uint8Array.of(2, 2, 2, 0);
    // Layout v3, class 1 (contiguous): address and size.
    const layout = new Writer(18).u8(3).u8(1).u64(address).u64(raw.length).buf;
    return file.append(objectHeader([[MSG_DATASPACE, dataspaceMessage(d.shape)], [MSG_DATATYPE, datatypeMessage(d, fixedLength)], [MSG_FILL, fill], [MSG_LAYOUT, layout]]));
  };

  interface GroupAddresses {
    header: number;
    tree: number;
    heap: number;
  }
  const writeGroup = (g: Hdf5Group, path: string): GroupAddresses => {
    const members = [...g.children].map(([name, node]) => ({ name, bytes: utf8.encode(name), node }));
    members.sort((a, b) => compareBytes(a.bytes, b.bytes));
    const entries = members.map((m) => {
      if (m.node.kind === 'group') {
        const a = writeGroup(m.node, `${path}/${m.name}`);
        return { ...m, header: a.header, cache: a as GroupAddresses | null };
      }
      return { ...m, header: writeDataset(m.node), cache: null };
    });
    // Local heap: the empty string at offset 0, then every name, each NUL-terminated and padded to 8.
    const offsets: number[] = [];
    let heapSize = 8;
    for (const e of entries) {
      offsets.push(heapSize);
      heapSize += pad8(e.bytes.length + 1);
    }
    const heapData = new Uint8Array(heapSize);
    entries.forEach((e, i) => heapData.set(e.bytes, offsets[i]));
    const dataAddress = file.append(heapData);
    // Free-list head 1 is HDF5's "no free block".
    const heap = file.append(new Writer(32).ascii('HEAP').u8(0).skip(3).u64(heapSize).u64(1).u64(dataAddress).buf);
    // Symbol-table nodes of at most 2·LEAF_K entries, then one leaf B-tree node over them.
    const nodes: number[] = [];
    const keys: number[] = [0];
    const perNode = 2 * LEAF_K;
    if (entries.length > 2 * TREE_K * perNode) throw new OptionError(`writeHdf5: group "${path || '/'}" has ${entries.length} members, more than the ${2 * TREE_K * perNode} written here`);
    for (let start = 0; start < entries.length; start += perNode) {
      const chunk = entries.slice(start, start + perNode);
      const w = new Writer(SNOD_SIZE).ascii('SNOD').u8(1).u8(0).u16(chunk.length);
      chunk.forEach((e, i) => {
        w.u64(offsets[start + i]).u64(e.header);
        if (e.cache) w.u32(1).skip(4).u64(e.cache.tree).u64(e.cache.heap);
        else w.u32(0).skip(4 + 16);
      });
      nodes.push(file.append(w.buf));
      keys.push(offsets[start + chunk.length - 1]);
    }
    const w = new Writer(TREE_SIZE).ascii('TREE').u8(0).u8(0).u16(nodes.length).u64(UNDEF).u64(UNDEF);
    w.u64(keys[0]);
    nodes.forEach((a, i) => w.u64(a).u64(keys[i + 1]));
    const tree = file.append(w.buf);
    const header = file.append(objectHeader([[MSG_SYMBOL_TABLE, new Writer(16).u64(tree).u64(heap).buf]]));
    return { header, tree, heap };
  };
  const rootGroup = writeGroup(root, '');

  const out = file.bytes();
  const sb = new Writer(96);
  sb.bytes(Uint8Array.from(SIGNATURE));
  // Versions 0 (superblock, free space, root entry, reserved, shared header), sizes of offsets and lengths 8.
  sb.u8(0).u8(0).u8(0).u8(0).u8(0).u8(8).u8(8).u8(0).u16(LEAF_K).u16(TREE_K).u32(0);
  sb.u64(0).u64(UNDEF).u64(out.length).u64(UNDEF);
  // Root group symbol-table entry, with its B-tree and heap cached (type 1) as HDF5 writes it.
  sb.u64(0).u64(rootGroup.header).u32(1).skip(4).u64(rootGroup.tree).u64(rootGroup.heap);
  out.set(sb.buf, 0);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reader

interface Datatype {
  dtype: Hdf5DType;
  /** Bytes per element in the file. */
  size: number;
  littleEndian: boolean;
  strings?: 'variable' | 'fixed';
}

interface DataLayout {
  /** Raw bytes start and length in the file (contiguous) or the message (compact). */
  bytes: Uint8Array;
}

/** Bounds-checked reads over the file; every failure is a DataFormatError naming the source. */
class Reader {
  readonly view: DataView;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private readonly heaps = new Map<number, Map<number, Uint8Array>>();
  /** Objects read so far: bounds the work on a file that links one object many times. */
  objects = 0;

  constructor(
    readonly bytes: Uint8Array,
    readonly source: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(what: string): never {
    throw new DataFormatError(`${this.source}: ${what}`);
  }

  need(at: number, n: number, what: string): void {
    if (!(at >= 0 && n >= 0 && at + n <= this.bytes.length)) this.fail(`${what} at byte ${at} (${n} bytes) runs past the end of the file (${this.bytes.length} bytes)`);
  }

  u8(at: number): number {
    return this.view.getUint8(at);
  }
  u16(at: number): number {
    return this.view.getUint16(at, true);
  }
  u32(at: number): number {
    return this.view.getUint32(at, true);
  }
  /** An 8-byte address or length; UNDEF gives -1; values past 2^53 are refused. */
  u64(at: number, what: string): number {
    const v = this.view.getBigUint64(at, true);
    if (v === UNDEF) return -1;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`${what} ${v} is not a usable offset`);
    return Number(v);
  }

  address(at: number, what: string): number {
    const a = this.u64(at, what);
    if (a < 0 || a >= this.bytes.length) this.fail(`${what} ${a < 0 ? 'is undefined' : `${a} lies past the end of the file (${this.bytes.length} bytes)`}`);
    return a;
  }

  signature(at: number, sig: string, what: string): void {
    this.need(at, sig.length, what);
    for (let i = 0; i < sig.length; i++) {
      if (this.bytes[at + i] !== sig.charCodeAt(i)) this.fail(`${what} at byte ${at} lacks its '${sig}' signature`);
    }
  }

  text(bytes: Uint8Array, what: string): string {
    try {
      return this.decoder.decode(bytes);
    } catch {
      return this.fail(`${what} is not valid UTF-8`);
    }
  }

  /** The bytes of global heap object `index` in the collection at `address`. */
  heapObject(address: number, index: number): Uint8Array {
    let objects = this.heaps.get(address);
    if (!objects) {
      this.signature(address, 'GCOL', 'global heap collection');
      this.need(address, 16, 'global heap collection header');
      if (this.u8(address + 4) !== 1) this.fail(`global heap collection at byte ${address} has version ${this.u8(address + 4)}, expected 1`);
      const size = this.u64(address + 8, 'global heap collection size');
      this.need(address, size, 'global heap collection');
      objects = new Map();
      const end = address + size;
      let p = address + 16;
      while (p + 16 <= end) {
        const idx = this.u16(p);
        const len = this.u64(p + 8, 'global heap object size');
        if (idx === 0) break;
        if (p + 16 + len > end) this.fail(`global heap object ${idx} at byte ${p} (${len} bytes) overruns its collection`);
        if (objects.has(idx)) this.fail(`global heap collection at byte ${address} lists object ${idx} twice`);
        objects.set(idx, this.bytes.subarray(p + 16, p + 16 + len));
        p += 16 + pad8(len);
      }
      this.heaps.set(address, objects);
    }
    const obj = objects.get(index);
    if (!obj) this.fail(`global heap collection at byte ${address} has no object ${index}`);
    return obj;
  }
}

interface Message {
  type: number;
  flags: number;
  at: number;
  size: number;
}

/** The messages of the v1 object header at `address`, continuation blocks followed. */
function readMessages(r: Reader, address: number): Message[] {
  r.need(address, 16, 'object header');
  const version = r.u8(address);
  if (version !== 1) {
    if (r.bytes[address] === 0x4f && r.bytes[address + 1] === 0x48) r.fail(`object header at byte ${address} is version 2 (written with libver='latest'), which this reader does not read`);
    r.fail(`object header at byte ${address} has version ${version}, expected 1`);
  }
  const count = r.u16(address + 2);
  const blocks: Array<[number, number]> = [[address + 16, r.u32(address + 8)]];
  const seenBlocks = new Set<number>([address + 16]);
  const messages: Message[] = [];
  for (let b = 0; b < blocks.length; b++) {
    const [start, length] = blocks[b];
    r.need(start, length, 'object header messages');
    let p = start;
    while (p + 8 <= start + length) {
      const type = r.u16(p);
      const size = r.u16(p + 2);
      const flags = r.u8(p + 4);
      if (p + 8 + size > start + length) r.fail(`object header message at byte ${p} (${size} bytes) overruns its block`);
      if (messages.length >= count) r.fail(`object header at byte ${address} holds more messages than the ${count} it declares`);
      messages.push({ type, flags, at: p + 8, size });
      if (type === MSG_CONTINUATION) {
        if (size < 16) r.fail(`continuation message at byte ${p} is too short`);
        const next = r.address(p + 8, 'continuation block address');
        const len = r.u64(p + 16, 'continuation block length');
        if (seenBlocks.has(next)) r.fail(`object header at byte ${address} continues into a block it has already read (a cycle)`);
        seenBlocks.add(next);
        blocks.push([next, len]);
      }
      p += 8 + size;
    }
  }
  return messages;
}

function readDatatype(r: Reader, at: number, size: number): Datatype {
  if (size < 8) r.fail(`datatype message at byte ${at} is too short`);
  const classVersion = r.u8(at);
  const cls = classVersion & 0x0f;
  const bits0 = r.u8(at + 1);
  const elementSize = r.u32(at + 4);
  const littleEndian = (bits0 & 1) === 0;
  if (cls === 0) {
    const signed = (bits0 & 0x08) !== 0;
    const names: Record<number, Hdf5DType> = signed ? { 1: 'int8', 2: 'int16', 4: 'int32', 8: 'int64' } : { 1: 'uint8', 2: 'uint16', 4: 'uint32', 8: 'uint64' };
    const dtype = names[elementSize];
    if (!dtype) r.fail(`integer datatype of ${elementSize} bytes is not supported`);
    return { dtype, size: elementSize, littleEndian };
  }
  if (cls === 1) {
    if ((bits0 & 0x40) !== 0) r.fail('VAX-order floats are not supported');
    if (elementSize !== 4 && elementSize !== 8) r.fail(`floating-point datatype of ${elementSize} bytes is not supported (only 4 and 8)`);
    if (size < 20 || r.u16(at + 10) !== elementSize * 8 || r.u8(at + 13) !== (elementSize === 4 ? 8 : 11)) r.fail(`floating-point datatype at byte ${at} is not IEEE binary${elementSize * 8}`);
    return { dtype: elementSize === 4 ? 'float32' : 'float64', size: elementSize, littleEndian };
  }
  if (cls === 3) {
    if (elementSize === 0) r.fail('fixed-length string datatype of 0 bytes');
    return { dtype: 'string', size: elementSize, littleEndian: true, strings: 'fixed' };
  }
  if (cls === 9) {
    if ((bits0 & 0x0f) !== 1) r.fail('variable-length sequences are not supported (only variable-length strings)');
    if (elementSize !== 16) r.fail(`variable-length string datatype of ${elementSize} bytes, expected 16`);
    return { dtype: 'string', size: 16, littleEndian: true, strings: 'variable' };
  }
  const names: Record<number, string> = { 2: 'time', 4: 'bitfield', 5: 'opaque', 6: 'compound', 7: 'reference', 8: 'enum', 10: 'array' };
  return r.fail(`datatype class ${cls} (${names[cls] ?? 'unknown'}) is not supported`);
}

function readDataspace(r: Reader, at: number, size: number): number[] {
  if (size < 8) r.fail(`dataspace message at byte ${at} is too short`);
  const version = r.u8(at);
  const rank = r.u8(at + 1);
  const flags = r.u8(at + 2);
  let p: number;
  if (version === 1) p = at + 8;
  else if (version === 2) {
    const type = r.u8(at + 3);
    if (type === 0) return [];
    if (type === 2) r.fail('null dataspaces are not supported');
    p = at + 4;
  } else return r.fail(`dataspace message has version ${version}, expected 1 or 2`);
  if (rank > 32) r.fail(`dataspace of rank ${rank} (HDF5 allows 32)`);
  const end = p + 8 * rank * ((flags & 1) !== 0 ? 2 : 1);
  if (end > at + size) r.fail(`dataspace message at byte ${at} is shorter than its ${rank} dimensions`);
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(r.u64(p + 8 * i, 'dimension'));
  if (shape.some((d) => d < 0)) r.fail('a dimension is undefined');
  return shape;
}

function readLayout(r: Reader, at: number, size: number): DataLayout {
  const version = r.u8(at);
  if (version !== 3) r.fail(`data layout message version ${version} is not supported (only 3)`);
  const cls = r.u8(at + 1);
  if (cls === 0) {
    const n = r.u16(at + 2);
    if (4 + n > size) r.fail(`compact data at byte ${at} (${n} bytes) overruns its message`);
    return { bytes: r.bytes.subarray(at + 4, at + 4 + n) };
  }
  if (cls === 1) {
    const address = r.u64(at + 2, 'data address');
    const length = r.u64(at + 10, 'data size');
    if (address < 0) {
      if (length !== 0) r.fail('contiguous data has an undefined address');
      return { bytes: new Uint8Array(0) };
    }
    r.need(address, length, 'contiguous data');
    return { bytes: r.bytes.subarray(address, address + length) };
  }
  if (cls === 2) r.fail('chunked datasets are not supported (NIR files are written contiguous)');
  return r.fail(`data layout class ${cls} is not supported`);
}

function readDataset(r: Reader, messages: Message[], path: string): Hdf5Dataset {
  let shape: number[] | null = null;
  let type: Datatype | null = null;
  let layout: DataLayout | null = null;
  for (const m of messages) {
    if (m.type === MSG_DATASPACE) shape = readDataspace(r, m.at, m.size);
    else if (m.type === MSG_DATATYPE) {
      if ((m.flags & 2) !== 0) r.fail(`"${path}" has a shared (committed) datatype, which is not supported`);
      type = readDatatype(r, m.at, m.size);
    } else if (m.type === MSG_LAYOUT) layout = readLayout(r, m.at, m.size);
    else if (m.type === 0x000b) r.fail(`"${path}" is compressed or filtered, which is not supported`);
  }
  if (!shape || !type || !layout) r.fail(`"${path}" is neither a group nor a dataset (its header lacks a dataspace, datatype or layout)`);
  // Overflow-safe element count: every factor is checked against what the data can hold.
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (n * type.size > layout.bytes.length) r.fail(`"${path}" has shape ${fmtShape(shape)} of ${type.size}-byte elements but only ${layout.bytes.length} bytes of data`);
  }
  if (n * type.size !== layout.bytes.length && n !== 0) r.fail(`"${path}" has shape ${fmtShape(shape)} of ${type.size}-byte elements (${n * type.size} bytes) but ${layout.bytes.length} bytes of data`);
  const raw = layout.bytes;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const le = type.littleEndian;
  if (type.dtype === 'string') {
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      let bytes: Uint8Array;
      if (type.strings === 'fixed') {
        bytes = raw.subarray(i * type.size, (i + 1) * type.size);
        const nul = bytes.indexOf(0);
        if (nul >= 0) bytes = bytes.subarray(0, nul);
      } else {
        const len = view.getUint32(16 * i, true);
        const address = r.u64(raw.byteOffset - r.bytes.byteOffset + 16 * i + 4, 'global heap address');
        const index = view.getUint32(16 * i + 12, true);
        if (address < 0) {
          if (len !== 0) r.fail(`"${path}" element ${i} has ${len} bytes at an undefined heap address`);
          bytes = new Uint8Array(0);
        } else {
          const obj = r.heapObject(address, index);
          if (len > obj.length) r.fail(`"${path}" element ${i} claims ${len} bytes of a ${obj.length}-byte heap object`);
          bytes = obj.subarray(0, len);
        }
      }
      out.push(r.text(bytes, `"${path}" element ${i}`));
    }
    return { kind: 'dataset', dtype: 'string', shape, data: out, strings: type.strings };
  }
  const t = NUMERIC[type.dtype];
  const out = new t.array(n);
  for (let i = 0; i < n; i++) {
    const o = i * t.size;
    let v: number | bigint;
    if (t.float) v = t.size === 4 ? view.getFloat32(o, le) : view.getFloat64(o, le);
    else if (t.size === 8) v = t.signed ? view.getBigInt64(o, le) : view.getBigUint64(o, le);
    else if (t.size === 4) v = t.signed ? view.getInt32(o, le) : view.getUint32(o, le);
    else if (t.size === 2) v = t.signed ? view.getInt16(o, le) : view.getUint16(o, le);
    else v = t.signed ? view.getInt8(o) : view.getUint8(o);
    (out as { [i: number]: number | bigint })[i] = v;
  }
  return { kind: 'dataset', dtype: type.dtype, shape, data: out };
}

/** The (name, object header address) members of the symbol-table group whose B-tree and heap are given. */
function readSymbolTable(r: Reader, treeAddress: number, heapAddress: number): Array<[string, number]> {
  r.signature(heapAddress, 'HEAP', 'local heap');
  r.need(heapAddress, 32, 'local heap header');
  const heapSize = r.u64(heapAddress + 8, 'local heap size');
  const heapData = r.address(heapAddress + 24, 'local heap data address');
  r.need(heapData, heapSize, 'local heap data');
  const name = (offset: number): string => {
    if (offset >= heapSize) r.fail(`a member name at heap offset ${offset} lies past the local heap's ${heapSize} bytes`);
    const bytes = r.bytes.subarray(heapData + offset, heapData + heapSize);
    const nul = bytes.indexOf(0);
    if (nul < 0) r.fail(`a member name at heap offset ${offset} is not NUL-terminated`);
    return r.text(bytes.subarray(0, nul), 'a member name');
  };
  const members: Array<[string, number]> = [];
  const seen = new Set<number>();
  const walk = (node: number, depth: number): void => {
    if (depth > 64) r.fail('group B-tree deeper than 64 levels');
    if (seen.has(node)) r.fail(`group B-tree node at byte ${node} is reached twice (a cycle)`);
    seen.add(node);
    r.signature(node, 'TREE', 'group B-tree node');
    r.need(node, 24, 'group B-tree node');
    if (r.u8(node + 4) !== 0) r.fail(`B-tree node at byte ${node} has type ${r.u8(node + 4)}, expected 0 (group)`);
    const level = r.u8(node + 5);
    const used = r.u16(node + 6);
    r.need(node + 24, 8 + 16 * used, 'group B-tree entries');
    for (let i = 0; i < used; i++) {
      const child = r.address(node + 24 + 8 + 16 * i, 'B-tree child address');
      if (level > 0) {
        walk(child, depth + 1);
        continue;
      }
      r.signature(child, 'SNOD', 'symbol table node');
      r.need(child, 8, 'symbol table node');
      if (r.u8(child + 4) !== 1) r.fail(`symbol table node at byte ${child} has version ${r.u8(child + 4)}, expected 1`);
      const count = r.u16(child + 6);
      r.need(child + 8, 40 * count, 'symbol table entries');
      for (let k = 0; k < count; k++) {
        const e = child + 8 + 40 * k;
        members.push([name(r.u64(e, 'name offset')), r.address(e + 8, 'object header address')]);
      }
    }
  };
  walk(treeAddress, 0);
  return members;
}

function readObject(r: Reader, address: number, path: string, ancestors: Set<number>): Hdf5Node {
  if (ancestors.has(address)) r.fail(`"${path}" links back to a group that contains it (a cycle)`);
  // Each object costs at least its 16-byte header: more visits than that mean links repeat an object too often.
  if (++r.objects > r.bytes.length / 16) r.fail('the file links its objects more often than its size allows');
  const messages = readMessages(r, address);
  for (const m of messages) {
    if ((m.flags & 0x80) !== 0 && ![MSG_NIL, MSG_DATASPACE, MSG_DATATYPE, MSG_FILL, MSG_LAYOUT, MSG_CONTINUATION, MSG_SYMBOL_TABLE].includes(m.type)) {
      r.fail(`"${path}" has message type ${m.type}, which readers must understand and this one does not`);
    }
  }
  const stab = messages.find((m) => m.type === MSG_SYMBOL_TABLE);
  if (stab) {
    if (stab.size < 16) r.fail(`symbol table message of "${path}" is too short`);
    const members = readSymbolTable(r, r.address(stab.at, 'group B-tree address'), r.address(stab.at + 8, 'local heap address'));
    const children = new Map<string, Hdf5Node>();
    ancestors.add(address);
    for (const [name, child] of members) {
      if (children.has(name)) r.fail(`group "${path || '/'}" lists "${name}" twice`);
      children.set(name, readObject(r, child, `${path}/${name}`, ancestors));
    }
    ancestors.delete(address);
    return { kind: 'group', children };
  }
  if (messages.some((m) => m.type === MSG_LINK || m.type === MSG_LINK_INFO)) r.fail(`group "${path || '/'}" uses new-style links (libver='latest'), which this reader does not read`);
  return readDataset(r, messages, path || '/');
}

/**
 * Decodes an HDF5 file into its tree of groups and datasets. `source` (e.g. the file name)
 * starts every error message.
 *
 * Throws a `DataFormatError` for a file that is not HDF5, a structure this reader does not
 * read (see the module comment), or any corruption: addresses or sizes past the end of the
 * file, missing signatures, a shape whose data is not all there, invalid UTF-8, link cycles.
 *
 * @example
 * ```ts
 * const root = readHdf5(bytes, 'model.nir');
 * const version = root.children.get('version'); // { kind: 'dataset', dtype: 'string', data: ['1.0'], … }
 * ```
 */
export function readHdf5(bytes: Uint8Array, source = 'HDF5 data'): Hdf5Group {
  const r = new Reader(bytes, source);
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) r.fail('not an HDF5 file (no signature at byte 0)');
  r.need(0, 24, 'superblock');
  const version = r.u8(8);
  if (version > 1) r.fail(`superblock version ${version} (libver='latest') is not supported, only 0 and 1 (h5py's default)`);
  if (r.u8(13) !== 8 || r.u8(14) !== 8) r.fail(`offsets of ${r.u8(13)} and lengths of ${r.u8(14)} bytes are not supported (only 8)`);
  const entry = version === 0 ? 56 : 60;
  r.need(0, entry + 40, 'superblock');
  if (r.u64(24, 'base address') !== 0) r.fail('a base address other than 0 (a user block) is not supported');
  const root = readObject(r, r.address(entry + 8, 'root group address'), '', new Set());
  return root.kind === 'group' ? root : r.fail('the root object is not a group');
}
