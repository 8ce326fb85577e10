/**
 * Event-driven convolution (stride 1) for sparse inputs — spike trains, or an output gradient
 * after max pooling, which is zero but at one position in each window. Only the nonzeros do
 * work, so the cost scales with the density: the convolutional counterpart of `spikeGemm`.
 *
 * One image at a time: `listEvents` lists, for every output position, the weight rows its
 * nonzero inputs meet (and the input values); `sumEvents` then sums those rows eight output
 * channels at a time in locals (registers), so each output is written once. The weight
 * gradient (`eventWeightGrad`) walks the nonzeros channel by channel and sums, for each kernel
 * tap, the output gradients they fed. Sums run in float64 and are rounded once, so results equal
 * the dense im2col + GEMM route up to float rounding (the summation order differs).
 *
 * Where WebAssembly SIMD is available, its kernels take over: `eventScatter` (./wasm.ts) adds
 * each nonzero's weight rows onto the outputs it meets — the same sums in the same order as the
 * lists, but in float32, four channels per instruction, with no lists to build — and
 * `eventGrads` does the weight gradient's float64 sums in `eventWeightGrad`'s order, to its bits.
 *
 * Layout: weights are rearranged once per call into `wt`, float64, [(c·kh + i)·kw + j, O8] with
 * the output channels innermost and padded with zeros to O8, a multiple of 8.
 *
 * The input gradient of a convolution is itself a convolution (of the output gradient with the
 * kernel flipped and its two channel axes swapped, padding kh − 1 − ph), so {@link transposedGeometry}
 * and `eventWeights(…, true)` let the same kernels compute it.
 */
import { ShapeError } from '../errors';
import type { WindowGeometry } from './conv';
import { wasmArena, wasmKernels } from './wasm';

/** Output channels rounded up to the kernels' block of 8. */
export function padChannels(O: number): number {
  return Math.ceil(O / 8) * 8;
}

/**
 * W [O, C, kh, kw] as the kernels' float64 wt [(c·kh + i)·kw + j, O8]. With `transposed`, the
 * weights of the input-gradient convolution instead: input channels O, output channels C, the
 * kernel flipped: wt[((o·kh + i)·kw + j)·C8 + c] = W[o, c, kh−1−i, kw−1−j].
 */
export function eventWeights(w: Float32Array, O: number, C: number, kh: number, kw: number, transposed: boolean): Float64Array {
  const kk = kh * kw;
  if (!transposed) {
    const O8 = padChannels(O);
    const wt = new Float64Array(C * kk * O8);
    for (let o = 0; o < O; o++) for (let r = 0; r < C * kk; r++) wt[r * O8 + o] = w[o * C * kk + r];
    return wt;
  }
  const C8 = padChannels(C);
  const wt = new Float64Array(O * kk * C8);
  for (let o = 0; o < O; o++) {
    for (let c = 0; c < C; c++) {
      const src = (o * C + c) * kk;
      for (let t = 0; t < kk; t++) wt[((o * kk) + kk - 1 - t) * C8 + c] = w[src + t];
    }
  }
  return wt;
}

/** The kernels' weight gradient dwt [(c·kh + i)·kw + j, O8] as dW [O, C, kh, kw], rounded to float32. */
export function eventWeightsBack(dwt: Float64Array, O: number, C: number, kh: number, kw: number): Float32Array {
  const O8 = padChannels(O);
  const ckk = C * kh * kw;
  const dw = new Float32Array(O * ckk);
  for (let o = 0; o < O; o++) for (let r = 0; r < ckk; r++) dw[o * ckk + r] = dwt[r * O8 + o];
  return dw;
}

/**
 * The geometry of the input-gradient convolution of a stride-1 convolution `g` over `O` output
 * channels: it reads the output gradient [O, oh, ow] and writes [c, h, w], padding kh − 1 − ph.
 */
export function transposedGeometry(g: WindowGeometry, O: number): WindowGeometry {
  return { c: O, h: g.oh, w: g.ow, kh: g.kh, kw: g.kw, sh: 1, sw: 1, ph: g.kh - 1 - g.ph, pw: g.kw - 1 - g.pw, oh: g.h, ow: g.w };
}

