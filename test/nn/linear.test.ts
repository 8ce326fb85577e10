/** linear / Linear: the fused node against the composed form, finite differences, time folding and PyTorch's init. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Linear, OptionError, Rng, ShapeError, Tensor, add, backward, linear, matmul, noGrad, reshape } from '../../src/index';
import { gradcheck } from '../helpers/gradcheck';
import { firstMismatch, randomTensor } from '../helpers/reference';

const leaf = (t: Tensor): Tensor => new Tensor(t.data.slice(), t.shape, { requiresGrad: true });

/** Runs f on fresh leaves, back-propagates a fixed upstream gradient, returns output and input gradients. */
function runWithGrads(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], seed: number): { out: Float32Array; grads: Float32Array[] } {
  const leaves = inputs.map(leaf);
  const out = f(...leaves);
  backward(out, randomTensor(out.shape, seed));
  return { out: out.data, grads: leaves.map((l) => l.grad?.data ?? new Float32Array(l.size)) };
}

describe('linear (fused node)', () => {
  it('matches add(matmul(x, w, {transB}), b) forward and backward for inputs of rank 1 to 4', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 3 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.boolean(),
        fc.integer(),
        (lead, inF, outF, withBias, seed) => {
          const x = randomTensor([...lead, inF], seed);
          const w = randomTensor([outF, inF], seed + 1);
          const b = randomTensor([outF], seed + 2);
          const fused = runWithGrads((x, w, b) => linear(x, w, withBias ? b : null), [x, w, b], seed + 3);
          // The composed reference: fold the leading axes with reshape, 2-D matmul, unfold.
          const rows = lead.reduce((a, d) => a * d, 1);
          const ref = runWithGrads(
            (x, w, b) => {
              const y = matmul(reshape(x, [rows, inF]), w, { transB: true });
              return reshape(withBias ? add(y, b) : y, [...lead, outF]);
            },
            [x, w, b],
            seed + 3,
          );
          expect(firstMismatch(fused.out, ref.out)).toBe(-1);
          for (let k = 0; k < 3; k++) expect(firstMismatch(fused.grads[k], ref.grads[k], 1e-5, 1e-5)).toBe(-1);
        },
      ),
      { numRuns: 40, seed: 1 },
    );
  });

  it('gives the output shape [..., out] and folds every leading axis into one product', () => {
    const w = randomTensor([3, 5], 1);
    const b = randomTensor([3], 2);
    const x = randomTensor([2, 4, 5], 3); // [T, B, in]
    const y = linear(x, w, b);
    expect(y.shape).toEqual([2, 4, 3]);
    // Each time step equals a separate product x_t·wᵀ + b computed by hand.
    for (let t = 0; t < 2; t++) {
      for (let r = 0; r < 4; r++) {
        for (let o = 0; o < 3; o++) {
          let s = b.data[o];
          for (let k = 0; k < 5; k++) s += x.data[(t * 4 + r) * 5 + k] * w.data[o * 5 + k];
          expect(y.data[(t * 4 + r) * 3 + o]).toBeCloseTo(s, 5);
        }
      }
    }
    expect(linear(randomTensor([5], 4), w).shape).toEqual([3]);
    expect(linear(new Tensor(new Float32Array(0), [0, 5]), w, b).shape).toEqual([0, 3]);
  });

  it('passes finite differences for x, W and b (rank 3 input)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer(), (t, n, inF, outF, seed) => {
        const r = gradcheck((x, w, b) => linear(x, w, b), [randomTensor([t, n, inF], seed), randomTensor([outF, inF], seed + 1), randomTensor([outF], seed + 2)]);
        expect(r.ok, r.detail).toBe(true);
      }),
      { numRuns: 20, seed: 1 },
    );
  });

  it('the event-driven path for binary (spike) input equals the dense path, forward and backward, at every density', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 9 }),
        fc.constantFrom(0, 0.05, 0.13, 0.25, 0.4, 1),
        fc.boolean(),
        fc.integer(),
        (t, n, inF, outF, density, extremes, seed) => {
          const rng = new Rng(seed);
          const data = Float32Array.from({ length: t * n * inF }, () => (rng.uniform() < density ? 1 : 0));
          if (extremes && t * n >= 2) {
            data.fill(0, 0, inF); // an all-zero row
            data.fill(1, inF, 2 * inF); // an all-one row
          }
          const w = randomTensor([outF, inF], seed + 1);
          const b = randomTensor([outF], seed + 2);
          const g = randomTensor([t, n, outF], seed + 3);
          const run = (binary: boolean) => {
            const x = new Tensor(data.slice(), [t, n, inF], { binary, requiresGrad: true });
            const wl = new Tensor(w.data.slice(), w.shape, { requiresGrad: true });
            const bl = new Tensor(b.data.slice(), b.shape, { requiresGrad: true });
            const y = linear(x, wl, bl);
            y.backward(g);
            return [y.data, x.grad?.data ?? new Float32Array(0), wl.grad!.data, bl.grad!.data];
          };
          const event = run(true);
          const dense = run(false);
          event.forEach((a, k) => expect(firstMismatch(a, dense[k], 1e-5, 1e-5), `output ${k}`).toBe(-1));
        },
      ),
      { numRuns: 120 },
    );
  });

  it('spikes that repeat at every step (a Poisson encoding of bright pixels) give the dense result, forward and backward', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 8 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 16, max: 60 }), fc.integer({ min: 1, max: 9 }), fc.boolean(), fc.integer(), (t, n, inF, outF, withBias, seed) => {
        const rng = new Rng(seed);
        // Per (sample, input): fire at every step (p = 1), at random (p = 0.5) or never; density ≈ 0.25.
        const p = Array.from({ length: n * inF }, () => { const u = rng.uniform(); return u < 0.2 ? 1 : u < 0.3 ? 0.5 : 0; });
        const data = Float32Array.from({ length: t * n * inF }, (_, i) => +(rng.uniform() < p[i % (n * inF)]));
        const w = randomTensor([outF, inF], seed + 1);
        const b = randomTensor([outF], seed + 2);
        const g = randomTensor([t, n, outF], seed + 3);
        const run = (binary: boolean) => {
          const x = new Tensor(data.slice(), [t, n, inF], { binary });
          const wl = new Tensor(w.data.slice(), w.shape, { requiresGrad: true });
          const bl = withBias ? new Tensor(b.data.slice(), b.shape, { requiresGrad: true }) : null;
          const y = linear(x, wl, bl);
          y.backward(g);
          return [y.data, wl.grad!.data, bl?.grad!.data ?? new Float32Array(0)];
        };
        const event = run(true);
        const dense = run(false);
        event.forEach((a, k) => expect(firstMismatch(a, dense[k], 1e-5, 1e-5), `output ${k}`).toBe(-1));
      }),
      { numRuns: 80 },
    );
  });

  it('refuses a tensor marked binary that holds other values', () => {
    const x = new Tensor(Float32Array.of(0, 1, 0.5), [1, 3], { binary: true });
    expect(() => linear(x, randomTensor([2, 3], 1))).toThrow(/marked binary holds 0.5/);
  });

  it('rejects mismatched shapes with a ShapeError naming them', () => {
    const w = randomTensor([3, 5], 1);
    expect(() => linear(randomTensor([2, 4], 2), w)).toThrow(ShapeError);
    expect(() => linear(randomTensor([2, 4], 2), w)).toThrow(/\[2, 4\]/);
    expect(() => linear(randomTensor([2, 5], 2), w, randomTensor([4], 3))).toThrow(ShapeError);
    expect(() => linear(randomTensor([2, 5], 2), randomTensor([15], 3))).toThrow(ShapeError);
  });
});

