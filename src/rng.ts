/**
 * Seeded pseudo-random numbers: xoshiro128** (128 bits of state, period 2^128 − 1),
 * seeded through the splitmix32 mixer. Every random function in spikessl takes an
 * `Rng`, so the same seed gives the same bits on every run and machine.
 */
import { OptionError } from './errors';

/** A snapshot of an {@link Rng}, plain JSON-safe numbers. */
export interface RngState {
  readonly algorithm: 'xoshiro128**';
  /** The four 32-bit words of state, as unsigned integers. */
  readonly s: readonly [number, number, number, number];
  /** The second Box–Muller normal, cached between calls to `normal()`, or null. */
  readonly spareNormal: number | null;
}

const TWO_POW_32 = 4294967296;
const INV_TWO_POW_32 = 1 / TWO_POW_32;

/** One step of splitmix32 on `x`: a well-mixed 32-bit value (used only for seeding). */
function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z ^= z >>> 16;
  z = Math.imul(z, 0x21f0aaad);
  z ^= z >>> 15;
  z = Math.imul(z, 0x735a2d97);
  z ^= z >>> 15;
  return z >>> 0;
}

/**
 * A seeded generator.
 *
 * @example
 * ```ts
 * const rng = new Rng(42);
 * const u = rng.uniform();       // in [0, 1)
 * const z = rng.normal();        // standard normal
 * const perm = rng.permutation(10);
 * const child = rng.fork();      // an independent stream
 * ```
 */
export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private spare: number | null = null;

  /** @param seed a safe integer (negative allowed); the same seed gives the same stream. */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) {
      throw new OptionError(`Rng: seed must be a safe integer, got ${seed}`);
    }
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_POW_32) >>> 0;
    let x = splitmix32(lo ^ 0x5bd1e995);
    this.s0 = x;
    x = splitmix32(x ^ hi);
    this.s1 = x;
    x = splitmix32(x ^ lo);
    this.s2 = x;
    x = splitmix32(x ^ 0x27d4eb2f ^ hi);
    this.s3 = x;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Restores a generator from {@link Rng.state}. */
  static fromState(state: RngState): Rng {
    const r = new Rng(0);
    r.setState(state);
    return r;
  }

  /** The next raw 32-bit output, an unsigned integer in [0, 2^32). */
  nextU32(): number {
    const s0 = this.s0;
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    let s2 = this.s2 ^ s0;
    let s3 = this.s3 ^ s1;
    this.s1 = s1 ^ s2;
    this.s0 = s0 ^ s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    this.s2 = s2;
    this.s3 = s3;
    return result;
  }

  /** A uniform number in [0, 1) with 32 random bits. */
  uniform(): number {
    return this.nextU32() * INV_TWO_POW_32;
  }

  /** A uniform number in [lo, hi). */
  uniformRange(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** A standard normal number (Box–Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.spare !== null) {
      const z = this.spare;
      this.spare = null;
      return z;
    }
    // 1 − u lies in (0, 1], so the logarithm is finite.
    const u1 = 1 - this.uniform();
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** true with probability `p` (p ≤ 0 never, p ≥ 1 always). */
  bernoulli(p: number): boolean {
    return this.uniform() < p;
  }

  /** A uniform integer in [lo, hi), without modulo bias. `hi − lo` must be in [1, 2^32]. */
  int(lo: number, hi: number): number {
    const range = hi - lo;
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || range < 1 || range > TWO_POW_32) {
      throw new OptionError(`Rng.int: expected integers lo < hi with hi − lo ≤ 2^32, got [${lo}, ${hi})`);
    }
    // Rejection sampling: accept only values below the largest multiple of range.
    const limit = TWO_POW_32 - (TWO_POW_32 % range);
    let x = this.nextU32();
    while (x >= limit) x = this.nextU32();
    return lo + (x % range);
  }

  /** Shuffles `array` in place (Fisher–Yates) and returns it. */
  shuffle<A extends { length: number; [i: number]: unknown }>(array: A): A {
    for (let i = array.length - 1; i > 0; i--) {
      const j = this.int(0, i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }

  /** A uniformly random permutation of 0..n−1. */
  permutation(n: number): Int32Array {
    if (!Number.isSafeInteger(n) || n < 0) throw new OptionError(`Rng.permutation: n must be a non-negative integer, got ${n}`);
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /**
   * A new generator whose stream is independent of this one for all practical purposes:
   * its state is four outputs of this generator passed through splitmix32. Forking
   * advances this generator by four outputs.
   */
  fork(): Rng {
    const child = new Rng(0);
    child.s0 = splitmix32(this.nextU32());
    child.s1 = splitmix32(this.nextU32() ^ 0x68e31da4);
    child.s2 = splitmix32(this.nextU32() ^ 0xb5297a4d);
    child.s3 = splitmix32(this.nextU32() ^ 0x1b56c4e9);
    if ((child.s0 | child.s1 | child.s2 | child.s3) === 0) child.s0 = 1;
    return child;
  }

  /** A snapshot that {@link Rng.fromState} or {@link Rng.setState} restores exactly. */
  state(): RngState {
    return {
      algorithm: 'xoshiro128**',
      s: [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0],
      spareNormal: this.spare,
    };
  }

  /** Restores a snapshot taken by {@link Rng.state}. */
  setState(state: RngState): void {
    if (state.algorithm !== 'xoshiro128**' || !Array.isArray(state.s) || state.s.length !== 4) {
      throw new OptionError(`Rng.setState: expected an xoshiro128** state of four words, got ${JSON.stringify(state)}`);
    }
    for (const w of state.s) {
      if (!Number.isInteger(w) || w < 0 || w >= TWO_POW_32) throw new OptionError(`Rng.setState: state word ${w} is not a 32-bit unsigned integer`);
    }
    if ((state.s[0] | state.s[1] | state.s[2] | state.s[3]) === 0) throw new OptionError('Rng.setState: the all-zero state is not allowed');
    this.s0 = state.s[0] | 0;
    this.s1 = state.s[1] | 0;
    this.s2 = state.s[2] | 0;
    this.s3 = state.s[3] | 0;
    this.spare = state.spareNormal;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