/** How sparse x[off .. off + n) is: its nonzeros, and whether every one of them is exactly 1 (spikes). */
export function sparsity(x: Float32Array, off: number, n: number): { nonzeros: number; unit: boolean } {
  let nz = 0;
  let other = 0;
  for (let i = off; i < off + n; i++) {
    const v = x[i];
    nz += +(v !== 0);
    other |= +(v !== 0) & +(v !== 1);
  }
  return { nonzeros: nz, unit: other === 0 };
}

/** One image's nonzero inputs, listed per output position (reused scratch, see {@link listEvents}). */
export interface EventLists {
  /** Per output position, how many entries its list holds. */
  count: Int32Array;
  /** Position p's list: weight-row offsets (row · O8) in off[p·cap …], input values in val[p·cap …] (unless unit). */
  off: Int32Array;
  val: Float64Array;
  /** Room per position: every input a window covers, C·kh·kw. */
  cap: number;
}

/** Scratch lists, grown as needed. */
export function eventLists(): EventLists {
  return { count: new Int32Array(0), off: new Int32Array(0), val: new Float64Array(0), cap: 0 };
}

/**
 * Lists, for each output position of the stride-1 convolution `g` over one image x[C, H, W]
 * (at `xOff`), the weight rows its nonzero inputs meet and their values, in the order of the
 * inputs (channel, row, column) then of the kernel taps. With `unit` (every nonzero is 1, as
 * spikes are) the values are not stored.
 */
export function listEvents(x: Float32Array, xOff: number, g: WindowGeometry, O8: number, lists: EventLists, unit: boolean): void {
  const { c: C, h, w, kh, kw, ph, pw, oh, ow } = g;
  if (g.sh !== 1 || g.sw !== 1) throw new ShapeError(`event convolution: stride must be 1, got ${g.sh}×${g.sw}`);
  const L = oh * ow;
  const cap = C * kh * kw;
  if (lists.count.length < L) lists.count = new Int32Array(L);
  if (lists.off.length < L * cap) lists.off = new Int32Array(L * cap);
  if (!unit && lists.val.length < L * cap) lists.val = new Float64Array(L * cap);
  lists.cap = cap;
  const { count, off, val } = lists;
  count.fill(0, 0, L);
  for (let c = 0; c < C; c++) {
    const plane = xOff + c * h * w;
    for (let iy = 0; iy < h; iy++) {
      const row = plane + iy * w;
      // Kernel rows i with output row oy = iy + ph − i inside [0, oh).
      const iLo = Math.max(0, iy + ph - oh + 1);
      const iHi = Math.min(kh, iy + ph + 1);
      for (let ix = 0; ix < w; ix++) {
        const v = x[row + ix];
        if (v === 0) continue;
        // Kernel columns j with output column ox = ix + pw − j inside [0, ow).
        const jLo = Math.max(0, ix + pw - ow + 1);
        const jHi = Math.min(kw, ix + pw + 1);
        for (let i = iLo; i < iHi; i++) {
          const posRow = (iy + ph - i) * ow + ix + pw;
          const tap = (c * kh + i) * kw;
          for (let j = jLo; j < jHi; j++) {
            const pos = posRow - j;
            const k = pos * cap + count[pos]++;
            off[k] = (tap + j) * O8;
            if (!unit) val[k] = v;
          }
        }
      }
    }
  }
}

/**
 * y[yOff + o·L + p] = bias[o] + Σ over p's list of value · wt[row, o], for the O output channels
 * (L = the number of output positions), rounded once to float32. With `unit` the lists hold no
 * values (all 1) and the rows are added without a multiplication.
 */
