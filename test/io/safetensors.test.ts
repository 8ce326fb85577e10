import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataFormatError, OptionError, ShapeError } from '../../src/errors';
import { type RawTensor, type SafetensorsDType, decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors';
import { Tensor, tensor } from '../../src/tensor/tensor';

/** A safetensors file built by hand: u64 LE header length, the header text as given, the data. */
function build(header: string, data: ArrayLike<number> = [], headerLengthOverride?: number): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  const n = headerLengthOverride ?? h.length;
  for (let i = 0; i < 8; i++) out[i] = Math.floor(n / 2 ** (8 * i)) & 0xff;
  out.set(h, 8);
  out.set(Array.from(data), 8 + h.length);
  return out;
}

/** Little-endian bytes of float32 values, through DataView. */
function f32le(values: number[]): number[] {
  const dv = new DataView(new ArrayBuffer(4 * values.length));
  values.forEach((v, i) => dv.setFloat32(4 * i, v, true));
  return Array.from(new Uint8Array(dv.buffer));
}

/** The header text and data offset of an encoded file, read with JSON.parse. */
function headerOf(bytes: Uint8Array): { json: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>; text: string; n: number } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  return { json: JSON.parse(text), text, n };
}

describe('encodeSafetensors: the bytes of the format', () => {
  it('writes the u64 header length, the JSON header and the little-endian data', () => {
    const bytes = encodeSafetensors({ 'attn.0': tensor([0, 1, 2, 3, 4, 5], [1, 2, 3]) });
    const header = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    expect(header.length).toBe(64); // already a multiple of 8: no padding
    expect(Array.from(bytes)).toEqual([64, 0, 0, 0, 0, 0, 0, 0, ...Array.from(new TextEncoder().encode(header)),
      0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64]);
  });

  it('pads the header with spaces to a multiple of 8 bytes', () => {
    const bytes = encodeSafetensors({ attn0: tensor([0, 1, 2, 3, 4, 5], [1, 1, 2, 3]) });
    const header = '{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}';
    expect(header.length).toBe(65);
    expect(bytes[0]).toBe(72);
    expect(new TextDecoder().decode(bytes.subarray(8, 80))).toBe(header + '       ');
    expect(bytes.length).toBe(80 + 24);
  });

  it('writes an empty file and metadata', () => {
    expect(Array.from(encodeSafetensors({}))).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    const withMeta = encodeSafetensors({}, { framework: 'pt' });
    const header = '{"__metadata__":{"framework":"pt"}}';
    expect(withMeta[0]).toBe(40);
    expect(new TextDecoder().decode(withMeta.subarray(8))).toBe(header + ' '.repeat(40 - header.length));
  });

  it('orders entries by descending element size, then name, so each is aligned in the file', () => {
    const bytes = encodeSafetensors({
      z: { dtype: 'U8', shape: [3], data: Uint8Array.of(1, 2, 3) },
      b: { dtype: 'F16', shape: [1], data: Uint16Array.of(0x3c00) },
      a: { dtype: 'I32', shape: [1], data: Int32Array.of(-1) },
      c: tensor([1]),
      d: { dtype: 'F64', shape: [1], data: Float64Array.of(0.1) },
    });
    const { json, n } = headerOf(bytes);
    expect(Object.keys(json)).toEqual(['d', 'a', 'c', 'b', 'z']);
    expect(json.d.data_offsets).toEqual([0, 8]);
    expect(json.a.data_offsets).toEqual([8, 12]);
    expect(json.c.data_offsets).toEqual([12, 16]);
    expect(json.b.data_offsets).toEqual([16, 18]);
    expect(json.z.data_offsets).toEqual([18, 21]);
    expect((8 + n) % 8).toBe(0);
  });

  it('rejects bad input with typed errors', () => {
    expect(() => encodeSafetensors({ __metadata__: tensor([1]) })).toThrow(OptionError);
    expect(() => encodeSafetensors({ a: { dtype: 'I32', shape: [2], data: Float32Array.of(1, 2) } })).toThrow(/must be a Int32Array, got Float32Array/);
    expect(() => encodeSafetensors({ a: { dtype: 'U8', shape: [2, 2], data: Uint8Array.of(1, 2, 3) } })).toThrow(ShapeError);
    expect(() => encodeSafetensors({ a: { dtype: 'U8', shape: [-1], data: Uint8Array.of() } })).toThrow(ShapeError);
    expect(() => encodeSafetensors({ a: { dtype: 'Q4' as SafetensorsDType, shape: [1], data: Uint8Array.of(1) } })).toThrow(/unknown dtype "Q4"/);
    expect(() => encodeSafetensors({}, { epoch: 3 as unknown as string })).toThrow(/metadata values must be strings/);
  });
});

