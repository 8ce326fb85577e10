/**
 * gemm and gemmNaive against an independent double-precision triple loop written here, on
 * random sizes 0..70 (tile and block edges included), all four transpose combinations, padded
 * row strides, offsets and accumulate on/off; plus fixed shapes crossing every block boundary.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../src/errors';
import { Rng } from '../../src/rng';
import { gemm, gemmChunks, gemmNaive, gemmOneThread } from '../../src/tensor/gemm';
import { setFlagsFromString } from 'node:v8';
import { useRelaxedSimd, useWasmKernels, wasmKernelKind } from '../../src/tensor/wasm';

type Gemm = typeof gemm;

interface Problem {
  transA: boolean;
  transB: boolean;
  M: number;
  N: number;
  K: number;
  A: Float32Array;
  aOff: number;
  lda: number;
  B: Float32Array;
  bOff: number;
  ldb: number;
  /** C before the call; every run starts from a copy. */
  C0: Float32Array;
  cOff: number;
  ldc: number;
  accumulate: boolean;
}

interface Layout {
  transA: boolean;
  transB: boolean;
  M: number;
  N: number;
  K: number;
  padA: number;
  padB: number;
  padC: number;
  aOff: number;
  bOff: number;
  cOff: number;
  accumulate: boolean;
}

/** Buffers for a layout, filled with uniform values in [-1, 1) and a spare tail after each matrix. */
function makeProblem(l: Layout, seed: number): Problem {
  const rng = new Rng(seed);
  const fill = (n: number) => Float32Array.from({ length: n }, () => rng.uniformRange(-1, 1));
  const [rowsA, colsA] = l.transA ? [l.K, l.M] : [l.M, l.K];
  const [rowsB, colsB] = l.transB ? [l.N, l.K] : [l.K, l.N];
  const lda = colsA + l.padA;
  const ldb = colsB + l.padB;
  const ldc = l.N + l.padC;
  return {
    ...l,
    A: fill(l.aOff + rowsA * lda + 3),
    lda,
    B: fill(l.bOff + rowsB * ldb + 3),
    ldb,
    C0: fill(l.cOff + l.M * ldc + 3),
    ldc,
  };
}

function run(f: Gemm, p: Problem): Float32Array {
  const C = p.C0.slice();
  f(p.transA, p.transB, p.M, p.N, p.K, p.A, p.aOff, p.lda, p.B, p.bOff, p.ldb, C, p.cOff, p.ldc, p.accumulate);
  return C;
}

/**
 * Expected C in float64, and per element the error scale Σ_k |op(A)_ik·op(B)_kj| (+ |C0| when
 * accumulating). Elements of C outside the M×N window keep their initial values.
 */
function reference(p: Problem): { want: Float64Array; scale: Float64Array } {
  const { M, N, K } = p;
  // op(A) as M×K and op(B)ᵀ as N×K, both dense, so the loop below is a plain dot product.
  const a = new Float64Array(M * K);
  const bt = new Float64Array(N * K);
  for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) a[i * K + k] = p.A[p.aOff + (p.transA ? k * p.lda + i : i * p.lda + k)];
  for (let j = 0; j < N; j++) for (let k = 0; k < K; k++) bt[j * K + k] = p.B[p.bOff + (p.transB ? j * p.ldb + k : k * p.ldb + j)];
  const want = Float64Array.from(p.C0);
  const scale = new Float64Array(p.C0.length);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      const c = p.cOff + i * p.ldc + j;
      let s = p.accumulate ? p.C0[c] : 0;
      let m = Math.abs(s);
      for (let k = 0; k < K; k++) {
        const t = a[i * K + k] * bt[j * K + k];
        s += t;
        m += Math.abs(t);
      }
      want[c] = s;
      scale[c] = m;
    }
  }
  return { want, scale };
}

/** Index of the first element off by more than 1e-5·√K times its scale (plus float32 rounding of the result), or −1. */
function firstMismatch(got: Float32Array, want: Float64Array, scale: Float64Array, K: number): number {
  const rel = 1e-5 * Math.sqrt(Math.max(K, 1));
  for (let i = 0; i < got.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= rel * scale[i] + 2 ** -24 * Math.abs(want[i]))) return i;
  }
  return -1;
}