export function sumEvents(lists: EventLists, wt: Float64Array, O: number, L: number, bias: Float32Array | null, y: Float32Array, yOff: number, unit: boolean): void {
  const { count, off, val, cap } = lists;
  const O8 = padChannels(O);
  // The sums start from the bias (zero for the padded channels), so it is added before the one rounding.
  const b = new Float64Array(O8);
  if (bias !== null) b.set(bias.subarray(0, O));
  const tail = new Float64Array(8);
  for (let p = 0; p < L; p++) {
    const start = p * cap;
    const end = start + count[p];
    for (let o0 = 0; o0 < O8; o0 += 8) {
      let a0 = b[o0], a1 = b[o0 + 1], a2 = b[o0 + 2], a3 = b[o0 + 3], a4 = b[o0 + 4], a5 = b[o0 + 5], a6 = b[o0 + 6], a7 = b[o0 + 7];
      // Spikes: the same loop without the multiplications (about half the arithmetic).
      if (unit) {
        for (let k = start; k < end; k++) {
          const q = off[k] + o0;
          a0 += wt[q];
          a1 += wt[q + 1];
          a2 += wt[q + 2];
          a3 += wt[q + 3];
          a4 += wt[q + 4];
          a5 += wt[q + 5];
          a6 += wt[q + 6];
          a7 += wt[q + 7];
        }
      }
      for (let k = unit ? end : start; k < end; k++) {
        const q = off[k] + o0;
        const v = val[k];
        a0 += v * wt[q];
        a1 += v * wt[q + 1];
        a2 += v * wt[q + 2];
        a3 += v * wt[q + 3];
        a4 += v * wt[q + 4];
        a5 += v * wt[q + 5];
        a6 += v * wt[q + 6];
        a7 += v * wt[q + 7];
      }
      const n = Math.min(8, O - o0);
      const dst = yOff + o0 * L + p;
      // Padded channels (o ≥ O) are summed but never stored.
      if (n === 8) {
        y[dst] = a0;
        y[dst + L] = a1;
        y[dst + 2 * L] = a2;
        y[dst + 3 * L] = a3;
        y[dst + 4 * L] = a4;
        y[dst + 5 * L] = a5;
        y[dst + 6 * L] = a6;
        y[dst + 7 * L] = a7;
      } else {
        tail[0] = a0;
        tail[1] = a1;
        tail[2] = a2;
        tail[3] = a3;
        tail[4] = a4;
        tail[5] = a5;
        tail[6] = a6;
        for (let t = 0; t < n; t++) y[dst + t * L] = tail[t];
      }
    }
  }
}

/**
 * The stride-1 convolution of nImg sparse images x[n] (each [C, H, W], `xStride` floats apart)
 * with the kernels' weights `wt` (see {@link eventWeights}) over O output channels, plus `bias`:
 * y[n] [O, oh·ow], written (not added). The TypeScript route: {@link listEvents} then
 * {@link sumEvents} per image, in float64. Where WebAssembly SIMD is available, its kernel
 * instead scatters each nonzero's weight rows onto the outputs it meets, in float32 (see
 * `eventScatter` in ./wasm.ts): the same sums in the same order, each operation rounded to float32.
 */
export function convolveEvents(
  x: Float32Array, xStride: number, nImg: number, g: WindowGeometry, wt: Float64Array, O: number, bias: Float32Array | null, y: Float32Array, unit: boolean,
): void {
  const L = g.oh * g.ow;
  const O8 = padChannels(O);
  const n = g.c * g.h * g.w;
  // In the wasm memory from byte 0: wt (as floats), the bias, one image's nonzeros, its output rows [L, O8], its output [O, L].
  const [wtAt, biasAt, startAt, rowsAt, colsAt, valsAt, outAt, yAt, end] = layout([4 * wt.length, 4 * O8, 4 * (g.c + 1), 4 * n, 4 * n, unit ? 0 : 8 * n, 4 * L * O8, 4 * O * L]);
  const wasm = wasmKernels();
  const buf = wasm !== null && end < 2 ** 31 ? wasmArena(wasm, end) : null;
  if (wasm === null || buf === null) {
    const lists = eventLists();
    for (let i = 0; i < nImg; i++) {
      listEvents(x, i * xStride, g, O8, lists, unit);
      sumEvents(lists, wt, O, L, bias, y, i * O * L, unit);
    }
    return;
  }
  new Float32Array(buf, wtAt, wt.length).set(wt);
  const nz = nonzerosIn(g, unit, buf, [startAt, rowsAt, colsAt, valsAt]);
  const b = new Float32Array(buf, biasAt, O8).fill(0);
  if (bias !== null) b.set(bias.subarray(0, O));
  const out = new Float32Array(buf, yAt, O * L);
  for (let i = 0; i < nImg; i++) {
    listNonzeros(x, i * xStride, g, nz);
    wasm.eventScatter(g.c, g.kh, g.kw, g.ph, g.pw, g.oh, g.ow, startAt, rowsAt, colsAt, valsAt, wtAt, 4 * O8, outAt, unit ? 1 : 0, biasAt, O, yAt);
    y.set(out, i * O * L);
  }
}