describe('decodeSafetensors: values', () => {
  it('decodes every dtype from hand-written little-endian bytes', () => {
    const header = JSON.stringify({
      f64: { dtype: 'F64', shape: [2], data_offsets: [0, 16] },
      i64: { dtype: 'I64', shape: [2], data_offsets: [16, 32] },
      f32: { dtype: 'F32', shape: [1], data_offsets: [32, 36] },
      i32: { dtype: 'I32', shape: [1], data_offsets: [36, 40] },
      f16: { dtype: 'F16', shape: [2, 2], data_offsets: [40, 48] },
      bf16: { dtype: 'BF16', shape: [2], data_offsets: [48, 52] },
      u8: { dtype: 'U8', shape: [2], data_offsets: [52, 54] },
      __metadata__: { format: 'pt', note: 'ü ✓' },
    });
    const data = [
      0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f, // 0.1 as a double
      0, 0, 0, 0, 0, 0, 0xf0, 0xbf, // -1 as a double
      0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // -2 as i64
      0, 0, 0, 0, 1, 0, 0, 0, // 2^32 as i64
      0, 0, 0xc0, 0x3f, // 1.5 as f32
      0xf9, 0xff, 0xff, 0xff, // -7 as i32
      0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00, 0xff, 0x7b, // f16: 1, -2, 2^-24 (smallest subnormal), 65504 (largest)
      0x80, 0x3f, 0x49, 0x40, // bf16: 1, 3.140625
      7, 255,
    ];
    const { tensors, raw, metadata } = decodeSafetensors(build(header, data));
    expect(metadata).toEqual({ format: 'pt', note: 'ü ✓' });
    expect(Array.from(tensors.f64.data)).toEqual([Math.fround(0.1), -1]);
    expect(Array.from(raw.f64.data as Float64Array)).toEqual([0.1, -1]);
    expect(Array.from(raw.i64.data as BigInt64Array)).toEqual([-2n, 4294967296n]);
    expect(Array.from(tensors.i64.data)).toEqual([-2, 4294967296]);
    expect(tensors.f32.item()).toBe(1.5);
    expect(raw.i32.data).toEqual(Int32Array.of(-7));
    expect(tensors.f16.shape).toEqual([2, 2]);
    expect(Array.from(tensors.f16.data)).toEqual([1, -2, 2 ** -24, 65504]);
    expect(raw.f16.data).toEqual(Uint16Array.of(0x3c00, 0xc000, 0x0001, 0x7bff));
    expect(Array.from(tensors.bf16.data)).toEqual([1, 3.140625]);
    expect(Array.from(tensors.u8.data)).toEqual([7, 255]);
    expect(raw.u8.dtype).toBe('U8');
    // Entries come back in file order.
    expect(Object.keys(tensors)).toEqual(['f64', 'i64', 'f32', 'i32', 'f16', 'bf16', 'u8']);
  });

  it('decodes all 65,536 float16 bit patterns exactly', () => {
    const bits = new Uint16Array(65536);
    for (let i = 0; i < 65536; i++) bits[i] = i;
    const out = decodeSafetensors(encodeSafetensors({ h: { dtype: 'F16', shape: [65536], data: bits } })).tensors.h.data;
    // Reference: rebuild each half as float32 bits (rebias the exponent 15 → 127, shift the mantissa 10 → 23 bits).
    const ref = new DataView(new ArrayBuffer(4));
    for (let h = 0; h < 65536; h++) {
      const s = h >>> 15;
      const e = (h >>> 10) & 31;
      let m = h & 1023;
      let f32bits: number;
      if (e === 31) f32bits = (s << 31) | (255 << 23) | (m << 13);
      else if (e === 0 && m === 0) f32bits = s << 31;
      else if (e === 0) {
        // Subnormal: normalise the mantissa.
        let k = -1;
        while ((m & 1024) === 0) {
          m <<= 1;
          k++;
        }
        f32bits = (s << 31) | ((127 - 15 - k) << 23) | ((m & 1023) << 13);
      } else f32bits = (s << 31) | ((e - 15 + 127) << 23) | (m << 13);
      ref.setUint32(0, f32bits >>> 0);
      const want = ref.getFloat32(0);
      if (Number.isNaN(want)) expect(Number.isNaN(out[h])).toBe(true);
      else if (out[h] !== want) expect.fail(`half 0x${h.toString(16)}: got ${out[h]}, want ${want}`);
    }
  });

  it('decodes bfloat16 as the top half of float32 bits', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 50 }), (values) => {
        const out = decodeSafetensors(encodeSafetensors({ b: { dtype: 'BF16', shape: [values.length], data: Uint16Array.from(values) } })).tensors.b.data;
        const dv = new DataView(new ArrayBuffer(4));
        values.forEach((v, i) => {
          dv.setUint16(0, v); // big-endian: the high half
          dv.setUint16(2, 0);
          const want = dv.getFloat32(0);
          expect(Number.isNaN(want) ? Number.isNaN(out[i]) : Object.is(out[i], want)).toBe(true);
        });
      }),
    );
  });

  it('rounds I64 to the nearest float32 (ties to even), without double rounding', () => {
    const cases: [bigint, number][] = [
      [2n ** 60n + 2n ** 36n + 1n, 2 ** 60 + 2 ** 37], // just above a float32 tie: a double would round it down onto the tie
      [2n ** 60n + 2n ** 36n, 2 ** 60], // an exact tie: to even
      [2n ** 60n + 3n * 2n ** 36n, 2 ** 60 + 2 ** 38], // a tie to even, upwards
      [-(2n ** 63n), -(2 ** 63)],
      [2n ** 63n - 1n, 2 ** 63],
      [2n ** 24n + 1n, 2 ** 24], // below 2^53: one rounding, a tie to even
      [-123456789n, Math.fround(-123456789)],
    ];
    const data = BigInt64Array.from(cases.map((c) => c[0]));
    const out = decodeSafetensors(encodeSafetensors({ v: { dtype: 'I64', shape: [cases.length], data } })).tensors.v.data;
    expect(Array.from(out)).toEqual(cases.map((c) => c[1]));

    // Property: the result is the float32 nearest to v (exact BigInt distances), ties to the even significand.
    const f32bits = (x: number): number => new Uint32Array(Float32Array.of(x).buffer)[0];
    const fromBits = (b: number): number => new Float32Array(Uint32Array.of(b).buffer)[0];
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (v) => {
        const got = decodeSafetensors(encodeSafetensors({ v: { dtype: 'I64', shape: [], data: BigInt64Array.of(v) } })).tensors.v.item();
        const guess = Math.fround(Number(v));
        const candidates = [guess, fromBits(f32bits(guess) + 1), fromBits(f32bits(guess) - 1)].filter((c) => Number.isFinite(c) && Number.isInteger(c));
        const dist = (c: number): bigint => (BigInt(c) > v ? BigInt(c) - v : v - BigInt(c));
        const best = candidates.reduce((a, b) => {
          const da = dist(a);
          const db = dist(b);
          if (da !== db) return da < db ? a : b;
          return (f32bits(a) & 1) === 0 ? a : b;
        });
        expect(got).toBe(best);
      }),
      { numRuns: 300 },
    );
  });

  it('reads tensors at unaligned offsets and from inputs at any byte offset (including Node Buffers)', () => {
    // A U8 tensor of 1 byte puts the F32 tensor at data offset 1: valid, but unaligned.
    const header = '{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"F32","shape":[2],"data_offsets":[1,9]}}';
    const file = build(header, [9, ...f32le([0.5, -3.25])]);
    for (const shift of [0, 1, 3]) {
      const host = new Uint8Array(file.length + shift + 5);
      host.set(file, shift);
      const input = host.subarray(shift, shift + file.length);
      const out = decodeSafetensors(input);
      expect(Array.from(out.tensors.b.data)).toEqual([0.5, -3.25]);
      expect(out.raw.a.data).toEqual(Uint8Array.of(9));
      // The result owns its memory: changing the input later changes nothing.
      input.fill(0);
      expect(Array.from(out.tensors.b.data)).toEqual([0.5, -3.25]);
    }
    const buf = Buffer.concat([Buffer.from([1, 2, 3]), Buffer.from(file)]).subarray(3);
    expect(Array.from(decodeSafetensors(buf).tensors.b.data)).toEqual([0.5, -3.25]);
  });

  it('treats __proto__ as an ordinary name', () => {
    const out = decodeSafetensors(build('{"__proto__":{"dtype":"U8","shape":[],"data_offsets":[0,1]},"__metadata__":{"__proto__":"x"}}', [4]));
    expect(Object.keys(out.tensors)).toEqual(['__proto__']);
    expect(out.tensors['__proto__'].item()).toBe(4);
    expect(Object.getPrototypeOf(out.tensors)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(out.metadata, '__proto__')?.value).toBe('x');
  });
});

