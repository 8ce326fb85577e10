/**
 * Event-driven kernels for binary (spike) operands. A spike matrix X [M, K] of 0s and 1s
 * is indexed once by its active positions; products with it then add whole weight rows
 * for each spike instead of multiplying by zeros, so their cost scales with the density.
 * Results equal the dense GEMM up to float rounding (the summation order differs).
 */
import { ShapeError } from '../errors';
import { PARALLEL_MIN_WORK, rowParallel } from './parallel';
import { type WasmKernels, wasmArena, wasmKernels } from './wasm';

/** The active positions of a binary matrix [rows, cols], row by row (CSR without values). */
export interface SpikeIndex {
  readonly rows: number;
  readonly cols: number;
  /** Row r's active columns are `idx[rowPtr[r] .. rowPtr[r + 1])`, ascending. */
  readonly rowPtr: Int32Array;
  readonly idx: Int32Array;
}

/** Scratch for {@link spikeIndex}: room for every spike seen so far plus one more row. */
let indexScratch = new Int32Array(1024);

/**
 * Indexes the ones of x [rows, cols] (row-major, starting at `offset`). Every element must
 * be exactly 0 or 1: anything else throws, since a binary kernel would silently get it wrong.
 * One pass over x (into a scratch buffer reused across calls), then one copy of the ones.
 */
export function spikeIndex(x: Float32Array, rows: number, cols: number, offset = 0): SpikeIndex {
  return indexOnes(x, rows, cols, offset, null, 0);
}

/**
 * {@link spikeIndex}, leaving out the ones where `exclude` (a 0/1 mask of `period` elements,
 * a multiple of cols, applied to every `period` elements of x in turn) is 1.
 */
function indexOnes(x: Float32Array, rows: number, cols: number, offset: number, exclude: Uint8Array | null, period: number): SpikeIndex {
  const rowPtr = new Int32Array(rows + 1);
  let p = 0;
  let bad = 0;
  for (let r = 0; r < rows; r++) {
    if (indexScratch.length - p < cols) {
      const grown = new Int32Array(Math.max(2 * indexScratch.length, p + cols));
      grown.set(indexScratch.subarray(0, p));
      indexScratch = grown;
    }
    const idx = indexScratch;
    const base = offset + r * cols;
    // Branch-free (spikes are too random for a branch predictor): every column is written,
    // and p moves past it only when it fired.
    if (exclude === null) {
      for (let c = 0; c < cols; c++) {
        const v = x[base + c];
        idx[p] = c;
        p += +(v !== 0);
        bad |= +(v !== 0) & +(v !== 1);
      }
    } else {
      const m = (r * cols) % period;
      for (let c = 0; c < cols; c++) {
        const v = x[base + c];
        idx[p] = c;
        p += +(v !== 0) & (exclude[m + c] ^ 1);
        bad |= +(v !== 0) & +(v !== 1);
      }
    }
    rowPtr[r + 1] = p;
  }
  if (bad > 0) {
    for (let i = 0; i < rows * cols; i++) {
      const v = x[offset + i];
      if (v !== 0 && v !== 1) throw new ShapeError(`spikeIndex: a tensor marked binary holds ${v} at flat index ${i}`);
    }
  }
  return { rows, cols, rowPtr, idx: indexScratch.slice(0, p) };
}

/**
 * A binary matrix [L·R, K], read as L blocks of R rows (L time steps of R samples), split into
 * the ones that repeat in all L blocks and the rest: x[l] = common + rest[l] for every l.
 */
export interface RepeatSplit {
  /** Positions [R, K] that are 1 in every block. */
  readonly common: SpikeIndex;
  /** The remaining ones, [L·R, K]. */
  readonly rest: SpikeIndex;
}

/**
 * Splits a binary x [L·R, K] (from `offset`) into the ones that repeat in all L blocks of R rows
 * and the rest (see {@link RepeatSplit}), or returns null when the repeats are too few to pay
 * for the split: adding the common part's product into each block costs about one spike per
 * row, so the split pays when the L − 1 saved copies of the common ones outnumber the L·R rows.
 * A Poisson encoding of MNIST at T = 8 puts about 64 % of its spikes in repeats (bright pixels
 * fire at every step). Values other than 0 and 1 throw, as in {@link spikeIndex}.
 */