function expectMatches(f: Gemm, p: Problem, ref = reference(p)): void {
  const A = p.A.slice();
  const B = p.B.slice();
  const got = run(f, p);
  const i = firstMismatch(got, ref.want, ref.scale, p.K);
  expect(i, i >= 0 ? `${f.name}: element ${i} is ${got[i]}, expected ${ref.want[i]} (scale ${ref.scale[i]})` : '').toBe(-1);
  expect(sameBits(p.A, A) && sameBits(p.B, B), `${f.name} modified its inputs`).toBe(true);
}

/**
 * C as the WebAssembly micro-kernel documents it, element by element and every operation
 * rounded to float32: per block of KC = 256 (gemm.ts) steps of the inner dimension, s = 0, then
 * s ← s + (a_k·b_k + a_{k+1}·b_{k+1}) over pairs of k (a block's odd last step pairs with zeros),
 * then C ← C + s (C starting at 0 without accumulate).
 */
function float32Order(p: Problem, step: PairStep = plainPair): Float32Array {
  const f = Math.fround;
  const KC = 256;
  const C = p.C0.slice();
  const a = (i: number, k: number) => p.A[p.aOff + (p.transA ? k * p.lda + i : i * p.lda + k)];
  const b = (k: number, j: number) => p.B[p.bOff + (p.transB ? j * p.ldb + k : k * p.ldb + j)];
  for (let i = 0; i < p.M; i++) {
    for (let j = 0; j < p.N; j++) {
      const at = p.cOff + i * p.ldc + j;
      let c = p.accumulate ? C[at] : 0;
      for (let k0 = 0; k0 < p.K; k0 += KC) {
        const end = Math.min(p.K, k0 + KC);
        let s = 0;
        for (let k = k0; k < end; k += 2) {
          // A block's odd last step pairs with the packed zeros.
          s = k + 1 < end ? step(s, a(i, k), b(k, j), a(i, k + 1), b(k + 1, j)) : step(s, a(i, k), b(k, j), 0, 0);
        }
        c = f(c + s);
      }
      C[at] = c;
    }
  }
  return C;
}

/** One pair of steps of the micro-kernel's running sum s, given a_k, b_k, a_{k+1}, b_{k+1}. */
type PairStep = (s: number, x: number, y: number, u: number, v: number) => number;

/** Plain SIMD: s + (x·y + u·v), each operation rounded to float32. */
const plainPair: PairStep = (s, x, y, u, v) => Math.fround(s + Math.fround(Math.fround(x * y) + Math.fround(u * v)));

/** Relaxed SIMD where the CPU fuses: u·v + (x·y + s), each multiply-add rounded once. */
const fusedPair: PairStep = (s, x, y, u, v) => fma32(u, v, fma32(x, y, s));

/** Relaxed SIMD where it does not: the same order, every operation rounded. */
const unfusedPair: PairStep = (s, x, y, u, v) => Math.fround(Math.fround(u * v) + Math.fround(Math.fround(x * y) + s));

/**
 * a·b + c rounded once to float32 (a, b, c float32 values). a·b is exact in float64 (48
 * significant bits); the sum's rounding to float64 and its error (TwoSum) then decide the one
 * case where rounding twice differs from rounding once: a float64 sum exactly halfway between two
 * float32 values, which the error pushes to one side.
 */
function fma32(a: number, b: number, c: number): number {
  const p = a * b;
  const t = p + c;
  const bv = t - p;
  const err = p - (t - bv) + (c - bv);
  const r = Math.fround(t);
  if (err === 0 || r === t) return r;
  const other = neighbour32(r, t > r ? 1 : -1);
  if ((r + other) / 2 !== t) return r;
  return err > 0 ? Math.max(r, other) : Math.min(r, other);
}