describe('Linear', () => {
  it('has weight [out, in] and bias [out] drawn from U(±1/√in), weight first, as PyTorch', () => {
    const rng = new Rng(11);
    const fcl = new Linear(784, 64, { rng });
    expect(fcl.weight.shape).toEqual([64, 784]);
    expect(fcl.bias!.shape).toEqual([64]);
    const bound = 1 / Math.sqrt(784);
    // The same generator replayed by hand: weight row-major, then bias.
    const replay = new Rng(11);
    const expectedW = Float32Array.from({ length: fcl.weight.size }, () => -bound + 2 * bound * replay.uniform());
    const expectedB = Float32Array.from({ length: 64 }, () => -bound + 2 * bound * replay.uniform());
    expect(firstMismatch(fcl.weight.data, expectedW, 0, 0)).toBe(-1);
    expect(firstMismatch(fcl.bias!.data, expectedB, 0, 0)).toBe(-1);
    // Distribution: inside the bound, reaching near it, mean 0 and variance bound²/3 of a uniform.
    const w = fcl.weight.data;
    let mean = 0;
    let max = 0;
    for (const v of w) {
      mean += v / w.length;
      max = Math.max(max, Math.abs(v));
    }
    let variance = 0;
    for (const v of w) variance += (v - mean) ** 2 / w.length;
    expect(max).toBeLessThanOrEqual(bound);
    expect(max).toBeGreaterThan(0.99 * bound);
    expect(Math.abs(mean)).toBeLessThan(0.01 * bound);
    expect(variance / (bound * bound / 3)).toBeCloseTo(1, 1);
  });

  it('computes x·Wᵀ + b, keeps [T, B] leading axes, and can drop the bias', () => {
    const l = new Linear(3, 2, { rng: new Rng(0) });
    const x = randomTensor([4, 5, 3], 9);
    const y = l.forward(x);
    expect(y.shape).toEqual([4, 5, 2]);
    const ref = noGrad(() => add(matmul(new Tensor(x.data, [20, 3]), l.weight, { transB: true }), l.bias!));
    expect(firstMismatch(y.data, ref.data)).toBe(-1);
    const nb = new Linear(3, 2, { bias: false, rng: new Rng(0) });
    expect(nb.bias).toBeNull();
    expect(nb.namedParameters().map(([n]) => n)).toEqual(['weight']);
  });

  it('rejects bad sizes', () => {
    expect(() => new Linear(-1, 2, { rng: new Rng(0) })).toThrow(OptionError);
    expect(() => new Linear(2.5, 2, { rng: new Rng(0) })).toThrow(OptionError);
  });
});