export function splitRepeats(x: Float32Array, L: number, R: number, K: number, offset = 0): RepeatSplit | null {
  const RK = R * K;
  if (L < 2 || RK === 0) return null;
  // The AND of the L blocks, branch-free, stopping early once too few ones can still repeat
  // (hidden layers' spikes rarely repeat: their check ends after a few blocks).
  if (repeatMask.length < RK) repeatMask = new Uint8Array(RK);
  const mask = repeatMask;
  let repeats = 0;
  for (let i = 0; i < RK; i++) repeats += mask[i] = +(x[offset + i] === 1);
  for (let l = 1; l < L && repeats * (L - 1) > L * R; l++) {
    const base = offset + l * RK;
    repeats = 0;
    for (let i = 0; i < RK; i++) repeats += mask[i] &= +(x[base + i] === 1);
  }
  if (repeats * (L - 1) <= L * R) return null;
  const rowPtr = new Int32Array(R + 1);
  const idx = new Int32Array(repeats);
  let p = 0;
  for (let r = 0; r < R; r++) {
    const base = r * K;
    for (let c = 0; c < K; c++) {
      idx[p] = c;
      p += mask[base + c];
    }
    rowPtr[r + 1] = p;
  }
  const common: SpikeIndex = { rows: R, cols: K, rowPtr, idx: idx.slice(0, p) };
  return { common, rest: indexOnes(x, L * R, K, offset, mask, RK) };
}

/** Scratch for {@link splitRepeats}: the repeat mask [R, K]. */
let repeatMask = new Uint8Array(0);

/** The transpose's index: for each column of X, the rows where it is active (CSC), by counting sort. */
export function transposeIndex(ix: SpikeIndex): SpikeIndex {
  const { rows, cols, rowPtr, idx } = ix;
  const colPtr = new Int32Array(cols + 1);
  for (let p = 0; p < idx.length; p++) colPtr[idx[p] + 1]++;
  for (let c = 0; c < cols; c++) colPtr[c + 1] += colPtr[c];
  const next = colPtr.slice(0, cols);
  const rowIdx = new Int32Array(idx.length);
  for (let r = 0; r < rows; r++) for (let p = rowPtr[r]; p < rowPtr[r + 1]; p++) rowIdx[next[idx[p]]++] = r;
  return { rows: cols, cols: rows, rowPtr: colPtr, idx: rowIdx };
}

/** Fraction of ones in an indexed spike matrix. */
export function spikeDensity(ix: SpikeIndex): number {
  const n = ix.rows * ix.cols;
  return n === 0 ? 0 : ix.idx.length / n;
}

/** Scratch of the TypeScript kernel, reused across calls: B widened to float64 (see {@link rowsOfB}), and one output row's running sums. */
let wideB = new Float64Array(0);
let rowAcc = new Float64Array(0);

/**
 * C[rows, N] = X·B (+ C when accumulate), with X the binary matrix behind `ix` [rows, K] and
 * B [K, N] row-major — or, with `transB`, B given as its transpose [N, K] (a Linear layer's
 * weight, for X·Wᵀ without a transposed copy): each output row is the sum of the rows of B
 * at that row's spikes. B is laid out as rows once per call (transposed on the way when
 * `transB`), and each output row is summed in a row buffer that stays in L1, eight spikes per
 * pass (the last one padded with a row of zeros): the pass's rows as
 * ((w0 + w1) + (w2 + w3)) + ((w4 + w5) + (w6 + w7)), then added to the row. The TypeScript
 * kernel sums in float64 and rounds each row into C once; the WebAssembly kernel (N a multiple
 * of 4) sums in float32, four columns per instruction, every operation rounded, as BLAS does.
 */
export function spikeGemm(ix: SpikeIndex, B: Float32Array, N: number, C: Float32Array, accumulate = false, transB = false): void {
  checkSpikeGemm(ix, B, N, C);
  const par = rowParallel();
  if (par !== null && ix.rows > 1 && ix.idx.length * N >= PARALLEL_MIN_WORK && par.spikeGemm(ix, B, N, C, accumulate, transB)) return;
  spikeGemmRows(ix, B, N, C, accumulate, transB, 0, ix.rows);
}

