import { describe, expect, it } from 'vitest';
import { OptionError, ShapeError } from '../../src/errors';
import { Rng } from '../../src/rng';
import { randomAffine, randomResizedCrop, randomShift } from '../../src/ssl/augment';
import { Tensor } from '../../src/tensor/tensor';

function images(b: number, h: number, w: number, seed: number): Tensor {
  const rng = new Rng(seed);
  return new Tensor(Float32Array.from({ length: b * h * w }, () => rng.uniform()), [b, h * w]);
}

describe('augmentations', () => {
  it('randomShift moves each image by the integers drawn from the rng, filling with 0', () => {
    const x = images(3, 5, 6, 1);
    const out = randomShift(x, { maxShift: 2, rng: new Rng(9), height: 5, width: 6 });
    const r = new Rng(9);
    for (let i = 0; i < 3; i++) {
      const dy = r.int(-2, 3);
      const dx = r.int(-2, 3);
      for (let y = 0; y < 5; y++)
        for (let c = 0; c < 6; c++) {
          const sy = y - dy;
          const sx = c - dx;
          const want = sy >= 0 && sy < 5 && sx >= 0 && sx < 6 ? x.data[i * 30 + sy * 6 + sx] : 0;
          expect(out.data[i * 30 + y * 6 + c]).toBe(want);
        }
    }
  });

  it('the identity settings of crop and affine give the image back', () => {
    const x = images(2, 8, 8, 2);
    const crop = randomResizedCrop(x, { scale: [1, 1], ratio: [1, 1], rng: new Rng(0), height: 8, width: 8 });
    crop.data.forEach((v, i) => expect(v).toBeCloseTo(x.data[i], 5));
    const aff = randomAffine(x, { degrees: 0, scale: [1, 1], translate: 0, rng: new Rng(0), height: 8, width: 8 });
    aff.data.forEach((v, i) => expect(v).toBeCloseTo(x.data[i], 5));
  });

  it('a rotation keeps a pixel at its distance from the centre', () => {
    // Rotation about the centre (no scale, no shift) moves a bright pixel along a circle.
    const h = 9;
    const x = new Tensor(new Float32Array(h * h), [1, h * h]);
    x.data[4 * h + 7] = 1; // 3 px right of the centre (4, 4)
    const out = randomAffine(x, { degrees: 180, scale: [1, 1], translate: 0, rng: new Rng(5), height: h, width: h });
    let mx = 0;
    let my = 0;
    let mass = 0;
    out.data.forEach((v, i) => {
      mass += v;
      my += v * Math.floor(i / h);
      mx += v * (i % h);
    });
    expect(mass).toBeGreaterThan(0.5);
    expect(Math.hypot(my / mass - 4, mx / mass - 4)).toBeCloseTo(3, 0);
  });

  it('rejects bad shapes and options', () => {
    expect(() => randomShift(new Tensor(new Float32Array(10), [2, 5]), { maxShift: 1, rng: new Rng(0) })).toThrow(ShapeError);
    expect(() => randomShift(images(1, 28, 28, 0), { maxShift: -1, rng: new Rng(0) })).toThrow(OptionError);
    expect(() => randomResizedCrop(images(1, 28, 28, 0), { scale: [0.5, 1.2], rng: new Rng(0) })).toThrow(/scale/);
  });
});
