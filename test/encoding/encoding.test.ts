import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { delta, latency, poisson } from '../../src/encoding';
import { OptionError } from '../../src/errors';
import { Rng } from '../../src/rng';
import { Tensor, tensor } from '../../src/tensor/tensor';

describe('poisson', () => {
  it('draws S = [u32 < p·2³²] step by step from the rng, nothing for p = 0 or 1', () => {
    const ps = [0, 0.25, 1, 0.5, 0, 0.75];
    const x = tensor(ps, [2, 3]);
    const g = new Rng(7);
    const s = poisson(x, { steps: 3, rng: g });
    expect(s.shape).toEqual([3, 2, 3]);
    expect(s.binary).toBe(true);
    // Independent reconstruction from the same stream.
    const r = new Rng(7);
    const expected: number[] = [];
    for (let t = 0; t < 3; t++) for (const p of ps) expected.push(p === 0 ? 0 : p === 1 ? 1 : r.nextU32() < p * 2 ** 32 ? 1 : 0);
    expect([...s.data]).toEqual(expected);
    expect(g.nextU32()).toBe(r.nextU32()); // the encoder drew exactly as many numbers as the reconstruction
  });

  it('fires at rate clamp(gain·x, 0, 1) within a statistical bound', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0.5, 1, 2), fc.integer(), (p, gain, seed) => {
        const n = 4000;
        const s = poisson(new Tensor(new Float32Array(n).fill(p), [n]), { steps: 2, rng: new Rng(seed), gain });
        const q = Math.min(1, gain * Math.fround(p));
        const rate = s.data.reduce((a, b) => a + b, 0) / (2 * n);
        expect(Math.abs(rate - q)).toBeLessThanOrEqual(5 * Math.sqrt((q * (1 - q)) / (2 * n)) + 1e-12);
      }),
      { numRuns: 30 },
    );
  });

  it('gives two independent encodings of one input (correlation ≈ 0)', () => {
    const n = 20000;
    const x = new Tensor(new Float32Array(n).fill(0.3), [n]);
    const rng = new Rng(1);
    const a = poisson(x, { steps: 1, rng }).data;
    const b = poisson(x, { steps: 1, rng }).data;
    let both = 0;
    for (let i = 0; i < n; i++) both += a[i] * b[i];
    // P(both) = 0.09 for independent views; se = √(0.09·0.91/n)
    expect(Math.abs(both / n - 0.09)).toBeLessThan(5 * Math.sqrt((0.09 * 0.91) / n));
  });

  it('rejects values outside [0, 1] unless clamp is set', () => {
    const x = tensor([0.5, 1.5, -0.2]);
    expect(() => poisson(x, { steps: 2, rng: new Rng(0) })).toThrow(/values must lie in \[0, 1\].*1.5 at flat index 1/);
    const s = poisson(x, { steps: 50, rng: new Rng(0), clamp: true });
    const col = (i: number) => Array.from({ length: 50 }, (_, t) => s.data[t * 3 + i]);
    expect(col(1).every((v) => v === 1)).toBe(true);
    expect(col(2).every((v) => v === 0)).toBe(true);
    expect(() => poisson(x, { steps: 0, rng: new Rng(0), clamp: true })).toThrow(OptionError);
    expect(() => poisson(tensor([Number.NaN]), { steps: 1, rng: new Rng(0) })).toThrow(OptionError);
  });
});

describe('latency', () => {
  it('spikes once at the documented time, never at or below threshold', () => {
    const x = tensor([1, 0.5, 0.2, 0.01, 0]);
    const lin = latency(x, { steps: 5, linear: true }); // τ = 4: t = round(4·(1 − x)) = 0, 2, 3, –, –
    const spikesAt = (s: Tensor, i: number) => Array.from({ length: 5 }, (_, t) => s.data[t * 5 + i]).indexOf(1);
    expect([0, 1, 2, 3, 4].map((i) => spikesAt(lin, i))).toEqual([0, 2, 3, -1, -1]);
    const rc = latency(x, { steps: 5, tau: 2 }); // t = round(2·ln(x/(x − 0.01)))
    const want = [1, 0.5, 0.2].map((v) => Math.round(2 * Math.log(Math.fround(v) / (Math.fround(v) - 0.01))));
    expect([0, 1, 2].map((i) => spikesAt(rc, i))).toEqual(want);
    expect(rc.data.reduce((a, b) => a + b, 0)).toBe(3);
  });
});

describe('delta', () => {
  it('spikes on changes of at least threshold, −1 on decreases with off', () => {
    const x = tensor([0.5, 0.55, 0.9, 0.2], [4, 1]);
    expect([...delta(x, { threshold: 0.1 }).data]).toEqual([1, 0, 1, 0]);
    expect([...delta(x, { threshold: 0.1, off: true }).data]).toEqual([1, 0, 1, -1]);
  });
});