function checkSpikeGemm(ix: SpikeIndex, B: Float32Array, N: number, C: Float32Array): void {
  if (B.length < ix.cols * N || C.length < ix.rows * N) {
    throw new ShapeError(`spikeGemm: expected B of ${ix.cols}×${N} and C of ${ix.rows}×${N}, got ${B.length} and ${C.length} elements`);
  }
}

/**
 * B [K, N] (or, with transB, its transpose [N, K]) as [K + 1, N] in W; row K is zeros, for
 * the kernel to pad its last pass with.
 */
function rowsOfB<W extends Float32Array | Float64Array>(W: W, B: Float32Array, K: number, N: number, transB: boolean): W {
  const KN = K * N;
  W.fill(0, KN, KN + N);
  if (!transB) {
    W.set(B.subarray(0, KN));
    return W;
  }
  // Strided reads, sequential writes: measured faster than 32 × 32 blocks for [512, 784].
  for (let k = 0; k < K; k++) {
    const dst = k * N;
    for (let n = 0; n < N; n++) W[dst + n] = B[n * K + k];
  }
  return W;
}

/** {@link spikeGemm} for output rows [r0, r1) only (a thread's share). */
export function spikeGemmRows(ix: SpikeIndex, B: Float32Array, N: number, C: Float32Array, accumulate: boolean, transB: boolean, r0: number, r1: number): void {
  spikeGemmChunks(ix, B, N, C, accumulate, transB, (run) => run(r0, r1));
}

/**
 * {@link spikeGemm} for the output row ranges `schedule` hands to `run`, one after another:
 * B is laid out once for all of them (how a worker thread takes chunks as it frees up).
 */
export function spikeGemmChunks(
  ix: SpikeIndex, B: Float32Array, N: number, C: Float32Array, accumulate: boolean, transB: boolean,
  schedule: (run: (r0: number, r1: number) => void) => void,
): void {
  const K = ix.cols;
  const wBytes = 4 * (K + 1) * N;
  // The WebAssembly kernel sums four columns per instruction, so it takes N a multiple of 4;
  // its addresses are int32. The arena is reserved for all rows at once, so no row range can fail.
  const wasm = N % 4 === 0 && wBytes < 2 ** 30 ? wasmKernels() : null;
  const buf = wasm !== null ? wasmArena(wasm, spikeRowsBytes(ix, wBytes, N, 0, ix.rows)) : null;
  if (wasm !== null && buf !== null) {
    rowsOfB(new Float32Array(buf, 0, (K + 1) * N), B, K, N, transB);
    schedule((r0, r1) => wasmSpikeRows(wasm, ix, wBytes, N, C, accumulate, r0, r1));
    return;
  }
  if (rowAcc.length < N) rowAcc = new Float64Array(N);
  if (wideB.length < (K + 1) * N) wideB = new Float64Array((K + 1) * N);
  const W = rowsOfB(wideB, B, K, N, transB);
  schedule((r0, r1) => addSpikeRows(ix, W, N, C, accumulate, r0, r1));
}

/**
 * {@link addSpikeRows} by the WebAssembly kernel, from B's rows at byte 0 of its memory: the
 * rows' spikes go in as byte offsets of their W rows, each row's list padded to a multiple of
 * eight with the zero row; the output rows are summed in its memory and copied into C.
 */
function wasmSpikeRows(wasm: WasmKernels, ix: SpikeIndex, wBytes: number, N: number, C: Float32Array, accumulate: boolean, r0: number, r1: number): void {
  const rows = r1 - r0;
  if (rows <= 0) return;
  const { rowPtr, idx } = ix;
  const passes = spikePasses(ix, r0, r1);
  const passByte = wBytes;
  const offByte = passByte + 4 * rows;
  const outByte = offByte + 32 * passes;
  const buf = wasm.memory.buffer; // reserved by spikeGemmChunks for all rows
  const rowPasses = new Int32Array(buf, passByte, rows);
  const offs = new Int32Array(buf, offByte, 8 * passes);
  const rowBytes = 4 * N;
  const zeroRow = ix.cols * rowBytes;
  let q = 0;
  for (let r = r0; r < r1; r++) {
    const end = rowPtr[r + 1];
    rowPasses[r - r0] = Math.ceil((end - rowPtr[r]) / 8);
    for (let p = rowPtr[r]; p < end; p++) offs[q++] = idx[p] * rowBytes;
    while ((q & 7) !== 0) offs[q++] = zeroRow;
  }
  const out = new Float32Array(buf, outByte, rows * N);
  if (accumulate) out.set(C.subarray(r0 * N, r1 * N));
  else out.fill(0);
  wasm.spikeRows(rows, passByte, offByte, 0, rowBytes, outByte);
  C.set(out, r0 * N);
}

