/**
 * Single-precision GEMM in plain TypeScript: C = op(A)·op(B) (+ C), row-major, over Float32Array.
 *
 * Blocking (after BLIS, Goto & van de Geijn 2008): for each NC-wide block of columns and
 * KC-deep block of the inner dimension, op(B) is packed into NR-wide column panels; for each
 * MC-tall block of rows, op(A) is packed into MR-tall row panels. Packing turns every transpose
 * combination into the same contiguous access pattern (and, for the TypeScript micro-kernel,
 * widens float32 to float64 once, so it reads doubles with no conversion). Panels are
 * zero-padded to whole MR×NR tiles and to an even depth, so the micro-kernel never branches on
 * edges; edge tiles are computed into a scratch tile and only their valid part is added to C.
 *
 * Micro-kernel: an 8×8 tile of C accumulated over two k-steps per iteration. Its 64 running
 * sums live in a captured Float64Array (`acc`) rather than in 64 locals: V8 has 16 xmm
 * registers, and with locals TurboFan computes all products first and spills products and sums
 * alike; with `acc` each update is one load, two multiplies, two adds and one store at a
 * constant address (V8 folds the captured const and drops its bounds checks). Measured on
 * Node 20 (bench/gemm.ts): ~5.5 GFLOP/s on every transpose combination, against ~3.9 for the
 * best local-variable kernel (6×8) and ~0.4 for the naive loop.
 *
 * The TypeScript micro-kernel forms its sums in doubles and rounds them to float32 when adding
 * them to C, once per KC block (twice for edge tiles, which pass through the float32 scratch tile).
 *
 * Where the engine has WebAssembly SIMD (see ./wasm.ts), the packed blocks live, as float32, in
 * the WebAssembly memory, and its f32x4 micro-kernel computes each tile's sums in the same order
 * but in float32, every operation rounded, as BLAS libraries do: ~23 GFLOP/s against ~5.6
 * (bench/gemm.ts). The two kernels' results differ by float32 rounding; each is deterministic.
 */
import { ShapeError } from '../errors';
import { PARALLEL_MIN_WORK, rowParallel } from './parallel';
import { wasmArena, wasmKernels } from './wasm';

/** Micro-tile rows and columns; the kernel body below is unrolled for exactly these values. */
const MR = 8;
const NR = 8;
/** Depth of a packed block: an NR-wide B panel (KC·NR doubles = 16 KiB) stays in L1. */
const KC = 256;
/** Rows of a packed A block (MC·KC doubles = 256 KiB, in L2). */
const MC = 128;
/** Columns of a packed B block (KC·NC doubles = 1 MiB, in L2/L3). */
const NC = 512;
/** op(B) up to this many elements (16 MiB as floats, 32 as doubles) is packed once per call rather than once per row range. */
const PACK_ONCE_MAX = 1 << 22;

/** Packed op(A) and op(B) blocks; grown on demand and reused across calls. */
let packedA = new Float64Array(0);
let packedB = new Float64Array(0);
/** Destination of the micro-kernel for tiles that overhang C's edge. */
const edgeTile = new Float32Array(MR * NR);
const noTile = new Float32Array(0);
const microKernel = makeMicroKernel();

/**
 * C = op(A)·op(B) (+ C when accumulate), row-major. op(A) is M×K, op(B) is K×N, C is M×N.
 * transA: A is stored K×M (row stride lda) and op(A) = Aᵀ; otherwise A is M×K with row stride lda.
 * transB: B is stored N×K (row stride ldb) and op(B) = Bᵀ; otherwise B is K×N with row stride ldb.
 * Offsets aOff/bOff/cOff index the first element (for batched matmul).
 *
 * K = 0 gives C = 0 (C unchanged when accumulate). C must not overlap A or B. Throws a
 * ShapeError for negative or fractional sizes, a row stride shorter than its row, or a buffer
 * too short for the block it is said to hold.
 *
 * @example
 * // [[1, 2], [3, 4]] · [[5, 6], [7, 8]] = [[19, 22], [43, 50]]
 * const c = new Float32Array(4);
 * gemm(false, false, 2, 2, 2, Float32Array.of(1, 2, 3, 4), 0, 2, Float32Array.of(5, 6, 7, 8), 0, 2, c, 0, 2, false);
 */
