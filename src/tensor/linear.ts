/**
 * The kernels behind the fused `linear` op: y = x·Wᵀ + b over rows of x [rows, in], dense
 * (one GEMM) or event-driven when x is a sparse spike train, and its gradients. Raw loops
 * only; the autograd rule that calls them is `linear` in ../autograd/fused.ts.
 */
import { gemm } from './gemm';
import { transposeInto } from './layout';
import { type SpikeIndex, spikeGemm, spikeIndex, splitRepeats, transposeIndex } from './spikes';
import type { Tensor } from './tensor';

/**
 * Spike trains denser than this take the dense GEMM: bench/spikes.ts measures the
 * event-driven kernels 1.1× faster than the dense GEMM at half ones and slower at 0.6.
 * `conv2d` uses the same bound for its inputs and output gradients (its event-driven route
 * measured 1.5–1.8× faster than im2col + GEMM at 0.4).
 */
export const EVENT_MAX_DENSITY = 0.5;

/**
 * The spikes of a binary input, indexed for the event-driven kernels: all of them in `rest`,
 * or, when many repeat along the leading (time) axis of L steps, the repeating ones once in
 * `common` [R, in] and the others in `rest` [L·R, in].
 */
export interface InputEvents {
  readonly steps: number;
  readonly common: SpikeIndex | null;
  readonly rest: SpikeIndex;
}

/** Indexes a binary x [..., in] for the event-driven kernels, or null when it is too dense for them to pay. */
export function inputEvents(x: Tensor, rows: number, inF: number): InputEvents | null {
  if (!x.binary) return null;
  const L = x.ndim >= 3 ? x.shape[0] : 1;
  const split = L > 1 ? splitRepeats(x.data, L, rows / L, inF) : null;
  const events: InputEvents = split !== null ? { steps: L, ...split } : { steps: 1, common: null, rest: spikeIndex(x.data, rows, inF) };
  const ones = events.rest.idx.length + L * (events.common?.idx.length ?? 0);
  return ones > EVENT_MAX_DENSITY * rows * inF ? null : events;
}

/** y[rows, out] = x[rows, in]·Wᵀ + b, written into `y`; event-driven when `events` indexes a binary x. */
export function linearForward(
  x: Float32Array, w: Float32Array, b: Float32Array | null, rows: number, inF: number, outF: number, y: Float32Array, events: InputEvents | null,
): void {
  if (events === null) {
    if (b !== null) for (let r = 0; r < rows; r++) y.set(b, r * outF);
    gemm(false, true, rows, outF, inF, x, 0, inF, w, 0, inF, y, 0, outF, b !== null);
    return;
  }
  // Each output row is the sum of the rows of Wᵀ at that row's spikes (plus the bias); the
  // repeating spikes' sum is formed once per sample and copied into every step.
  const { steps, common, rest } = events;
  const head = common === null ? rows : rows / steps;
  if (b !== null) for (let r = 0; r < head; r++) y.set(b, r * outF);
  if (common !== null) {
    spikeGemm(common, w, outF, y, b !== null, true);
    for (let l = 1; l < steps; l++) y.copyWithin(l * head * outF, 0, head * outF);
  }
  spikeGemm(rest, w, outF, y, b !== null || common !== null, true);
}

/** dX[rows, in] = G[rows, out]·W[out, in]. */
export function linearInputGrad(g: Float32Array, w: Float32Array, rows: number, inF: number, outF: number): Float32Array {
  const d = new Float32Array(rows * inF);
  gemm(false, false, rows, inF, outF, g, 0, outF, w, 0, inF, d, 0, inF, false);
  return d;
}

/** dW[out, in] = Gᵀ[out, rows]·X[rows, in]; for spikes, dWᵀ[in, :] sums the rows of G where input `in` fired. */
export function linearWeightGrad(g: Float32Array, x: Float32Array, rows: number, inF: number, outF: number, events: InputEvents | null): Float32Array {
  const dw = new Float32Array(outF * inF);
  if (events === null) {
    gemm(true, false, outF, inF, rows, g, 0, outF, x, 0, inF, dw, 0, inF, false);
    return dw;
  }
  const { steps, common, rest } = events;
  const dwt = new Float32Array(inF * outF);
  // A spike repeating at every step meets the sum of G over the steps (G as L rows of R·out).
  if (common !== null) spikeGemm(transposeIndex(common), columnSums(g, steps, (rows / steps) * outF), outF, dwt);
  spikeGemm(transposeIndex(rest), g, outF, dwt, common !== null);
  transposeInto(dwt, inF, outF, dw);
  return dw;
}

/**
 * Σ over rows of a [rows, cols] matrix, accumulated in double precision, four rows per sweep
 * (a quarter of the running sums' loads and stores: 1.9× as fast on [2048, 512]).
 */
export function columnSums(a: Float32Array, rows: number, cols: number): Float32Array {
  const acc = new Float64Array(cols);
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const o0 = r * cols;
    const o1 = o0 + cols;
    const o2 = o1 + cols;
    const o3 = o2 + cols;
    for (let j = 0; j < cols; j++) acc[j] += a[o0 + j] + a[o1 + j] + (a[o2 + j] + a[o3 + j]);
  }
  for (; r < rows; r++) {
    const o = r * cols;
    for (let j = 0; j < cols; j++) acc[j] += a[o + j];
  }
  const out = new Float32Array(cols);
  for (let j = 0; j < cols; j++) out[j] = acc[j];
  return out;
}
