/**
 * The natural-image views: flip, brightness/contrast jitter, random erasing and the spec parser,
 * each checked against its equation recomputed here with a generator of the same seed.
 */
import { describe, expect, it } from 'vitest';
import { OptionError, ShapeError } from '../../src/errors';
import { Rng } from '../../src/rng';
import { colorJitter, parseAugmentation, randomAffine, randomErasing, randomHorizontalFlip, randomResizedCrop, randomShift } from '../../src/ssl/augment';
import { Tensor } from '../../src/tensor/tensor';

function images(b: number, h: number, w: number, seed: number): Tensor {
  const rng = new Rng(seed);
  return new Tensor(Float32Array.from({ length: b * h * w }, () => rng.uniform()), [b, h * w]);
}

describe('randomHorizontalFlip', () => {
  it('mirrors exactly the images whose draw is below p, row by row', () => {
    const x = images(6, 3, 4, 1);
    const y = randomHorizontalFlip(x, { height: 3, width: 4, rng: new Rng(5) });
    const draws = new Rng(5);
    for (let i = 0; i < 6; i++) {
      const flip = draws.uniform() < 0.5;
      for (let r = 0; r < 3; r++) {
        for (let c = 0; c < 4; c++) {
          expect(y.data[i * 12 + r * 4 + c]).toBe(x.data[i * 12 + r * 4 + (flip ? 3 - c : c)]);
        }
      }
    }
  });

  it('p = 1 twice is the identity; p = 0 copies; bad p or shape is refused', () => {
    const x = images(3, 28, 28, 2);
    const twice = randomHorizontalFlip(randomHorizontalFlip(x, { p: 1, rng: new Rng(0) }), { p: 1, rng: new Rng(0) });
    expect(Array.from(twice.data)).toEqual(Array.from(x.data));
    expect(Array.from(randomHorizontalFlip(x, { p: 0, rng: new Rng(0) }).data)).toEqual(Array.from(x.data));
    expect(() => randomHorizontalFlip(x, { p: 1.5, rng: new Rng(0) })).toThrow(OptionError);
    expect(() => randomHorizontalFlip(new Tensor(new Float32Array(10), [2, 5]), { rng: new Rng(0) })).toThrow(ShapeError);
  });
});

describe('colorJitter', () => {
  it('is clamp(c·clamp(b·x) + (1 − c)·mean) with b, c drawn per image', () => {
    const x = images(4, 5, 5, 3);
    const y = colorJitter(x, { height: 5, width: 5, brightness: 0.5, contrast: 0.3, rng: new Rng(9) });
    const r = new Rng(9);
    const clamp = (v: number) => Math.min(1, Math.max(0, v));
    for (let i = 0; i < 4; i++) {
      const b = 0.5 + r.uniform() * 1;
      const c = 0.7 + r.uniform() * 0.6;
      const bright = Array.from(x.data.subarray(i * 25, (i + 1) * 25), (v) => clamp(Math.fround(b * v)));
      const m = bright.reduce((a, v) => a + v, 0) / 25;
      bright.forEach((v, j) => expect(y.data[i * 25 + j]).toBeCloseTo(clamp(c * v + (1 - c) * m), 6));
    }
  });

  it('brightness = contrast = 0 changes nothing; a constant image keeps its (scaled) constant', () => {
    const x = images(2, 28, 28, 4);
    const same = colorJitter(x, { brightness: 0, contrast: 0, rng: new Rng(1) });
    same.data.forEach((v, j) => expect(v).toBeCloseTo(x.data[j], 6));
    const flat = new Tensor(new Float32Array(784).fill(0.5), [1, 784]);
    const y = colorJitter(flat, { brightness: 0, contrast: 0.9, rng: new Rng(2) });
    y.data.forEach((v) => expect(v).toBeCloseTo(0.5, 6));
    expect(() => colorJitter(x, { brightness: 1.5, rng: new Rng(0) })).toThrow(OptionError);
  });
});