export function gemm(
  transA: boolean, transB: boolean, M: number, N: number, K: number,
  A: Float32Array, aOff: number, lda: number,
  B: Float32Array, bOff: number, ldb: number,
  C: Float32Array, cOff: number, ldc: number,
  accumulate: boolean,
): void {
  checkArgs('gemm', transA, transB, M, N, K, A, aOff, lda, B, bOff, ldb, C, cOff, ldc);
  if (M === 0 || N === 0) return;
  const par = rowParallel();
  if (par !== null && M > 1 && M * N * K >= PARALLEL_MIN_WORK && par.gemm(transA, transB, M, N, K, A, aOff, lda, B, bOff, ldb, C, cOff, ldc, accumulate)) return;
  gemmOneThread(transA, transB, M, N, K, A, aOff, lda, B, bOff, ldb, C, cOff, ldc, accumulate);
}

/** {@link gemm} on the calling thread only. */
export function gemmOneThread(
  transA: boolean, transB: boolean, M: number, N: number, K: number,
  A: Float32Array, aOff: number, lda: number,
  B: Float32Array, bOff: number, ldb: number,
  C: Float32Array, cOff: number, ldc: number,
  accumulate: boolean,
): void {
  gemmChunks(transA, transB, M, N, K, A, aOff, lda, B, bOff, ldb, C, cOff, ldc, accumulate, (rows) => rows(0, M));
}

/**
 * {@link gemm} for the row ranges `schedule` hands to `rows`, one after another (what each
 * thread of a parallel GEMM runs, taking chunks as it frees up). Each range must start at a
 * multiple of MR = 8, so that rows fall into the same micro-tiles as in one call over all of
 * them and come out bit-identical. op(B) is packed once for all the ranges when it fits in
 * PACK_ONCE_MAX elements, and block by block for each range otherwise.
 */