/** The float32 next to r (a float32 value) towards +∞ (dir 1) or −∞ (dir −1). */
function neighbour32(r: number, dir: 1 | -1): number {
  const f = new Float32Array([r]);
  const u = new Int32Array(f.buffer);
  if (r === 0) u[0] = dir > 0 ? 1 : -2147483647;
  else u[0] += (r > 0) === (dir > 0) ? 1 : -1;
  return f[0];
}

function sameBits(x: Float32Array, y: Float32Array): boolean {
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const v = new Uint32Array(y.buffer, y.byteOffset, y.length);
  return u.length === v.length && u.every((w, i) => w === v[i]);
}

const dim = fc.oneof(fc.constantFrom(0, 1, 2, 7, 8, 9, 16, 17), fc.integer({ min: 0, max: 70 }));
const layout: fc.Arbitrary<Layout> = fc.record({
  transA: fc.boolean(),
  transB: fc.boolean(),
  M: dim,
  N: dim,
  K: dim,
  padA: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5 })),
  padB: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5 })),
  padC: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5 })),
  aOff: fc.integer({ min: 0, max: 9 }),
  bOff: fc.integer({ min: 0, max: 9 }),
  cOff: fc.integer({ min: 0, max: 9 }),
  accumulate: fc.boolean(),
});

const noPad = { padA: 0, padB: 0, padC: 0, aOff: 0, bOff: 0, cOff: 0 };