describe('randomErasing', () => {
  it('with p = 1 zeroes one axis-aligned rectangle whose area is within scale (up to rounding), nothing else', () => {
    const ones = new Tensor(new Float32Array(20 * 784).fill(1), [20, 784]);
    const y = randomErasing(ones, { p: 1, scale: [0.05, 0.2], rng: new Rng(3) });
    for (let i = 0; i < 20; i++) {
      let top = 28, bottom = -1, left = 28, right = -1, zeros = 0;
      for (let r = 0; r < 28; r++) {
        for (let c = 0; c < 28; c++) {
          if (y.data[i * 784 + r * 28 + c] === 0) {
            zeros++;
            top = Math.min(top, r);
            bottom = Math.max(bottom, r);
            left = Math.min(left, c);
            right = Math.max(right, c);
          }
        }
      }
      if (zeros === 0) continue; // ten rejected draws leave the image whole
      // The zeros fill their bounding box exactly: a rectangle.
      expect(zeros).toBe((bottom - top + 1) * (right - left + 1));
      // Rounding each side moves the area by at most (h + w)/2 + 1/4 pixels from the drawn one.
      const h = bottom - top + 1;
      const w = right - left + 1;
      expect(zeros).toBeGreaterThanOrEqual(0.05 * 784 - (h + w) / 2 - 0.25);
      expect(zeros).toBeLessThanOrEqual(0.2 * 784 + (h + w) / 2 + 0.25);
    }
  });

  it('p = 0 copies the images; bad options are refused', () => {
    const x = images(2, 28, 28, 5);
    expect(Array.from(randomErasing(x, { p: 0, rng: new Rng(0) }).data)).toEqual(Array.from(x.data));
    expect(() => randomErasing(x, { scale: [0.5, 0.2], rng: new Rng(0) })).toThrow(OptionError);
  });
});

describe('parseAugmentation', () => {
  const x = images(4, 28, 28, 6);
  const same = (a: Tensor, b: Tensor) => expect(Array.from(a.data)).toEqual(Array.from(b.data));

  it('names the same transforms as the functions, with their documented defaults', () => {
    same(parseAugmentation('shift:2')!(x, new Rng(1)), randomShift(x, { maxShift: 2, rng: new Rng(1) }));
    same(parseAugmentation('crop')!(x, new Rng(1)), randomResizedCrop(x, { scale: [0.6, 1], rng: new Rng(1) }));
    same(parseAugmentation('crop:0.3')!(x, new Rng(1)), randomResizedCrop(x, { scale: [0.3, 1], rng: new Rng(1) }));
    same(parseAugmentation('affine')!(x, new Rng(1)), randomAffine(x, { rng: new Rng(1) }));
    same(parseAugmentation('affine:15,1')!(x, new Rng(1)), randomAffine(x, { degrees: 15, translate: 1, rng: new Rng(1) }));
    same(parseAugmentation('erase:0.7')!(x, new Rng(1)), randomErasing(x, { p: 0.7, rng: new Rng(1) }));
    expect(parseAugmentation('none')).toBeUndefined();
  });

  it('applies the parts of a joined spec left to right from one generator', () => {
    const rng = new Rng(2);
    const manual = colorJitter(randomHorizontalFlip(randomResizedCrop(x, { scale: [0.5, 1], rng }), { rng }), { brightness: 0.2, contrast: 0.1, rng });
    same(parseAugmentation('crop:0.5+flip+jitter:0.2,0.1')!(x, new Rng(2)), manual);
  });

  it('refuses unknown parts and out-of-range values, naming them', () => {
    expect(() => parseAugmentation('rotate')).toThrow(/unknown part 'rotate' in 'rotate'/);
    expect(() => parseAugmentation('flip+')).toThrow(/unknown part ''/);
    expect(() => parseAugmentation('crop:1.5')).toThrow(OptionError);
    expect(() => parseAugmentation('none+flip')).toThrow(/'none' cannot be combined/);
    expect(() => parseAugmentation('jitter:2,0')).toThrow(OptionError);
    expect(() => parseAugmentation('erase:3')).toThrow(OptionError);
  });
});
