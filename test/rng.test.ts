import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OptionError } from '../src/errors';
import { Rng } from '../src/rng';

/**
 * xoshiro128** written independently with BigInt arithmetic, started from the same state,
 * as the reference for the generator's output stream.
 */
function referenceStream(s: readonly number[], n: number): number[] {
  const M = (1n << 32n) - 1n;
  const st = s.map((w) => BigInt(w >>> 0));
  const rotl = (x: bigint, k: bigint) => ((x << k) | (x >> (32n - k))) & M;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    out.push(Number((rotl((st[1] * 5n) & M, 7n) * 9n) & M));
    const t = (st[1] << 9n) & M;
    st[2] ^= st[0];
    st[3] ^= st[1];
    st[1] ^= st[2];
    st[0] ^= st[3];
    st[2] ^= t;
    st[3] = rotl(st[3], 11n);
  }
  return out;
}

describe('Rng', () => {
  it('matches an independent xoshiro128** reference from any state', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const rng = new Rng(seed);
        const expected = referenceStream(rng.state().s, 50);
        const got = Array.from({ length: 50 }, () => rng.nextU32());
        expect(got).toEqual(expected);
      }),
      { numRuns: 50 },
    );
  });

  it('pins the first outputs of seed 42', () => {
    const rng = new Rng(42);
    const first = [rng.nextU32(), rng.nextU32(), rng.nextU32(), rng.nextU32()];
    // Literal values: a change of seeding or algorithm changes every seeded result downstream.
    expect(first).toEqual([3972149795, 1176804300, 485801879, 1287793658]);
  });

  it('gives the same stream for the same seed and different streams for different seeds', () => {
    const a = new Rng(123);
    const b = new Rng(123);
    const c = new Rng(124);
    const sa = Array.from({ length: 8 }, () => a.nextU32());
    expect(Array.from({ length: 8 }, () => b.nextU32())).toEqual(sa);
    expect(Array.from({ length: 8 }, () => c.nextU32())).not.toEqual(sa);
  });

  it('has the moments of U(0,1) and N(0,1)', () => {
    const rng = new Rng(1);
    const n = 200_000;
    let su = 0;
    let su2 = 0;
    let sn = 0;
    let sn2 = 0;
    let sn4 = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      if (!(u >= 0 && u < 1)) outside++;
      su += u;
      su2 += u * u;
      const z = rng.normal();
      sn += z;
      sn2 += z * z;
      sn4 += z ** 4;
    }
    expect(outside).toBe(0);
    // Five standard errors: U mean 1/2 (se √(1/12n)), E[U²] = 1/3; N mean 0, var 1, kurtosis 3.
    expect(Math.abs(su / n - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(su2 / n - 1 / 3)).toBeLessThan(5 * Math.sqrt(4 / 45 / n));
    expect(Math.abs(sn / n)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(sn2 / n - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    expect(Math.abs(sn4 / n - 3)).toBeLessThan(5 * Math.sqrt(96 / n));
  });

  it('bernoulli(p) has rate p', () => {
    const rng = new Rng(5);
    for (const p of [0, 0.13, 0.5, 1]) {
      let k = 0;
      const n = 50_000;
      for (let i = 0; i < n; i++) if (rng.bernoulli(p)) k++;
      expect(Math.abs(k / n - p)).toBeLessThanOrEqual(5 * Math.sqrt((p * (1 - p)) / n));
    }
  });

  it('int(lo, hi) is uniform over its range (chi-square) and stays inside it', () => {
    const rng = new Rng(9);
    const k = 7;
    const n = 70_000;
    const counts = new Array(k).fill(0);
    for (let i = 0; i < n; i++) counts[rng.int(-3, 4) + 3]++;
    expect(counts.length).toBe(k); // nothing landed above the range
    expect(counts.reduce((a, b) => a + b, 0)).toBe(n); // nor below it
    const e = n / k;
    const chi2 = counts.reduce((s, c) => s + (c - e) ** 2 / e, 0);
    expect(chi2).toBeLessThan(22.46); // 99.9th percentile of χ² with 6 degrees of freedom
    expect(() => rng.int(3, 3)).toThrow(OptionError);
  });

  it('permutation holds every index once; shuffle positions are uniform', () => {
    const rng = new Rng(3);
    const p = rng.permutation(1000);
    expect([...p].sort((a, b) => a - b)).toEqual([...Array(1000).keys()]);
    const firstCounts = new Array(4).fill(0);
    for (let i = 0; i < 40_000; i++) firstCounts[rng.permutation(4)[0]]++;
    for (const c of firstCounts) expect(Math.abs(c - 10_000)).toBeLessThan(5 * Math.sqrt(40_000 * 0.25 * 0.75));
  });

  it('fork gives a stream uncorrelated with its parent', () => {
    const parent = new Rng(11);
    const child = parent.fork();
    const n = 100_000;
    let sxy = 0;
    for (let i = 0; i < n; i++) sxy += (parent.uniform() - 0.5) * (child.uniform() - 0.5);
    // Correlation of independent uniforms: mean of products ~ N(0, (1/12)²/n).
    expect(Math.abs(sxy / n)).toBeLessThan((5 * (1 / 12)) / Math.sqrt(n));
  });

  it('state round-trips, including a cached normal', () => {
    const rng = new Rng(77);
    rng.normal();
    const snap = JSON.parse(JSON.stringify(rng.state()));
    const a = [rng.normal(), rng.uniform(), rng.nextU32()];
    const restored = Rng.fromState(snap);
    expect([restored.normal(), restored.uniform(), restored.nextU32()]).toEqual(a);
  });

  it('rejects bad seeds and states', () => {
    expect(() => new Rng(1.5)).toThrow(OptionError);
    expect(() => new Rng(Number.NaN)).toThrow(OptionError);
    expect(() => Rng.fromState({ algorithm: 'xoshiro128**', s: [0, 0, 0, 0], spareNormal: null })).toThrow(OptionError);
  });
});