/**
 * The weight gradient of the stride-1 convolution of nImg sparse images x[n] (each [C, H, W],
 * `xStride` floats apart) given the output gradients gd[n] [O, oh·ow]: dwt [(c·kh + i)·kw + j, O8]
 * summed over the images (see {@link eventWeightsBack}). {@link eventWeightGrad} per image; where
 * WebAssembly SIMD is available, its kernel does the sums, in the same order, to the same bits.
 */
export function weightGradEvents(gd: Float32Array, x: Float32Array, xStride: number, nImg: number, g: WindowGeometry, O: number, unit: boolean): Float64Array {
  if (g.sh !== 1 || g.sw !== 1) throw new ShapeError(`event convolution: stride must be 1, got ${g.sh}×${g.sw}`);
  const O8 = padChannels(O);
  const L = g.oh * g.ow;
  const n = g.c * g.h * g.w;
  const dwtLength = g.c * g.kh * g.kw * O8;
  const [dwtAt, gtAt, startAt, rowsAt, colsAt, valsAt, end] = layout([8 * dwtLength, 8 * L * O8, 4 * (g.c + 1), 4 * n, 4 * n, unit ? 0 : 8 * n]);
  const wasm = wasmKernels();
  const buf = wasm !== null ? wasmArena(wasm, end) : null;
  // The same operands either way: in the wasm memory, or in plain arrays.
  const dwt = buf !== null ? new Float64Array(buf, dwtAt, dwtLength).fill(0) : new Float64Array(dwtLength);
  const gt = buf !== null ? new Float64Array(buf, gtAt, L * O8) : new Float64Array(L * O8);
  const nz = nonzerosIn(g, unit, buf, [startAt, rowsAt, colsAt, valsAt]);
  for (let i = 0; i < nImg; i++) {
    transposeGrad(gd, i * O * L, O, L, O8, gt);
    listNonzeros(x, i * xStride, g, nz);
    if (wasm !== null && buf !== null) {
      wasm.eventGrads(g.c, g.kh, g.kw, g.ph, g.pw, g.oh, g.ow, startAt, rowsAt, colsAt, valsAt, gtAt, 8 * O8, dwtAt, unit ? 1 : 0);
    } else {
      eventWeightGrad(nz, g, gt, O8, dwt);
    }
  }
  return buf !== null ? dwt.slice() : dwt;
}

/** Byte offsets of consecutive regions of the given sizes, each 16-byte aligned, then the end. */
function layout(sizes: number[]): number[] {
  const at: number[] = [];
  let end = 0;
  for (const bytes of sizes) {
    at.push(end);
    end += Math.ceil(bytes / 16) * 16;
  }
  return [...at, end];
}

/** One image's output gradient gd[off ..] [O, L] as the kernels' gt [L, O8], float64 (padded channels stay 0). */
function transposeGrad(gd: Float32Array, off: number, O: number, L: number, O8: number, gt: Float64Array): void {
  if (O8 !== O) gt.fill(0);
  for (let o = 0; o < O; o++) {
    const src = off + o * L;
    for (let k = 0; k < L; k++) gt[k * O8 + o] = gd[src + k];
  }
}

/** Stands in for the values of spikes, which are never read. */
const noValues = new Float64Array(0);

/** One image's nonzeros, channel by channel: channel c's are entries start[c] .. start[c + 1]. */
export interface Nonzeros {
  start: Int32Array;
  rows: Int32Array;
  cols: Int32Array;
  /** Their values; null when every nonzero is 1 (spikes). */
  vals: Float64Array | null;
}