describe('safetensors round trip', () => {
  const shapeArb = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 });
  const sizeOf = (s: number[]) => s.reduce((a, b) => a * b, 1);
  type Entry = { kind: 'tensor'; shape: number[]; values: number[] } | { kind: 'raw'; raw: RawTensor };
  const entryArb: fc.Arbitrary<Entry> = fc.oneof(
    shapeArb.chain((shape) => fc.array(fc.float({ noNaN: true }), { minLength: sizeOf(shape), maxLength: sizeOf(shape) }).map((values): Entry => ({ kind: 'tensor', shape, values }))),
    fc.tuple(fc.constantFrom<SafetensorsDType>('U8', 'I32', 'F64', 'I64', 'F16', 'BF16', 'F32'), shapeArb).chain(([dtype, shape]) => {
      const n = sizeOf(shape);
      const ints = (min: number, max: number) => fc.array(fc.integer({ min, max }), { minLength: n, maxLength: n });
      const data: fc.Arbitrary<ArrayBufferView> =
        dtype === 'U8' ? ints(0, 255).map((a) => Uint8Array.from(a))
        : dtype === 'I32' ? ints(-(2 ** 31), 2 ** 31 - 1).map((a) => Int32Array.from(a))
        : dtype === 'F16' || dtype === 'BF16' ? ints(0, 0xffff).map((a) => Uint16Array.from(a))
        : dtype === 'F64' ? fc.array(fc.double({ noNaN: true }), { minLength: n, maxLength: n }).map((a) => Float64Array.from(a))
        : dtype === 'F32' ? fc.array(fc.float(), { minLength: n, maxLength: n }).map((a) => Float32Array.from(a))
        : fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { minLength: n, maxLength: n }).map((a) => BigInt64Array.from(a));
      return data.map((d): Entry => ({ kind: 'raw', raw: { dtype, shape, data: d } }));
    }),
  );

  it('decode(encode(x)) gives back every tensor, raw entry and metadata value', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 8 }).filter((k) => k !== '__metadata__'), entryArb, { maxKeys: 6 }), fc.option(fc.dictionary(fc.string(), fc.string({ unit: 'grapheme' })), { nil: undefined }), (entries, metadata) => {
        const input: Record<string, Tensor | RawTensor> = {};
        for (const [name, e] of Object.entries(entries)) {
          Object.defineProperty(input, name, { value: e.kind === 'tensor' ? new Tensor(Float32Array.from(e.values), e.shape) : e.raw, enumerable: true });
        }
        const bytes = encodeSafetensors(input, metadata);
        const out = decodeSafetensors(bytes);
        expect(Object.keys(out.tensors).sort()).toEqual(Object.keys(input).sort());
        for (const [name, e] of Object.entries(entries)) {
          if (e.kind === 'tensor') {
            expect(out.raw[name].dtype).toBe('F32');
            expect(out.tensors[name].shape).toEqual(e.shape);
            expect(out.tensors[name].data).toEqual(Float32Array.from(e.values));
          } else {
            expect(out.raw[name].dtype).toBe(e.raw.dtype);
            expect(out.raw[name].shape).toEqual(e.raw.shape);
            expect(out.raw[name].data).toEqual(e.raw.data);
            expect(out.tensors[name].shape).toEqual(e.raw.shape);
            if (e.raw.dtype !== 'F16' && e.raw.dtype !== 'BF16' && e.raw.dtype !== 'I64') {
              // U8, I32, F32, F64: one rounding of a double to float32.
              expect(out.tensors[name].data).toEqual(Float32Array.from(e.raw.data as Float64Array));
            }
          }
        }
        expect(out.metadata).toEqual(metadata ?? {});
        // Every tensor's data is aligned to its element size within the file.
        const { json, n } = headerOf(bytes);
        const sizes: Record<string, number> = { F64: 8, I64: 8, F32: 4, I32: 4, F16: 2, BF16: 2, U8: 1 };
        for (const [name, info] of Object.entries(json)) if (name !== '__metadata__') expect((8 + n + info.data_offsets[0]) % sizes[info.dtype]).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('round-trips scalars and empty tensors', () => {
    const out = decodeSafetensors(encodeSafetensors({ s: tensor(2.5), e: new Tensor(new Float32Array(0), [3, 0]), z: new Tensor(new Float32Array(0), [0]) }));
    expect(out.tensors.s.shape).toEqual([]);
    expect(out.tensors.s.item()).toBe(2.5);
    expect(out.tensors.e.shape).toEqual([3, 0]);
    expect(out.tensors.z.shape).toEqual([0]);
  });
});

