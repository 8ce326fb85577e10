import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../src/errors';
import { Rng } from '../../src/rng';
import { spikeDensity, spikeGemm, spikeGemmChunks, spikeIndex, splitRepeats, transposeIndex } from '../../src/tensor/spikes';
import { useWasmKernels } from '../../src/tensor/wasm';

/** A binary matrix with a given density, plus optionally one all-zero and one all-one row. */
function spikes(rows: number, cols: number, density: number, seed: number, extremes: boolean): Float32Array {
  const rng = new Rng(seed);
  const x = new Float32Array(rows * cols);
  for (let i = 0; i < x.length; i++) x[i] = rng.uniform() < density ? 1 : 0;
  if (extremes && rows >= 2) {
    x.fill(0, 0, cols);
    x.fill(1, cols, 2 * cols);
  }
  return x;
}

function denseReference(x: Float32Array, b: Float32Array, M: number, K: number, N: number): Float64Array {
  const c = new Float64Array(M * N);
  for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) if (x[m * K + k]) for (let n = 0; n < N; n++) c[m * N + n] += b[k * N + n];
  return c;
}

/**
 * X·B as the WebAssembly kernel documents it, every operation rounded to float32: each row
 * starts from C (accumulate) or 0 and adds its spikes' rows of B eight at a time (the last pass
 * padded with zero rows) as ((w0 + w1) + (w2 + w3)) + ((w4 + w5) + (w6 + w7)).
 */
function float32Order(x: Float32Array, b: Float32Array, c0: Float32Array, M: number, K: number, N: number, accumulate: boolean): Float32Array {
  const f = Math.fround;
  const c = new Float32Array(M * N);
  for (let m = 0; m < M; m++) {
    const cols: number[] = [];
    for (let k = 0; k < K; k++) if (x[m * K + k] === 1) cols.push(k);
    while (cols.length % 8 !== 0) cols.push(-1);
    for (let n = 0; n < N; n++) {
      const w = (k: number) => (k < 0 ? 0 : b[k * N + n]);
      let acc = accumulate ? c0[m * N + n] : 0;
      for (let p = 0; p < cols.length; p += 8) {
        const [w0, w1, w2, w3, w4, w5, w6, w7] = cols.slice(p, p + 8).map(w);
        acc = f(acc + f(f(f(w0 + w1) + f(w2 + w3)) + f(f(w4 + w5) + f(w6 + w7))));
      }
      c[m * N + n] = acc;
    }
  }
  return c;
}

const shapes = fc.record({
  M: fc.integer({ min: 0, max: 12 }),
  K: fc.integer({ min: 0, max: 40 }),
  N: fc.integer({ min: 0, max: 21 }),
  density: fc.constantFrom(0, 0.05, 0.13, 0.25, 0.4, 0.9, 1),
  extremes: fc.boolean(),
  seed: fc.integer(),
});