/**
 * Room for one image's nonzeros (see {@link listNonzeros}): in `buf` (the wasm memory) at the
 * byte offsets of start, rows, cols and vals, or in plain arrays when `buf` is null.
 */
function nonzerosIn(g: WindowGeometry, unit: boolean, buf: ArrayBuffer | null, [startAt, rowsAt, colsAt, valsAt]: number[]): Nonzeros {
  const n = g.c * g.h * g.w;
  if (buf === null) return { start: new Int32Array(g.c + 1), rows: new Int32Array(n), cols: new Int32Array(n), vals: unit ? null : new Float64Array(n) };
  return { start: new Int32Array(buf, startAt, g.c + 1), rows: new Int32Array(buf, rowsAt, n), cols: new Int32Array(buf, colsAt, n), vals: unit ? null : new Float64Array(buf, valsAt, n) };
}

/** Lists the nonzeros of one image x[C, H, W] (at `xOff`) into `nz`, in (channel, row, column) order. */
export function listNonzeros(x: Float32Array, xOff: number, g: WindowGeometry, nz: Nonzeros): void {
  const { start, rows, cols, vals } = nz;
  const hw = g.h * g.w;
  let k = 0;
  for (let c = 0; c < g.c; c++) {
    start[c] = k;
    const plane = xOff + c * hw;
    for (let iy = 0; iy < g.h; iy++) {
      for (let ix = 0; ix < g.w; ix++) {
        const v = x[plane + iy * g.w + ix];
        if (v === 0) continue;
        rows[k] = iy;
        cols[k] = ix;
        if (vals !== null) vals[k] = v;
        k++;
      }
    }
  }
  start[g.c] = k;
}

/**
 * Adds the weight gradient of one image, given its nonzeros (see {@link listNonzeros}), into dwt
 * [(c·kh + i)·kw + j, O8], given its output gradient gt [oh·ow, O8] channels-last:
 * dwt[(c, i, j), o] += Σ over the nonzeros x[c, iy, ix] of x · gt[(iy + ph − i, ix + pw − j), o]
 * (positions inside the output). Without values (spikes) the gradients are added without a
 * multiplication.
 */
export function eventWeightGrad(nz: Nonzeros, g: WindowGeometry, gt: Float64Array, O8: number, dwt: Float64Array): void {
  const { c: C, kh, kw, ph, pw, oh, ow } = g;
  const { start, rows: nzRow, cols: nzCol, vals } = nz;
  const unit = vals === null;
  const nzVal = vals ?? noValues;
  for (let c = 0; c < C; c++) {
    const s0 = start[c];
    const n = start[c + 1];
    if (s0 === n) continue;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const dst = ((c * kh + i) * kw + j) * O8;
        for (let o0 = 0; o0 < O8; o0 += 8) {
          let a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
          if (unit) {
            for (let s = s0; s < n; s++) {
              const oy = nzRow[s] + ph - i;
              const ox = nzCol[s] + pw - j;
              if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
              const q = (oy * ow + ox) * O8 + o0;
              a0 += gt[q];
              a1 += gt[q + 1];
              a2 += gt[q + 2];
              a3 += gt[q + 3];
              a4 += gt[q + 4];
              a5 += gt[q + 5];
              a6 += gt[q + 6];
              a7 += gt[q + 7];
            }
          }
          for (let s = unit ? n : s0; s < n; s++) {
            const oy = nzRow[s] + ph - i;
            const ox = nzCol[s] + pw - j;
            if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
            const q = (oy * ow + ox) * O8 + o0;
            const v = nzVal[s];
            a0 += v * gt[q];
            a1 += v * gt[q + 1];
            a2 += v * gt[q + 2];
            a3 += v * gt[q + 3];
            a4 += v * gt[q + 4];
            a5 += v * gt[q + 5];
            a6 += v * gt[q + 6];
            a7 += v * gt[q + 7];
          }
          const d = dst + o0;
          dwt[d] += a0;
          dwt[d + 1] += a1;
          dwt[d + 2] += a2;
          dwt[d + 3] += a3;
          dwt[d + 4] += a4;
          dwt[d + 5] += a5;
          dwt[d + 6] += a6;
          dwt[d + 7] += a7;
        }
      }
    }
  }
}