/** Passes of eight spikes that rows [r0, r1) take. */
function spikePasses(ix: SpikeIndex, r0: number, r1: number): number {
  let passes = 0;
  for (let r = r0; r < r1; r++) passes += Math.ceil((ix.rowPtr[r + 1] - ix.rowPtr[r]) / 8);
  return passes;
}

/** Bytes of wasm memory {@link wasmSpikeRows} lays out for rows [r0, r1): W, the passes, the offsets, the output. */
function spikeRowsBytes(ix: SpikeIndex, wBytes: number, N: number, r0: number, r1: number): number {
  return wBytes + 4 * (r1 - r0) + 32 * spikePasses(ix, r0, r1) + 4 * (r1 - r0) * N;
}

/** Output rows [r0, r1) of the spike GEMM from B's rows W: each row sums the rows of W at its spikes. */
function addSpikeRows(ix: SpikeIndex, W: Float64Array, N: number, C: Float32Array, accumulate: boolean, r0: number, r1: number): void {
  const { rowPtr, idx } = ix;
  const acc = rowAcc;
  const N4 = N - (N % 4);
  const zeroRow = ix.cols * N;
  for (let r = r0; r < r1; r++) {
    const c0 = r * N;
    if (accumulate) for (let n = 0; n < N; n++) acc[n] = C[c0 + n];
    else acc.fill(0, 0, N);
    const end = rowPtr[r + 1];
    // Eight spikes per pass; the last pass is padded with the zero row, so no spike ever
    // takes a pass of its own.
    for (let p = rowPtr[r]; p < end; p += 8) {
      const o0 = idx[p] * N;
      const o1 = p + 1 < end ? idx[p + 1] * N : zeroRow;
      const o2 = p + 2 < end ? idx[p + 2] * N : zeroRow;
      const o3 = p + 3 < end ? idx[p + 3] * N : zeroRow;
      const o4 = p + 4 < end ? idx[p + 4] * N : zeroRow;
      const o5 = p + 5 < end ? idx[p + 5] * N : zeroRow;
      const o6 = p + 6 < end ? idx[p + 6] * N : zeroRow;
      const o7 = p + 7 < end ? idx[p + 7] * N : zeroRow;
      // Four columns per iteration: a quarter of the loop overhead (measured −12 %), and
      // constant displacements from one index per spike row.
      let n = 0;
      for (; n < N4; n += 4) {
        const q0 = o0 + n;
        const q1 = o1 + n;
        const q2 = o2 + n;
        const q3 = o3 + n;
        const q4 = o4 + n;
        const q5 = o5 + n;
        const q6 = o6 + n;
        const q7 = o7 + n;
        acc[n] += W[q0] + W[q1] + (W[q2] + W[q3]) + (W[q4] + W[q5] + (W[q6] + W[q7]));
        acc[n + 1] += W[q0 + 1] + W[q1 + 1] + (W[q2 + 1] + W[q3 + 1]) + (W[q4 + 1] + W[q5 + 1] + (W[q6 + 1] + W[q7 + 1]));
        acc[n + 2] += W[q0 + 2] + W[q1 + 2] + (W[q2 + 2] + W[q3 + 2]) + (W[q4 + 2] + W[q5 + 2] + (W[q6 + 2] + W[q7 + 2]));
        acc[n + 3] += W[q0 + 3] + W[q1 + 3] + (W[q2 + 3] + W[q3 + 3]) + (W[q4 + 3] + W[q5 + 3] + (W[q6 + 3] + W[q7 + 3]));
      }
      for (; n < N; n++) acc[n] += W[o0 + n] + W[o1 + n] + (W[o2 + n] + W[o3 + n]) + (W[o4 + n] + W[o5 + n] + (W[o6 + n] + W[o7 + n]));
    }
    for (let n = 0; n < N; n++) C[c0 + n] = acc[n];
  }
}