describe('event-driven spike kernels', () => {
  it('X·B and Xᵀ·G equal the dense products at every density, incl. empty, all-zero and all-one rows', () => {
    fc.assert(
      fc.property(shapes, ({ M, K, N, density, extremes, seed }) => {
        const x = spikes(M, K, density, seed, extremes);
        const rng = new Rng(seed + 1);
        const b = Float32Array.from({ length: K * N }, () => rng.uniformRange(-1, 1));
        const g = Float32Array.from({ length: M * N }, () => rng.uniformRange(-1, 1));
        const ix = spikeIndex(x, M, K);
        const c = new Float32Array(M * N).fill(99); // overwritten without accumulate
        spikeGemm(ix, b, N, c);
        const want = denseReference(x, b, M, K, N);
        c.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(want[i]))));
        // B handed over as its transpose [N, K] (a Linear weight): the same product
        const bt = new Float32Array(N * K);
        for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) bt[n * K + k] = b[k * N + n];
        const ct = new Float32Array(M * N).fill(-7);
        spikeGemm(ix, bt, N, ct, false, true);
        ct.forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(want[i]))));
        // Xᵀ·G through the transposed index: [K, N]
        const xt = new Float32Array(K * M);
        for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) xt[k * M + m] = x[m * K + k];
        const d = new Float32Array(K * N);
        spikeGemm(transposeIndex(ix), g, N, d);
        const wantT = denseReference(xt, g, K, M, N);
        d.forEach((v, i) => expect(Math.abs(v - wantT[i])).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(wantT[i]))));
        // accumulate adds onto C
        const c2 = Float32Array.from(c);
        spikeGemm(ix, b, N, c2, true);
        c2.forEach((v, i) => expect(Math.abs(v - 2 * c[i])).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(c[i]))));
        const ones = x.reduce((a, v) => a + v, 0);
        expect(spikeDensity(ix)).toBe(M * K === 0 ? 0 : ones / (M * K));
      }),
      { numRuns: 150 },
    );
  });

  it('the WebAssembly kernel gives the bits of its float32 order, and the TypeScript kernel the dense product, over any split into row ranges', () => {
    expect(useWasmKernels(true)).toBe(true); // else no WebAssembly kernel is tested
    fc.assert(
      fc.property(shapes, fc.boolean(), fc.boolean(), fc.integer({ min: 1, max: 5 }), ({ M, K, N: n, density, extremes, seed }, transB, accumulate, chunk) => {
        const x = spikes(M, K, density, seed, extremes);
        const ix = spikeIndex(x, M, K);
        const rng = new Rng(seed + 2);
        const run = (wasm: boolean, N: number, b: Float32Array, c0: Float32Array) => {
          const c = c0.slice();
          const bt = new Float32Array(N * K);
          for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) bt[j * K + k] = b[k * N + j];
          try {
            useWasmKernels(wasm);
            // Row ranges in reverse order, as a worker might take them.
            spikeGemmChunks(ix, transB ? bt : b, N, c, accumulate, transB, (rows) => {
              for (let r0 = Math.floor((M - 1) / chunk) * chunk; r0 >= 0; r0 -= chunk) rows(r0, Math.min(M, r0 + chunk));
            });
          } finally {
            useWasmKernels(true);
          }
          return c;
        };
        // The WebAssembly kernel takes N a multiple of 4.
        const N4 = 4 * Math.ceil(n / 4);
        const b4 = Float32Array.from({ length: K * N4 }, () => rng.uniformRange(-1, 1));
        const c4 = Float32Array.from({ length: M * N4 }, () => rng.uniformRange(-1, 1));
        expect(Array.from(new Uint32Array(run(true, N4, b4, c4).buffer))).toEqual(Array.from(new Uint32Array(float32Order(x, b4, c4, M, K, N4, accumulate).buffer)));
        // The TypeScript kernel, on any N.
        const b = Float32Array.from({ length: K * n }, () => rng.uniformRange(-1, 1));
        const c0 = Float32Array.from({ length: M * n }, () => rng.uniformRange(-1, 1));
        const want = denseReference(x, b, M, K, n);
        if (accumulate) want.forEach((_, i) => (want[i] += c0[i]));
        run(false, n, b, c0).forEach((v, i) => expect(Math.abs(v - want[i])).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(want[i]))));
      }),
      { numRuns: 150 },
    );
  });

  it('indexes each row\'s ones in order, from an offset, through the scratch buffer growing', () => {
    // 3 rows of 700 columns: more than the initial scratch, so it grows mid-matrix.
    const rows = 3;
    const cols = 700;
    const x = new Float32Array(5 + rows * cols);
    const ones = [[0, 1, 699], [], [3, 350, 698, 699]];
    ones.forEach((cs, r) => cs.forEach((c) => (x[5 + r * cols + c] = 1)));
    x[0] = 0.5; // before the offset: not looked at
    const ix = spikeIndex(x, rows, cols, 5);
    expect(Array.from(ix.rowPtr)).toEqual([0, 3, 3, 7]);
    expect(Array.from(ix.idx)).toEqual(ones.flat());
    const all = spikeIndex(new Float32Array(rows * cols).fill(1), rows, cols);
    expect(all.idx.length).toBe(rows * cols);
    expect(all.idx[cols + 5]).toBe(5);
  });

  it('refuses a "binary" matrix holding something else', () => {
    expect(() => spikeIndex(Float32Array.of(0, 1, 0.5, 0), 2, 2)).toThrow(/holds 0.5 at flat index 2/);
    expect(() => spikeIndex(Float32Array.of(0, 1, 0.5, 0), 2, 2)).toThrow(ShapeError);
    expect(() => spikeIndex(Float32Array.of(0, 0, 1, NaN), 2, 2)).toThrow(/holds NaN at flat index 3/);
    expect(() => spikeIndex(Float32Array.of(Infinity, 0, 1, 0), 2, 2)).toThrow(/holds Infinity at flat index 0/);
    expect(() => spikeIndex(Float32Array.of(1, 0, 1, -1), 2, 2)).toThrow(/holds -1 at flat index 3/);
  });

  it('splitRepeats: common = the AND of the L blocks, rest = x − common, by the literal definition', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 5 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 4, max: 40 }), fc.integer({ min: 0, max: 3 }), fc.integer(), (L, R, K, off, seed) => {
        // Poisson-like: each (sample, input) fires always, never, or at random.
        const rng = new Rng(seed);
        const kind = Array.from({ length: R * K }, () => rng.uniform());
        const x = new Float32Array(off + L * R * K).fill(0.5); // the offset part is never read
        for (let l = 0; l < L; l++) for (let i = 0; i < R * K; i++) x[off + l * R * K + i] = kind[i] < 0.4 ? 1 : kind[i] < 0.7 ? +(rng.uniform() < 0.5) : 0;
        const split = splitRepeats(x, L, R, K, off);
        const at = (l: number, r: number, k: number) => x[off + (l * R + r) * K + k];
        const common: number[][] = [];
        let repeats = 0;
        for (let r = 0; r < R; r++) {
          common.push([]);
          for (let k = 0; k < K; k++) {
            let all = true;
            for (let l = 0; l < L; l++) all &&= at(l, r, k) === 1;
            if (all) common[r].push(k);
          }
          repeats += common[r].length;
        }
        if (repeats * (L - 1) <= L * R) {
          expect(split).toBeNull();
          return;
        }
        expect(split).not.toBeNull();
        const rows = (ix: { rowPtr: Int32Array; idx: Int32Array; rows: number }) => Array.from({ length: ix.rows }, (_, r) => Array.from(ix.idx.subarray(ix.rowPtr[r], ix.rowPtr[r + 1])));
        expect(rows(split!.common)).toEqual(common);
        for (let l = 0; l < L; l++) {
          for (let r = 0; r < R; r++) {
            const rest = [];
            for (let k = 0; k < K; k++) if (at(l, r, k) === 1 && !common[r].includes(k)) rest.push(k);
            expect(rows(split!.rest)[l * R + r]).toEqual(rest);
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it('splitRepeats refuses a "binary" matrix holding something else, and declines when nothing repeats', () => {
    const x = new Float32Array(2 * 1 * 8).fill(1);
    x[11] = 0.5;
    expect(() => splitRepeats(x, 2, 1, 8)).toThrow(/holds 0.5 at flat index 11/);
    expect(splitRepeats(Float32Array.of(1, 0, 0, 1, 0, 1, 1, 0), 2, 1, 4)).toBeNull();
    expect(splitRepeats(new Float32Array(8).fill(1), 1, 2, 4)).toBeNull(); // one block: nothing to share
  });
});
