import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batchCount, batches, makeDataset, subset } from '../../src/data/dataset';
import { OptionError, ShapeError } from '../../src/errors';
import { Rng } from '../../src/rng';

/** A dataset whose sample i has features [i, i + 0.5] (as [1, 2]) and label i % 3, so every batch row is traceable. */
function traceable(n: number) {
  const images = new Float32Array(2 * n);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    images[2 * i] = i;
    images[2 * i + 1] = i + 0.5;
    labels[i] = i % 3;
  }
  return makeDataset(images, labels, [1, 2]);
}

describe('makeDataset and subset', () => {
  it('checks sizes and labels', () => {
    const ds = makeDataset(new Float32Array(12), Int32Array.of(0, 1, 2), [2, 2]);
    expect([ds.n, ds.dim, ds.sampleShape]).toEqual([3, 4, [2, 2]]);
    expect(() => makeDataset(new Float32Array(11), Int32Array.of(0, 1, 2), [2, 2])).toThrow(ShapeError);
    expect(() => makeDataset(new Float32Array(4), Int32Array.of(-1), [4])).toThrow(/labels must be non-negative, label 0 is -1/);
  });

  it('takes the first n samples, or the samples at given indices', () => {
    const ds = traceable(5);
    const first = subset(ds, 2);
    expect(Array.from(first.images)).toEqual([0, 0.5, 1, 1.5]);
    expect(Array.from(first.labels)).toEqual([0, 1]);
    const picked = subset(ds, [4, 1, 4]);
    expect(picked.n).toBe(3);
    expect(Array.from(picked.images)).toEqual([4, 4.5, 1, 1.5, 4, 4.5]);
    expect(Array.from(picked.labels)).toEqual([1, 1, 1]);
    expect(picked.sampleShape).toEqual([1, 2]);
    // A copy: writing into the subset leaves the original alone.
    picked.images[0] = -1;
    expect(ds.images[8]).toBe(4);
    expect(subset(ds, 0).n).toBe(0);
    expect(() => subset(ds, 6)).toThrow(OptionError);
    expect(() => subset(ds, [0, 5])).toThrow(/index 5 \(position 1\) is outside \[0, 5\)/);
    expect(() => subset(ds, [1.5])).toThrow(OptionError);
  });
});

describe('batches', () => {
  const cases = fc.record({ n: fc.integer({ min: 0, max: 40 }), batchSize: fc.integer({ min: 1, max: 12 }), dropLast: fc.boolean(), shuffle: fc.boolean(), seed: fc.integer() });

  it('visits every sample once per epoch; dropLast drops only the short tail', () => {
    fc.assert(
      fc.property(cases, ({ n, batchSize, dropLast, shuffle, seed }) => {
        const ds = traceable(n);
        const seen: number[] = [];
        const sizes: number[] = [];
        for (const { x, y, indices } of batches(ds, { batchSize, dropLast, shuffle, rng: new Rng(seed) })) {
          const b = indices.length;
          sizes.push(b);
          expect(x.shape).toEqual([b, 2]);
          expect(y.length).toBe(b);
          for (let k = 0; k < b; k++) {
            const i = indices[k];
            // The row and label are those of sample i.
            expect([x.data[2 * k], x.data[2 * k + 1], y[k]]).toEqual([i, i + 0.5, i % 3]);
            seen.push(i);
          }
        }
        const full = Math.floor(n / batchSize);
        const tail = n % batchSize;
        expect(sizes).toEqual([...Array<number>(full).fill(batchSize), ...(tail > 0 && !dropLast ? [tail] : [])]);
        expect(sizes.length).toBe(batchCount(n, { batchSize, dropLast }));
        const expectedCount = dropLast ? full * batchSize : n;
        expect(seen.length).toBe(expectedCount);
        expect(new Set(seen).size).toBe(expectedCount); // no sample twice
        if (!shuffle) expect(seen).toEqual(Array.from({ length: expectedCount }, (_, i) => i));
      }),
    );
  });

  it('shuffles with a permutation drawn from the rng: same seed, same order; next epoch, new order', () => {
    const ds = traceable(50);
    const order = (rng: Rng) => [...batches(ds, { batchSize: 8, rng })].flatMap((b) => Array.from(b.indices));
    const a = new Rng(7);
    const b = new Rng(7);
    const epoch1 = order(a);
    expect(order(b)).toEqual(epoch1);
    // The order is the rng's permutation of 0..n−1 (drawn by a generator in the same state).
    expect(epoch1).toEqual(Array.from(new Rng(7).permutation(50)));
    const epoch2 = order(a);
    expect(epoch2).not.toEqual(epoch1);
    expect(order(b)).toEqual(epoch2);
    expect(order(new Rng(8))).not.toEqual(epoch1);
  });

  it('gives fresh arrays in every batch', () => {
    const ds = traceable(6);
    const all = [...batches(ds, { batchSize: 3, shuffle: false })];
    expect(all[0].x.data.buffer).not.toBe(all[1].x.data.buffer);
    expect(all[0].x.data.buffer).not.toBe(ds.images.buffer);
    all[0].x.data[0] = 99;
    expect(ds.images[0]).toBe(0);
  });

  it('checks its options when called', () => {
    const ds = traceable(4);
    expect(() => batches(ds, { batchSize: 2 })).toThrow(/shuffle needs an rng/);
    expect(() => batches(ds, { batchSize: 0, shuffle: false })).toThrow(/batchSize must be a positive integer, got 0/);
    expect(() => batches(ds, { batchSize: 1.5, shuffle: false })).toThrow(OptionError);
  });
});