describe('gemm', () => {
  it('gemm and gemmNaive match a float64 triple loop on random shapes, strides, offsets and transposes', () => {
    fc.assert(
      fc.property(layout, fc.integer(), (l, seed) => {
        const p = makeProblem(l, seed);
        const ref = reference(p);
        expectMatches(gemm, p, ref);
        expectMatches(gemmNaive, p, ref);
      }),
      { numRuns: 200 },
    );
  });

  it('crosses every block boundary (M > 2·MC, K > KC with an odd remainder, N > NC) in all transpose combinations', () => {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const p = makeProblem({ transA, transB, M: 300, N: 513, K: 257, ...noPad, padA: 3, cOff: 5, accumulate: transA }, 1);
        expectMatches(gemm, p);
      }
    }
    expectMatches(gemm, makeProblem({ transA: false, transB: true, M: 129, N: 9, K: 600, ...noPad, accumulate: true }, 2));
    expectMatches(gemm, makeProblem({ transA: true, transB: false, M: 1, N: 1030, K: 513, ...noPad, accumulate: false }, 3));
  });

  it('gemmChunks over 8-aligned row ranges in any order matches the reference and, bit for bit, one call over all rows', () => {
    // What a worker pool relies on: who computes which chunk, and when, does not change a bit.
    const chunked = (chunk: number, seed: number): Gemm => {
      const f: Gemm = (tA, tB, M, N, K, A, aOff, lda, B, bOff, ldb, C, cOff, ldc, acc) =>
        gemmChunks(tA, tB, M, N, K, A, aOff, lda, B, bOff, ldb, C, cOff, ldc, acc, (rows) => {
          const starts = Array.from({ length: Math.ceil(M / chunk) }, (_, k) => k * chunk);
          new Rng(seed).shuffle(starts);
          for (const r0 of starts) rows(r0, Math.min(M, r0 + chunk));
        });
      Object.defineProperty(f, 'name', { value: `gemmChunks(${chunk})` });
      return f;
    };
    fc.assert(
      fc.property(layout, fc.constantFrom(8, 16, 24, 136), fc.integer(), (l, chunk, seed) => {
        const p = makeProblem(l, seed);
        expectMatches(chunked(chunk, seed), p);
        expect(sameBits(run(chunked(chunk, seed), p), run(gemmOneThread, p))).toBe(true);
      }),
      { numRuns: 150 },
    );
    // op(B) too big to pack once (K·N > 2²² elements): packed again for each range.
    const big = makeProblem({ transA: false, transB: true, M: 20, N: 2100, K: 2050, ...noPad, accumulate: true }, 4);
    expectMatches(chunked(8, 5), big);
    expect(sameBits(run(chunked(8, 5), big), run(gemmOneThread, big))).toBe(true);
  });

  it('the WebAssembly micro-kernel gives the bits of its float32 order; the TypeScript one (float64) matches the reference', () => {
    // Node 20 has WebAssembly SIMD: if this fails, the bit comparison below would test nothing.
    expect(useWasmKernels(true)).toBe(true);
    const check = (p: Problem) => {
      expect(sameBits(run(gemmOneThread, p), float32Order(p))).toBe(true);
      try {
        useWasmKernels(false);
        expectMatches(gemmOneThread, p);
      } finally {
        useWasmKernels(true);
      }
    };
    fc.assert(
      fc.property(layout, fc.integer(), (l, seed) => check(makeProblem(l, seed))),
      { numRuns: 150 },
    );
    check(makeProblem({ transA: true, transB: false, M: 300, N: 513, K: 257, ...noPad, padA: 3, cOff: 5, accumulate: true }, 6));
    check(makeProblem({ transA: false, transB: true, M: 20, N: 2100, K: 2050, ...noPad, accumulate: true }, 7)); // B packed per range
  });

  it('the relaxed-SIMD micro-kernel (f32x4.relaxed_madd) gives the bits of its order, fused or not, and switches off', () => {
    // Node 20 has relaxed SIMD behind a V8 flag (Node ≥ 22 by default); the flag is reset below.
    setFlagsFromString('--experimental-wasm-relaxed-simd');
    try {
      expect(useWasmKernels(true)).toBe(true);
      expect(useRelaxedSimd(true)).toBe('relaxed-simd');
      let fused = 0;
      let unfused = 0;
      const check = (p: Problem) => {
        const got = run(gemmOneThread, p);
        const f = float32Order(p, fusedPair);
        const u = float32Order(p, unfusedPair);
        const isFused = sameBits(got, f);
        expect(isFused || sameBits(got, u)).toBe(true);
        // Tallied where the two orders differ (tiny problems often give both the same bits).
        if (!sameBits(f, u)) {
          fused += +isFused;
          unfused += +!isFused;
        }
        expectMatches(gemmOneThread, p);
      };
      fc.assert(fc.property(layout, fc.integer(), (l, seed) => check(makeProblem(l, seed))), { numRuns: 100 });
      const big = makeProblem({ transA: false, transB: true, M: 40, N: 90, K: 600, ...noPad, accumulate: true }, 8);
      check(big);
      // One CPU does one or the other; the big problem alone tells them apart.
      expect(sameBits(float32Order(big, fusedPair), float32Order(big, unfusedPair))).toBe(false);
      expect(fused > 0 !== unfused > 0).toBe(true);
      expect(useRelaxedSimd(false)).toBe('simd128');
      expect(sameBits(run(gemmOneThread, big), float32Order(big))).toBe(true);
    } finally {
      setFlagsFromString('--no-experimental-wasm-relaxed-simd');
      useRelaxedSimd(true);
    }
    // Without the flag, Node 20 falls back to plain SIMD (a later engine keeps relaxed SIMD).
    expect(['simd128', 'relaxed-simd']).toContain(wasmKernelKind());
  });

  it('agrees with gemmNaive on a shape spanning several blocks', () => {
    const p = makeProblem({ transA: false, transB: false, M: 137, N: 520, K: 300, ...noPad, padB: 1, accumulate: true }, 4);
    const fast = run(gemm, p);
    const naive = run(gemmNaive, p);
    const ref = reference(p);
    expect(firstMismatch(fast, Float64Array.from(naive), ref.scale, p.K)).toBe(-1);
  });

  it('computes the documented example exactly', () => {
    const c = new Float32Array(4);
    gemm(false, false, 2, 2, 2, Float32Array.of(1, 2, 3, 4), 0, 2, Float32Array.of(5, 6, 7, 8), 0, 2, c, 0, 2, false);
    expect(Array.from(c)).toEqual([19, 22, 43, 50]);
  });

  it('K = 0 gives zeros, or leaves C unchanged when accumulating; M = 0 or N = 0 touches nothing', () => {
    for (const f of [gemm, gemmNaive]) {
      const c = Float32Array.of(NaN, 1, 2, 3, 4, 5, 6);
      f(false, false, 2, 2, 0, new Float32Array(0), 0, 0, new Float32Array(0), 0, 2, c, 1, 3, false);
      expect(Array.from(c)).toEqual([NaN, 0, 0, 3, 0, 0, 6]);
      const d = Float32Array.of(1, 2, 3, 4);
      f(true, true, 2, 2, 0, new Float32Array(0), 0, 2, new Float32Array(0), 0, 0, d, 0, 2, true);
      expect(Array.from(d)).toEqual([1, 2, 3, 4]);
      const e = Float32Array.of(NaN, 7);
      f(false, false, 0, 2, 3, new Float32Array(0), 0, 3, new Float32Array(6), 0, 2, e, 0, 2, false);
      f(false, false, 2, 0, 3, new Float32Array(6), 0, 3, new Float32Array(0), 0, 0, e, 0, 0, false);
      expect(Array.from(e)).toEqual([NaN, 7]);
    }
  });

  it('overwrites (does not propagate) NaN in C when not accumulating, and propagates NaN from the inputs', () => {
    const a = Float32Array.of(1, 2, 3, 4);
    const c = Float32Array.of(NaN, NaN, NaN, NaN);
    gemm(false, false, 2, 2, 2, a, 0, 2, Float32Array.of(1, 0, 0, 1), 0, 2, c, 0, 2, false);
    expect(Array.from(c)).toEqual([1, 2, 3, 4]);
    gemm(false, false, 2, 2, 2, a, 0, 2, Float32Array.of(NaN, 0, 0, 1), 0, 2, c, 0, 2, false);
    expect(Array.from(c).map(Number.isNaN)).toEqual([true, false, true, false]);
  });

  it('zero-pads odd depths afresh: an infinity left in the scratch by an earlier call does not become NaN', () => {
    const inf = new Float32Array(8 * 4).fill(Infinity);
    const c = new Float32Array(64);
    gemm(false, false, 8, 8, 4, inf, 0, 4, inf, 0, 8, c, 0, 8, false);
    const ones = new Float32Array(8 * 3).fill(1);
    gemm(false, false, 8, 8, 3, ones, 0, 3, ones, 0, 8, c, 0, 8, false);
    expect(c.every((v) => v === 3)).toBe(true);
  });

  it('accepts A and B as the same buffer (a Gram matrix XᵀX)', () => {
    const rng = new Rng(5);
    const x = Float32Array.from({ length: 40 * 11 }, () => rng.uniformRange(-1, 1));
    const p: Problem = { transA: true, transB: false, M: 11, N: 11, K: 40, A: x, aOff: 0, lda: 11, B: x, bOff: 0, ldb: 11, C0: new Float32Array(121), cOff: 0, ldc: 11, accumulate: false };
    expectMatches(gemm, p);
  });

  it('throws a ShapeError for bad sizes, short strides and short buffers', () => {
    const a = new Float32Array(6);
    const b = new Float32Array(6);
    const c = new Float32Array(4);
    for (const f of [gemm, gemmNaive]) {
      expect(() => f(false, false, -1, 2, 3, a, 0, 3, b, 0, 2, c, 0, 2, false)).toThrow(ShapeError);
      expect(() => f(false, false, 2, 2, 1.5, a, 0, 3, b, 0, 2, c, 0, 2, false)).toThrow(ShapeError);
      expect(() => f(false, false, 2, 2, 3, a, 0, 2, b, 0, 2, c, 0, 2, false)).toThrow(/row stride of A must be an integer ≥ 3/);
      expect(() => f(false, true, 2, 2, 3, a, 0, 3, b, 0, 2, c, 0, 2, false)).toThrow(/row stride of B/);
      expect(() => f(false, false, 2, 2, 3, a, 1, 3, b, 0, 2, c, 0, 2, false)).toThrow(/A \(2×3, offset 1, row stride 3\) needs 7 elements, got 6/);
      expect(() => f(false, false, 2, 2, 3, a, 0, 3, b, 0, 2, c, 0, 3, false)).toThrow(/C .* needs 5 elements, got 4/);
    }
  });
});
