import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type IdxDType, parseIdx } from '../../src/data/idx';
import { DataFormatError } from '../../src/errors';

const CODES: Record<IdxDType, number> = { u8: 0x08, i8: 0x09, i16: 0x0b, i32: 0x0c, f32: 0x0d, f64: 0x0e };
const SIZES: Record<IdxDType, number> = { u8: 1, i8: 1, i16: 2, i32: 4, f32: 4, f64: 8 };

/** An IDX file written independently of the parser: big-endian through DataView. */
function idx(dtype: IdxDType, shape: number[], values: number[]): Uint8Array {
  const size = SIZES[dtype];
  const dv = new DataView(new ArrayBuffer(4 + 4 * shape.length + size * values.length));
  dv.setUint8(2, CODES[dtype]);
  dv.setUint8(3, shape.length);
  shape.forEach((d, i) => dv.setUint32(4 + 4 * i, d));
  const p = 4 + 4 * shape.length;
  values.forEach((v, i) => {
    const at = p + size * i;
    if (dtype === 'u8') dv.setUint8(at, v);
    else if (dtype === 'i8') dv.setInt8(at, v);
    else if (dtype === 'i16') dv.setInt16(at, v);
    else if (dtype === 'i32') dv.setInt32(at, v);
    else if (dtype === 'f32') dv.setFloat32(at, v);
    else dv.setFloat64(at, v);
  });
  return new Uint8Array(dv.buffer);
}

describe('parseIdx: hand-built files', () => {
  it('reads unsigned bytes: magic, type, dimensions, data', () => {
    const bytes = Uint8Array.of(0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 255);
    const out = parseIdx(bytes);
    expect(out.dtype).toBe('u8');
    expect(out.shape).toEqual([2, 3]);
    expect(out.data).toEqual(Uint8Array.of(1, 2, 3, 4, 5, 255));
  });

  it('reads every element type big-endian', () => {
    const i8 = parseIdx(Uint8Array.of(0, 0, 0x09, 1, 0, 0, 0, 2, 0xff, 0x7f));
    expect(i8.data).toEqual(Int8Array.of(-1, 127));
    const i16 = parseIdx(Uint8Array.of(0, 0, 0x0b, 1, 0, 0, 0, 2, 0x01, 0x02, 0xff, 0xfe));
    expect(i16.data).toEqual(Int16Array.of(0x0102, -2));
    const i32 = parseIdx(Uint8Array.of(0, 0, 0x0c, 1, 0, 0, 0, 1, 0x80, 0, 0, 1));
    expect(i32.data).toEqual(Int32Array.of(-(2 ** 31) + 1));
    const f32 = parseIdx(Uint8Array.of(0, 0, 0x0d, 1, 0, 0, 0, 2, 0x3f, 0xc0, 0, 0, 0xc1, 0x20, 0, 0));
    expect(f32.data).toEqual(Float32Array.of(1.5, -10));
    const f64 = parseIdx(Uint8Array.of(0, 0, 0x0e, 1, 0, 0, 0, 1, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a));
    expect(f64.data).toEqual(Float64Array.of(0.1));
    expect([i8.dtype, i16.dtype, i32.dtype, f32.dtype, f64.dtype]).toEqual(['i8', 'i16', 'i32', 'f32', 'f64']);
  });

  it('reads empty data and copies what it returns (also from Node Buffers at an offset)', () => {
    expect(parseIdx(Uint8Array.of(0, 0, 0x08, 2, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff)).data.length).toBe(0);
    const file = Uint8Array.of(0, 0, 0x09, 1, 0, 0, 0, 2, 0xff, 0x02);
    const buf = Buffer.concat([Buffer.from([9, 9, 9]), Buffer.from(file)]).subarray(3);
    const out = parseIdx(buf);
    expect(out.data).toEqual(Int8Array.of(-1, 2));
    buf.fill(0);
    expect(out.data).toEqual(Int8Array.of(-1, 2));
  });

  it('round-trips random arrays of every type through an independent writer', () => {
    const spec = fc.constantFrom<IdxDType>('u8', 'i8', 'i16', 'i32', 'f32', 'f64').chain((dtype) =>
      fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 4 }).chain((shape) => {
        const n = shape.reduce((a, b) => a * b, 1);
        const value: fc.Arbitrary<number> =
          dtype === 'u8' ? fc.integer({ min: 0, max: 255 })
          : dtype === 'i8' ? fc.integer({ min: -128, max: 127 })
          : dtype === 'i16' ? fc.integer({ min: -32768, max: 32767 })
          : dtype === 'i32' ? fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })
          : dtype === 'f32' ? fc.float({ noNaN: true })
          : fc.double({ noNaN: true });
        return fc.array(value, { minLength: n, maxLength: n }).map((values) => ({ dtype, shape, values }));
      }),
    );
    fc.assert(
      fc.property(spec, ({ dtype, shape, values }) => {
        const out = parseIdx(idx(dtype, shape, values));
        expect(out.dtype).toBe(dtype);
        expect(out.shape).toEqual(shape);
        expect(Array.from(out.data as ArrayLike<number>)).toEqual(values);
      }),
    );
  });
});

