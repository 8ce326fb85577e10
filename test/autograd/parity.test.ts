import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng, ShapeError, Tensor, backward, maxWithIndices, randn, slice, sum, tensor } from '../../src/index';
import { gradcheck } from '../helpers/gradcheck';

/** a[s0:e0:k0, s1:e1:k1, s2:e2:k2] of a [D0, D1, D2] tensor, by the definition: indices s, s + k, … below e. */
function sliceRef(a: Tensor, r: Array<[number, number, number]>): { values: number[]; shape: number[] } {
  const [D0, D1, D2] = a.shape;
  const pick = (s: number, e: number, k: number) => {
    const out: number[] = [];
    for (let i = s; i < e; i += k) out.push(i);
    return out;
  };
  const [i0, i1, i2] = r.map(([s, e, k]) => pick(s, e, k));
  const values: number[] = [];
  for (const x of i0) for (const y of i1) for (const z of i2) values.push(a.data[(x * D1 + y) * D2 + z]);
  void D0;
  return { values, shape: [i0.length, i1.length, i2.length] };
}

describe('slice with a step', () => {
  it('selects s, s + step, … below e on every axis, as a[s:e:step]', () => {
    const dims = fc.integer({ min: 1, max: 7 });
    fc.assert(
      fc.property(dims, dims, dims, fc.integer(), (D0, D1, D2, seed) => {
        const rng = new Rng(seed);
        const a = randn([D0, D1, D2], rng);
        const r = [D0, D1, D2].map((D) => {
          const s = rng.int(0, D);
          const e = rng.int(s, D + 1);
          return [s, e, rng.int(1, 4)] as [number, number, number];
        });
        const want = sliceRef(a, r);
        const got = slice(a, r);
        expect(got.shape).toEqual(want.shape);
        expect([...got.data]).toEqual(want.values);
      }),
      { numRuns: 60 },
    );
    // Negative start and end count from the end, as in PyTorch: x[-5:-1:2] of 0..7 is [3, 5].
    expect([...slice(tensor([0, 1, 2, 3, 4, 5, 6, 7]), [[-5, -1, 2]]).data]).toEqual([3, 5]);
    expect(() => slice(tensor([1, 2, 3]), [[0, 3, 0]])).toThrow(ShapeError);
    expect(() => slice(tensor([1, 2, 3]), [[0, 3, 1.5]])).toThrow(/step 1.5 on axis 0 must be an integer ≥ 1/);
  });

  it('sends the gradient back to the selected elements only (and matches finite differences)', () => {
    const a = tensor([[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [11, 12, 13, 14, 15]]);
    a.requiresGrad = true;
    backward(sum(slice(a, [[0, 3, 2], [1, 5, 3]])));
    // Rows 0 and 2, columns 1 and 4.
    expect([...a.grad!.data]).toEqual([0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1]);
    const r = gradcheck((x) => slice(x, [null, [1, 6, 2], [0, 4, 3]]), [randn([2, 6, 4], new Rng(1))]);
    expect(r.ok, r.detail).toBe(true);
  });
});

describe('maxWithIndices', () => {
  it('returns the maxima and, per output, the position of the first maximum in its block', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), fc.integer(), (A, B, C, seed) => {
        const rng = new Rng(seed);
        // Few distinct values, so ties are common: the first one must win.
        const a = new Tensor(Float32Array.from({ length: A * B * C }, () => rng.int(0, 3)), [A, B, C]);
        const { values, indices } = maxWithIndices(a, 1);
        expect(values.shape).toEqual([A, C]);
        for (let i = 0; i < A; i++) {
          for (let k = 0; k < C; k++) {
            let best = -Infinity;
            let at = -1;
            for (let j = 0; j < B; j++) {
              const v = a.data[(i * B + j) * C + k];
              if (v > best) [best, at] = [v, j];
            }
            expect(values.data[i * C + k]).toBe(best);
            expect(indices[i * C + k]).toBe(at);
          }
        }
        // Over axes [1, 2] the index is flat over the block [B, C], row-major.
        const both = maxWithIndices(a, [1, 2]);
        for (let i = 0; i < A; i++) {
          const block = Array.from(a.data.subarray(i * B * C, (i + 1) * B * C));
          expect(both.indices[i]).toBe(block.indexOf(Math.max(...block)));
        }
      }),
      { numRuns: 40 },
    );
  });

  it('is differentiable: the gradient reaches the element each index names', () => {
    const a = tensor([[1, 5, 2], [7, 0, 7]]);
    a.requiresGrad = true;
    const { values, indices } = maxWithIndices(a, 1, true);
    expect(values.shape).toEqual([2, 1]);
    expect([...indices]).toEqual([1, 0]);
    backward(sum(values));
    expect([...a.grad!.data]).toEqual([0, 1, 0, 1, 0, 0]);
  });
});