export function gemmChunks(
  transA: boolean, transB: boolean, M: number, N: number, K: number,
  A: Float32Array, aOff: number, lda: number,
  B: Float32Array, bOff: number, ldb: number,
  C: Float32Array, cOff: number, ldc: number,
  accumulate: boolean,
  schedule: (rows: (r0: number, r1: number) => void) => void,
): void {
  checkArgs('gemm', transA, transB, M, N, K, A, aOff, lda, B, bOff, ldb, C, cOff, ldc);
  if (M === 0 || N === 0) return;
  // Offsets of the packed (j0, k0) blocks of op(B), in loop order.
  const blocks: number[] = [];
  let total = 0;
  forEachBlock(N, K, (_j0, nc, _k0, _kc, kp) => {
    blocks.push(total);
    total += kp * roundUp(nc, NR);
  });
  const once = total <= PACK_ONCE_MAX;
  const needB = once ? total : roundUp(Math.min(KC, K), 2) * roundUp(Math.min(NC, N), NR);
  const maxA = roundUp(Math.min(KC, K), 2) * roundUp(Math.min(MC, M), MR);
  // With the WebAssembly kernel, the packed blocks and the tile's sums live in its memory:
  // B from byte 0, then A, then the 8×8 tile. The TypeScript kernel keeps its own buffers.
  const aByte = 4 * needB;
  const tileByte = aByte + 4 * maxA;
  let wasm = wasmKernels();
  const buf = wasm !== null ? wasmArena(wasm, tileByte + 4 * MR * NR) : null;
  if (buf === null) wasm = null;
  let tile = noTile;
  let pb: Float32Array | Float64Array;
  let wasmA: Float32Array | null = null;
  if (buf !== null) {
    pb = new Float32Array(buf, 0, needB);
    wasmA = new Float32Array(buf, aByte, maxA);
    tile = new Float32Array(buf, tileByte, MR * NR);
  } else {
    if (packedB.length < needB) packedB = new Float64Array(needB);
    pb = packedB;
  }
  if (once) forEachBlock(N, K, (j0, nc, k0, kc, kp, b) => packB(pb, blocks[b], transB, B, bOff, ldb, k0, kc, kp, j0, nc));
  schedule((r0, r1) => {
    const m = r1 - r0;
    if (m <= 0) return;
    // Zeroing first lets the kernel always add, so it has a single code path.
    if (!accumulate) for (let i = r0; i < r1; i++) C.fill(0, cOff + i * ldc, cOff + i * ldc + N);
    if (K === 0) return;
    if (wasmA === null && packedA.length < maxA) packedA = new Float64Array(maxA);
    const pa = wasmA ?? packedA;
    forEachBlock(N, K, (j0, nc, k0, kc, kp, b) => {
      const bb = once ? blocks[b] : 0;
      if (!once) packB(pb, 0, transB, B, bOff, ldb, k0, kc, kp, j0, nc);
      for (let i0 = r0; i0 < r1; i0 += MC) {
        const mc = Math.min(MC, r1 - i0);
        packA(pa, transA, A, aOff, lda, i0, mc, k0, kc, kp);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = Math.min(NR, nc - jr);
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = Math.min(MR, mc - ir);
            const ci = cOff + (i0 + ir) * ldc + j0 + jr;
            if (wasm !== null) {
              wasm.tile8(kp, aByte + 4 * ir * kp, 4 * (bb + jr * kp), tileByte);
              if (mr === MR && nr === NR) {
                for (let i = 0; i < MR; i++) {
                  const r = ci + i * ldc;
                  const t = i * NR;
                  C[r] += tile[t]; C[r + 1] += tile[t + 1]; C[r + 2] += tile[t + 2]; C[r + 3] += tile[t + 3];
                  C[r + 4] += tile[t + 4]; C[r + 5] += tile[t + 5]; C[r + 6] += tile[t + 6]; C[r + 7] += tile[t + 7];
                }
              } else {
                for (let i = 0; i < mr; i++) {
                  for (let j = 0; j < nr; j++) C[ci + i * ldc + j] += tile[i * NR + j];
                }
              }
            } else if (mr === MR && nr === NR) {
              microKernel(kp, packedA, ir * kp, packedB, bb + jr * kp, C, ci, ldc);
            } else {
              edgeTile.fill(0);
              microKernel(kp, packedA, ir * kp, packedB, bb + jr * kp, edgeTile, 0, NR);
              for (let i = 0; i < mr; i++) {
                for (let j = 0; j < nr; j++) C[ci + i * ldc + j] += edgeTile[i * NR + j];
              }
            }
          }
        }
      }
    });
  });
}

/** Calls f for every (NC-wide, KC-deep) block of op(B), j0-major, with its padded depth and running index. */
function forEachBlock(N: number, K: number, f: (j0: number, nc: number, k0: number, kc: number, kp: number, b: number) => void): void {
  let b = 0;
  for (let j0 = 0; j0 < N; j0 += NC) {
    const nc = Math.min(NC, N - j0);
    for (let k0 = 0; k0 < K; k0 += KC) {
      const kc = Math.min(KC, K - k0);
      f(j0, nc, k0, kc, roundUp(kc, 2), b++);
    }
  }
}