describe('decodeSafetensors: bad files', () => {
  const ok = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
  const okData = f32le([1, 2]);
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty input', new Uint8Array(0), /truncated: 0 bytes/],
    ['a truncated length', Uint8Array.of(8, 0, 0), /truncated: 3 bytes/],
    ['a header length past the end', build(ok, okData, 1000), /header length 1000 runs past the end/],
    ['a huge header length', (() => { const b = build(ok, okData); b[7] = 0xff; return b; })(), /runs past the end/],
    ['a truncated file (data cut short)', build(ok, okData.slice(0, 5)), /data_offsets \[0, 8\] run past the end of the data \(5 bytes/],
    ['malformed JSON', build('{"a":', okData), /malformed JSON header/],
    ['invalid UTF-8', build('{}', []).map((b, i) => (i === 9 ? 0xff : b)), /the header is not valid UTF-8/],
    ['trailing junk after the JSON', build('{} x', []), /unexpected text after the value/],
    ['a header that is an array', build('[]'), /must be a JSON object, got \[\]/],
    ['a header that is a string', build('"hi"'), /must be a JSON object/],
    ['an entry that is not an object', build('{"a":3}'), /tensor "a": expected an object/],
    ['an unknown dtype', build('{"a":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}}', [0]), /unknown or unsupported dtype "F8"/],
    ['a missing field', build('{"a":{"dtype":"U8","shape":[1]}}', [0]), /missing field data_offsets/],
    ['an unknown field', build('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":1}}', [0]), /unknown field "x"/],
    ['a negative dimension', build('{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}', [0]), /shape must be a list of non-negative integers/],
    ['a fractional dimension', build('{"a":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}}', [0]), /shape must be a list of non-negative integers/],
    ['a shape that is not a list', build('{"a":{"dtype":"U8","shape":"1","data_offsets":[0,1]}}', [0]), /shape must be a list/],
    ['reversed offsets', build('{"a":{"dtype":"U8","shape":[0],"data_offsets":[1,0]}}', [0]), /0 ≤ begin ≤ end/],
    ['three offsets', build('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}', [0]), /data_offsets must be \[begin, end\]/],
    ['shape × dtype size ≠ byte length', build('{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', okData), /shape \[3\] of F32 \(4 bytes each\) needs 12 bytes, but data_offsets \[0, 8\] hold 8/],
    ['a shape whose product overflows', build('{"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}}', okData), /needs 316912650057057350374175801344 bytes/],
    ['overlapping tensors', build('{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}}', [1, 2, 3]), /"b" data_offsets \[1, 3\] overlap tensor "a", which ends at 2/],
    ['a gap', build('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"b":{"dtype":"U8","shape":[1],"data_offsets":[2,3]}}', [1, 2, 3]), /gap in the data: bytes \[1, 2\)/],
    ['data not starting at 0', build('{"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', [1, 2]), /gap in the data: bytes \[0, 1\)/],
    ['trailing data', build(ok, [...okData, 0, 0]), /2 trailing bytes belong to no tensor/],
    ['duplicate names', build('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', [1]), /duplicate key "a"/],
    ['duplicate fields', build('{"a":{"dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1]}}', [1]), /duplicate key "dtype"/],
    ['a non-string metadata value', build('{"__metadata__":{"epoch":3}}'), /metadata values must be strings, "epoch" is 3/],
    ['metadata that is not an object', build('{"__metadata__":"x"}'), /"__metadata__" must be an object of strings/],
    ['deep nesting', build(`{"__metadata__":${'['.repeat(5000)}${']'.repeat(5000)}}`), /nesting deeper than 64/],
  ];
  for (const [what, bytes, message] of cases) {
    it(`rejects ${what}`, () => {
      let error: unknown;
      try {
        decodeSafetensors(bytes, 'bad.safetensors');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(DataFormatError);
      expect((error as Error).message).toMatch(/^bad\.safetensors: /);
      expect((error as Error).message).toMatch(message);
    });
  }

  it('rejects a header of 80,000 huge dimensions in linear time, with a message of bounded length', () => {
    const shape = new Array<number>(80_000).fill(2 ** 32 - 1);
    const bytes = build(`{"a":{"dtype":"F32","shape":[${shape.join(',')}],"data_offsets":[0,8]}}`, okData);
    expect(bytes.length).toBeGreaterThan(800_000);
    const t0 = performance.now();
    let error: unknown;
    try {
      decodeSafetensors(bytes, 'bad.safetensors');
    } catch (e) {
      error = e;
    }
    // Linear: ~0.1 s here; the exact product took 11–18 s. Generous for a loaded machine.
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(error).toEqual(new DataFormatError('bad.safetensors: tensor "a": shape [4294967295, 4294967295, 4294967295, 4294967295, 4294967295, 4294967295, … (80000 dimensions)] of F32 (4 bytes each) needs more than 2^256 bytes, but data_offsets [0, 8] hold 8'));
    // Eight dimensions or fewer are printed whole, with the exact byte count below 2^256.
    expect(() => decodeSafetensors(build('{"a":{"dtype":"U8","shape":[1,2,3,4,5,6,7,8],"data_offsets":[0,8]}}', okData), 'b')).toThrow('b: tensor "a": shape [1, 2, 3, 4, 5, 6, 7, 8] of U8 (1 bytes each) needs 40320 bytes, but data_offsets [0, 8] hold 8');
  });

  it('names a default source when none is given', () => {
    expect(() => decodeSafetensors(new Uint8Array(2))).toThrow(/^safetensors data: truncated/);
  });

  it('accepts the padding the writer adds, and reordered entries', () => {
    const header = '{"b":{"dtype":"U8","shape":[1],"data_offsets":[4,5]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}   ';
    const out = decodeSafetensors(build(header, [...f32le([7]), 3]));
    expect(out.tensors.a.item()).toBe(7);
    expect(out.tensors.b.item()).toBe(3);
  });
});

describe('decodeSafetensors: fuzz', () => {
  /** Decoding either succeeds or throws a DataFormatError. */
  function decodesOrRejects(bytes: Uint8Array): void {
    try {
      decodeSafetensors(bytes, 'fuzz');
    } catch (e) {
      if (!(e instanceof DataFormatError)) throw new Error(`expected a DataFormatError, got ${String(e)}`);
    }
  }
  const valid = encodeSafetensors(
    {
      w: tensor([[1, 2], [3, 4]]),
      n: { dtype: 'I64', shape: [], data: BigInt64Array.of(3n) },
      h: { dtype: 'F16', shape: [3], data: Uint16Array.of(1, 2, 3) },
      u: { dtype: 'U8', shape: [0], data: Uint8Array.of() },
    },
    { format: 'pt' },
  );
  const headerLength = Number(new DataView(valid.buffer).getBigUint64(0, true));

  it('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), decodesOrRejects), { numRuns: 2000 });
    // Random bytes after a plausible header length.
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 64 }), fc.uint8Array({ maxLength: 100 }), (n, rest) => {
        const b = new Uint8Array(8 + rest.length);
        b[0] = n;
        b.set(rest, 8);
        decodesOrRejects(b);
      }),
      { numRuns: 2000 },
    );
  });

  it('mutations of a valid file: flipped bytes, truncation, another header length, edited JSON', () => {
    const mutation = fc.oneof(
      fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }).map((flips) => {
        const b = valid.slice();
        for (const [i, v] of flips) b[i] = v;
        return b;
      }),
      fc.nat(valid.length).map((len) => valid.slice(0, len)),
      fc.integer({ min: 0, max: 2 ** 31 }).map((n) => {
        const b = valid.slice();
        new DataView(b.buffer).setUint32(0, n, true);
        return b;
      }),
      fc.tuple(fc.nat(headerLength - 1), fc.nat(8), fc.string({ maxLength: 6, unit: fc.constantFrom(...'{}[]",:0123456789-.e ') })).map(([at, del, ins]) => {
        const text = new TextDecoder().decode(valid.subarray(8, 8 + headerLength));
        const edited = text.slice(0, at) + ins + text.slice(at + del);
        return build(edited, valid.subarray(8 + headerLength));
      }),
    );
    fc.assert(fc.property(mutation, decodesOrRejects), { numRuns: 3000 });
  });
});

