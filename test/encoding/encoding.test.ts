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

  /** The documented draw rule written out: p = clamp(gain·x + offset, 0, 1), S = [u32 < p·2³²], no draw when p is 0 or 1. */
  function drawStep(ps: readonly number[], gain: number, offset: number, r: Rng): number[] {
    return ps.map((v) => {
      const p = Math.min(1, Math.max(0, gain * Math.fround(v) + offset));
      return p === 0 ? 0 : p === 1 ? 1 : r.nextU32() < p * 2 ** 32 ? 1 : 0;
    });
  }

  it('gain and offset: p = clamp(gain·x + offset, 0, 1), drawn as the rule says (snnTorch\'s rate)', () => {
    const ps = [0, 0.25, 1, 0.5, 0.9, 0.75];
    const s = poisson(tensor(ps, [6]), { steps: 4, rng: new Rng(3), gain: 0.5, offset: 0.3 });
    const r = new Rng(3);
    const want = [0, 1, 2, 3].flatMap(() => drawStep(ps, 0.5, 0.3, r));
    expect([...s.data]).toEqual(want);
    // A negative offset silences the weak inputs: p = 0.25·2 − 0.6 < 0.
    const quiet = poisson(tensor([0.25], [1]), { steps: 20, rng: new Rng(0), gain: 2, offset: -0.6 });
    expect(quiet.data.every((v) => v === 0)).toBe(true);
    expect(() => poisson(tensor([0.5]), { steps: 1, rng: new Rng(0), offset: Number.NaN })).toThrow(/offset must be a finite number/);
  });

  it('firstSpikeTime: silent steps first, drawing nothing; must be below steps', () => {
    const ps = [0.5, 0.2, 1];
    const s = poisson(tensor(ps, [3]), { steps: 5, rng: new Rng(9), firstSpikeTime: 2 });
    const r = new Rng(9);
    const want = [...[0, 0, 0], ...[0, 0, 0], ...[2, 3, 4].flatMap(() => drawStep(ps, 1, 0, r))];
    expect([...s.data]).toEqual(want);
    expect(() => poisson(tensor(ps, [3]), { steps: 5, rng: new Rng(0), firstSpikeTime: 5 })).toThrow(/firstSpikeTime must be below steps \(5\), got 5/);
    expect(() => poisson(tensor(ps, [3]), { steps: 5, rng: new Rng(0), firstSpikeTime: 1.5 })).toThrow(OptionError);
  });

  it('time-varying input: step t uses x[t], after firstSpikeTime prepended silent steps', () => {
    const frames = [[0.1, 0.9], [1, 0], [0.5, 0.5]];
    const s = poisson(tensor(frames.flat(), [3, 1, 2]), { rng: new Rng(5), timeVarying: true, firstSpikeTime: 1 });
    expect(s.shape).toEqual([4, 1, 2]);
    expect(s.binary).toBe(true);
    const r = new Rng(5);
    expect([...s.data]).toEqual([0, 0, ...frames.flatMap((f) => drawStep(f, 1, 0, r))]);
    expect(() => poisson(tensor(frames.flat(), [3, 2]), { steps: 4, rng: new Rng(0), timeVarying: true })).toThrow(/steps 4 disagrees with the time-varying input's 3 steps/);
    expect(() => poisson(tensor([1.5, 0], [2, 1]), { rng: new Rng(0), timeVarying: true })).toThrow(/1.5 at flat index 0/);
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