/** The reference: a plain triple loop with a double-precision sum per element. Same contract as {@link gemm}. */
export function gemmNaive(
  transA: boolean, transB: boolean, M: number, N: number, K: number,
  A: Float32Array, aOff: number, lda: number,
  B: Float32Array, bOff: number, ldb: number,
  C: Float32Array, cOff: number, ldc: number,
  accumulate: boolean,
): void {
  checkArgs('gemmNaive', transA, transB, M, N, K, A, aOff, lda, B, bOff, ldb, C, cOff, ldc);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        s += A[aOff + (transA ? k * lda + i : i * lda + k)] * B[bOff + (transB ? j * ldb + k : k * ldb + j)];
      }
      const c = cOff + i * ldc + j;
      C[c] = accumulate ? C[c] + s : s;
    }
  }
}

function roundUp(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}

/**
 * Packs op(B)[k0 : k0+kc, j0 : j0+nc] into NR-wide panels, each kp×NR row-major
 * (panel p at base + p·kp·NR), zero-filling columns past nc and rows kc..kp.
 */
function packB(
  pb: Float32Array | Float64Array, base: number, transB: boolean, B: Float32Array, bOff: number, ldb: number,
  k0: number, kc: number, kp: number, j0: number, nc: number,
): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = Math.min(NR, nc - jr);
    const p = base + jr * kp;
    if (!transB) {
      // op(B)[k][j] = B[k][j]: rows of the panel are contiguous runs of B.
      let src = bOff + k0 * ldb + j0 + jr;
      let q = p;
      for (let k = 0; k < kc; k++, src += ldb, q += NR) {
        let j = 0;
        for (; j < nr; j++) pb[q + j] = B[src + j];
        for (; j < NR; j++) pb[q + j] = 0;
      }
    } else {
      // op(B)[k][j] = B[j][k]: columns of the panel are contiguous runs of B.
      for (let j = 0; j < NR; j++) {
        let q = p + j;
        if (j < nr) {
          const src = bOff + (j0 + jr + j) * ldb + k0;
          for (let k = 0; k < kc; k++, q += NR) pb[q] = B[src + k];
        } else {
          for (let k = 0; k < kc; k++, q += NR) pb[q] = 0;
        }
      }
    }
    pb.fill(0, p + kc * NR, p + kp * NR);
  }
}

/**
 * Packs op(A)[i0 : i0+mc, k0 : k0+kc] into MR-tall panels, each kp×MR with a column of
 * op(A) per row (panel p at p·kp·MR), zero-filling rows past mc and depth kc..kp.
 */
function packA(
  pa: Float32Array | Float64Array, transA: boolean, A: Float32Array, aOff: number, lda: number,
  i0: number, mc: number, k0: number, kc: number, kp: number,
): void {
  for (let ir = 0; ir < mc; ir += MR) {
    const mr = Math.min(MR, mc - ir);
    const p = ir * kp;
    if (transA) {
      // op(A)[i][k] = A[k][i]: each k gives a contiguous run of A.
      let src = aOff + k0 * lda + i0 + ir;
      let q = p;
      for (let k = 0; k < kc; k++, src += lda, q += MR) {
        let i = 0;
        for (; i < mr; i++) pa[q + i] = A[src + i];
        for (; i < MR; i++) pa[q + i] = 0;
      }
    } else {
      // op(A)[i][k] = A[i][k]: each row i is a contiguous run of A.
      for (let i = 0; i < MR; i++) {
        let q = p + i;
        if (i < mr) {
          const src = aOff + (i0 + ir + i) * lda + k0;
          for (let k = 0; k < kc; k++, q += MR) pa[q] = A[src + k];
        } else {
          for (let k = 0; k < kc; k++, q += MR) pa[q] = 0;
        }
      }
    }
    pa.fill(0, p + kc * MR, p + kp * MR);
  }
}

/** Signature of the micro-kernel; see {@link makeMicroKernel}. */
type MicroKernel = (kp: number, pa: Float64Array, ai: number, pb: Float64Array, bi: number, C: Float32Array, ci: number, ldc: number) => void;