describe('a file written from PyTorch tensors (test/fixtures/torch_dtypes.safetensors)', () => {
  // Written by `/usr/bin/python3 scripts/torch_safetensors_check.py --write-fixture` from torch tensors;
  // the expected values below are written out by hand.
  it('decodes every dtype to the values PyTorch stored', async () => {
    const { readFileSync } = await import('node:fs');
    const bytes = readFileSync(new URL('../fixtures/torch_dtypes.safetensors', import.meta.url));
    const { tensors, raw, metadata } = decodeSafetensors(bytes, 'torch_dtypes.safetensors');
    expect(metadata).toEqual({ format: 'pt', writer: 'scripts/torch_safetensors_check.py' });
    expect(Object.keys(raw).sort()).toEqual(['bf16', 'f16', 'f32', 'f64', 'i32', 'i64', 'scalar', 'u8']);

    expect(tensors.f32.shape).toEqual([2, 3]);
    expect(Array.from(tensors.f32.data)).toEqual([1.5, -2.25, 3.0000000054977558e38, 2 ** -149, -0, Infinity]);
    expect(Object.is(tensors.f32.data[4], -0)).toBe(true);

    expect(Array.from(raw.f64.data as Float64Array)).toEqual([0.1, -1e300, 1 + 2 ** -30, 1e-310]);
    // float32 rounding: 0.1 → nearest float32, −1e300 overflows, 2^−30 is below half an ulp of 1, 1e−310 underflows.
    expect(Array.from(tensors.f64.data)).toEqual([0.10000000149011612, -Infinity, 1, 0]);

    expect(raw.f16.data).toEqual(Uint16Array.of(0x3c00, 0xc000, 0x7bff, 0x0001, 0x3555, 0xfc00));
    expect(Array.from(tensors.f16.data)).toEqual([1, -2, 65504, 2 ** -24, 0.333251953125, -Infinity]);

    expect(raw.bf16.data).toEqual(Uint16Array.of(0x3f80, 0x4049, 0xfe96, 0x0001));
    expect(Array.from(tensors.bf16.data)).toEqual([1, 3.140625, -(150 / 128) * 2 ** 126, 2 ** -133]);

    expect(Array.from(raw.i64.data as BigInt64Array)).toEqual([-2n, 2n ** 32n, 2n ** 60n + 2n ** 36n + 1n, -(2n ** 63n), 2n ** 63n - 1n]);
    expect(Array.from(tensors.i64.data)).toEqual([-2, 2 ** 32, 2 ** 60 + 2 ** 37, -(2 ** 63), 2 ** 63]);

    expect(raw.i32.data).toEqual(Int32Array.of(-7, 2147483647, 16777217));
    expect(Array.from(tensors.i32.data)).toEqual([-7, 2 ** 31, 2 ** 24]);

    expect(tensors.u8.shape).toEqual([2, 2]);
    expect(raw.u8.data).toEqual(Uint8Array.of(0, 7, 128, 255));
    expect(tensors.scalar.shape).toEqual([]);
    expect(tensors.scalar.item()).toBe(2.5);
  });
});