describe('parseIdx: bad files', () => {
  const good = idx('u8', [2, 2], [1, 2, 3, 4]);
  const cases: [string, Uint8Array, RegExp][] = [
    ['an empty file', new Uint8Array(0), /truncated header: 0 bytes/],
    ['a wrong magic number', Uint8Array.of(1, 0, 0x08, 1, 0, 0, 0, 0), /wrong magic number.*0x01 0x00/],
    ['a gzip file', Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0), /wrong magic number.*gzip/],
    ['an unknown type', Uint8Array.of(0, 0, 0x0a, 1, 0, 0, 0, 0), /unknown element type 0x0a/],
    ['zero dimensions', Uint8Array.of(0, 0, 0x08, 0), /zero dimensions/],
    ['a truncated header', Uint8Array.of(0, 0, 0x08, 3, 0, 0, 0, 1, 0, 0), /truncated header: 3 dimensions need 16 header bytes, the file has 10/],
    ['truncated data', good.subarray(0, good.length - 1), /truncated data: dimensions \[2, 2\] of u8 need 4 bytes after the 12-byte header, the file has 3/],
    ['trailing bytes', Uint8Array.of(...good, 0, 0), /2 trailing bytes: dimensions \[2, 2\] of u8 need 4 bytes/],
    ['absurd dimensions', Uint8Array.of(0, 0, 0x0e, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 1, 2, 3), /truncated data: dimensions \[4294967295, 4294967295, 4294967295\] of f64 need 633825299671392843082401579000 bytes/],
    ['f32 data not a multiple of 4', Uint8Array.of(0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0), /truncated data/],
  ];
  for (const [what, bytes, message] of cases) {
    it(`rejects ${what}, naming the source`, () => {
      let error: unknown;
      try {
        parseIdx(bytes, 'train-images-idx3-ubyte');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(DataFormatError);
      expect((error as Error).message).toMatch(/^train-images-idx3-ubyte: /);
      expect((error as Error).message).toMatch(message);
    });
  }
});

describe('parseIdx: fuzz', () => {
  const decodesOrRejects = (bytes: Uint8Array): void => {
    try {
      parseIdx(bytes, 'fuzz');
    } catch (e) {
      if (!(e instanceof DataFormatError)) throw new Error(`expected a DataFormatError, got ${String(e)}`);
    }
  };
  const valid = idx('i16', [3, 2], [1, -2, 3, -4, 5, -6]);

  it('random bytes, with and without a valid magic', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), decodesOrRejects), { numRuns: 2000 });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 6 }), fc.uint8Array({ maxLength: 64 }), (type, ndim, rest) => decodesOrRejects(Uint8Array.of(0, 0, type, ndim, ...rest))),
      { numRuns: 2000 },
    );
  });

  it('mutations of a valid file: flipped bytes and truncation', () => {
    const mutation = fc.oneof(
      fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }).map((flips) => {
        const b = valid.slice();
        for (const [i, v] of flips) b[i] = v;
        return b;
      }),
      fc.nat(valid.length).map((n) => valid.slice(0, n)),
      fc.uint8Array({ minLength: 1, maxLength: 8 }).map((extra) => Uint8Array.of(...valid, ...extra)),
    );
    fc.assert(fc.property(mutation, decodesOrRejects), { numRuns: 2000 });
  });
});