/**
 * Returns the micro-kernel: C[ci + i·ldc + j] += Σ_k pa[ai + k·MR + i] · pb[bi + k·NR + j] for
 * the 8×8 tile i, j < 8, over an even depth kp. Step k reads x = column k of the A panel and
 * y = row k of the B panel; u and v are the same at k + 1. Fully unrolled on purpose (see the
 * module comment); `| 0` keeps the index arithmetic in int32 without overflow checks.
 *
 * The accumulator tile lives in this factory's closure rather than at module level: V8 folds a
 * const captured this way into a constant address without bounds checks, but keeps the bounds
 * checks on a module-level const of an ES module bundle (best of 15 on [256×784]·[784×512]:
 * 5.6 against 5.2 GFLOP/s).
 */
function makeMicroKernel(): MicroKernel {
  const acc = new Float64Array(MR * NR);
  return (kp, pa, ai, pb, bi, C, ci, ldc) => {
    for (let t = 0; t < MR * NR; t++) acc[t] = 0;
    for (let k = 0; k < kp; k += 2) {
      const x0 = pa[ai], x1 = pa[(ai + 1) | 0], x2 = pa[(ai + 2) | 0], x3 = pa[(ai + 3) | 0],
        x4 = pa[(ai + 4) | 0], x5 = pa[(ai + 5) | 0], x6 = pa[(ai + 6) | 0], x7 = pa[(ai + 7) | 0];
      const u0 = pa[(ai + 8) | 0], u1 = pa[(ai + 9) | 0], u2 = pa[(ai + 10) | 0], u3 = pa[(ai + 11) | 0],
        u4 = pa[(ai + 12) | 0], u5 = pa[(ai + 13) | 0], u6 = pa[(ai + 14) | 0], u7 = pa[(ai + 15) | 0];
      const y0 = pb[bi], y1 = pb[(bi + 1) | 0], y2 = pb[(bi + 2) | 0], y3 = pb[(bi + 3) | 0],
        y4 = pb[(bi + 4) | 0], y5 = pb[(bi + 5) | 0], y6 = pb[(bi + 6) | 0], y7 = pb[(bi + 7) | 0];
      const v0 = pb[(bi + 8) | 0], v1 = pb[(bi + 9) | 0], v2 = pb[(bi + 10) | 0], v3 = pb[(bi + 11) | 0],
        v4 = pb[(bi + 12) | 0], v5 = pb[(bi + 13) | 0], v6 = pb[(bi + 14) | 0], v7 = pb[(bi + 15) | 0];
      acc[0] += x0 * y0 + u0 * v0; acc[1] += x0 * y1 + u0 * v1; acc[2] += x0 * y2 + u0 * v2; acc[3] += x0 * y3 + u0 * v3;
      acc[4] += x0 * y4 + u0 * v4; acc[5] += x0 * y5 + u0 * v5; acc[6] += x0 * y6 + u0 * v6; acc[7] += x0 * y7 + u0 * v7;
      acc[8] += x1 * y0 + u1 * v0; acc[9] += x1 * y1 + u1 * v1; acc[10] += x1 * y2 + u1 * v2; acc[11] += x1 * y3 + u1 * v3;
      acc[12] += x1 * y4 + u1 * v4; acc[13] += x1 * y5 + u1 * v5; acc[14] += x1 * y6 + u1 * v6; acc[15] += x1 * y7 + u1 * v7;
      acc[16] += x2 * y0 + u2 * v0; acc[17] += x2 * y1 + u2 * v1; acc[18] += x2 * y2 + u2 * v2; acc[19] += x2 * y3 + u2 * v3;
      acc[20] += x2 * y4 + u2 * v4; acc[21] += x2 * y5 + u2 * v5; acc[22] += x2 * y6 + u2 * v6; acc[23] += x2 * y7 + u2 * v7;
      acc[24] += x3 * y0 + u3 * v0; acc[25] += x3 * y1 + u3 * v1; acc[26] += x3 * y2 + u3 * v2; acc[27] += x3 * y3 + u3 * v3;
      acc[28] += x3 * y4 + u3 * v4; acc[29] += x3 * y5 + u3 * v5; acc[30] += x3 * y6 + u3 * v6; acc[31] += x3 * y7 + u3 * v7;
      acc[32] += x4 * y0 + u4 * v0; acc[33] += x4 * y1 + u4 * v1; acc[34] += x4 * y2 + u4 * v2; acc[35] += x4 * y3 + u4 * v3;
      acc[36] += x4 * y4 + u4 * v4; acc[37] += x4 * y5 + u4 * v5; acc[38] += x4 * y6 + u4 * v6; acc[39] += x4 * y7 + u4 * v7;
      acc[40] += x5 * y0 + u5 * v0; acc[41] += x5 * y1 + u5 * v1; acc[42] += x5 * y2 + u5 * v2; acc[43] += x5 * y3 + u5 * v3;
      acc[44] += x5 * y4 + u5 * v4; acc[45] += x5 * y5 + u5 * v5; acc[46] += x5 * y6 + u5 * v6; acc[47] += x5 * y7 + u5 * v7;
      acc[48] += x6 * y0 + u6 * v0; acc[49] += x6 * y1 + u6 * v1; acc[50] += x6 * y2 + u6 * v2; acc[51] += x6 * y3 + u6 * v3;
      acc[52] += x6 * y4 + u6 * v4; acc[53] += x6 * y5 + u6 * v5; acc[54] += x6 * y6 + u6 * v6; acc[55] += x6 * y7 + u6 * v7;
      acc[56] += x7 * y0 + u7 * v0; acc[57] += x7 * y1 + u7 * v1; acc[58] += x7 * y2 + u7 * v2; acc[59] += x7 * y3 + u7 * v3;
      acc[60] += x7 * y4 + u7 * v4; acc[61] += x7 * y5 + u7 * v5; acc[62] += x7 * y6 + u7 * v6; acc[63] += x7 * y7 + u7 * v7;
      ai = (ai + 2 * MR) | 0;
      bi = (bi + 2 * NR) | 0;
    }
    for (let i = 0; i < MR; i++) {
      const r = ci + i * ldc;
      for (let j = 0; j < NR; j++) C[r + j] += acc[i * NR + j];
    }
  };
}

function checkArgs(
  op: string, transA: boolean, transB: boolean, M: number, N: number, K: number,
  A: Float32Array, aOff: number, lda: number,
  B: Float32Array, bOff: number, ldb: number,
  C: Float32Array, cOff: number, ldc: number,
): void {
  checkCount(op, 'M', M);
  checkCount(op, 'N', N);
  checkCount(op, 'K', K);
  checkCount(op, 'aOff', aOff);
  checkCount(op, 'bOff', bOff);
  checkCount(op, 'cOff', cOff);
  checkMatrix(op, 'A', A, aOff, lda, transA ? K : M, transA ? M : K);
  checkMatrix(op, 'B', B, bOff, ldb, transB ? N : K, transB ? K : N);
  checkMatrix(op, 'C', C, cOff, ldc, M, N);
}

function checkCount(op: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0) throw new ShapeError(`${op}: ${name} must be a non-negative integer, got ${v}`);
}

function checkMatrix(op: string, name: string, X: Float32Array, off: number, ld: number, rows: number, cols: number): void {
  if (rows === 0 || cols === 0) return; // nothing is read or written, whatever the stride
  if (!Number.isInteger(ld) || ld < cols) {
    throw new ShapeError(`${op}: row stride of ${name} must be an integer ≥ ${cols} (its row length), got ${ld}`);
  }
  const need = off + (rows - 1) * ld + cols;
  if (X.length < need) {
    throw new ShapeError(`${op}: ${name} (${rows}×${cols}, offset ${off}, row stride ${ld}) needs ${need} elements, got ${X.length}`);
  }
}
