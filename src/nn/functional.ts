/**
 * Differentiable layer functions (the counterpart of `torch.nn.functional`). `linear`,
 * `conv2d`, the pools and `batchNorm` are each ONE autograd node with a hand-written
 * backward over raw kernels; `layerNorm`, `dropout` and `flatten` are composed from the
 * autograd primitives and need no backward rule of their own.
 *
 * Time folding: every function here treats all leading axes as batch, so a spike train
 * [T, B, ...] runs as one batch of T·B samples (one GEMM for all time steps) and comes back
 * as [T, B, ...].
 */
import * as F from '../autograd/functional';
import { record } from '../autograd/engine';
import { OptionError, ShapeError, fmtShape } from '../errors';
import type { Rng } from '../rng';
import {
  type Pair,
  type WindowGeometry,
  avgPool2dPlanes,
  avgPool2dPlanesBackward,
  checkPoolPadding,
  col2im,
  im2col,
  maxPool2dPlanes,
  windowGeometry,
} from '../tensor/conv';
import { gemm } from '../tensor/gemm';
import {
  convolveEvents,
  eventWeights,
  eventWeightsBack,
  sparsity,
  transposedGeometry,
  weightGradEvents,
} from '../tensor/eventconv';
import { type SpikeIndex, spikeGemm, spikeIndex, splitRepeats, transposeIndex } from '../tensor/spikes';
import { transposeInto } from '../tensor/layout';
import { normAxis, sizeOf } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';

// ------------------------------------------------------------------------------ linear

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
interface InputEvents {
  readonly steps: number;
  readonly common: SpikeIndex | null;
  readonly rest: SpikeIndex;
}

/** Indexes a binary x [..., in] for the event-driven kernels, or null when it is too dense for them to pay. */
function inputEvents(x: Tensor, rows: number, inF: number): InputEvents | null {
  if (!x.binary) return null;
  const L = x.ndim >= 3 ? x.shape[0] : 1;
  const split = L > 1 ? splitRepeats(x.data, L, rows / L, inF) : null;
  const events: InputEvents = split !== null ? { steps: L, ...split } : { steps: 1, common: null, rest: spikeIndex(x.data, rows, inF) };
  const ones = events.rest.idx.length + L * (events.common?.idx.length ?? 0);
  return ones > EVENT_MAX_DENSITY * rows * inF ? null : events;
}

/** y[rows, out] = x[rows, in]·Wᵀ + b, written into `y`; event-driven when `events` indexes a binary x. */
function linearForward(x: Tensor, w: Tensor, b: Tensor | null, rows: number, inF: number, outF: number, y: Float32Array, events: InputEvents | null): void {
  if (events === null) {
    if (b !== null) for (let r = 0; r < rows; r++) y.set(b.data, r * outF);
    gemm(false, true, rows, outF, inF, x.data, 0, inF, w.data, 0, inF, y, 0, outF, b !== null);
    return;
  }
  // Each output row is the sum of the rows of Wᵀ at that row's spikes (plus the bias); the
  // repeating spikes' sum is formed once per sample and copied into every step.
  const { steps, common, rest } = events;
  const head = common === null ? rows : rows / steps;
  if (b !== null) for (let r = 0; r < head; r++) y.set(b.data, r * outF);
  if (common !== null) {
    spikeGemm(common, w.data, outF, y, b !== null, true);
    for (let l = 1; l < steps; l++) y.copyWithin(l * head * outF, 0, head * outF);
  }
  spikeGemm(rest, w.data, outF, y, b !== null || common !== null, true);
}

/** dW[out, in] = Gᵀ[out, rows]·X[rows, in]; for spikes, dWᵀ[in, :] sums the rows of G where input `in` fired. */
function linearWeightGrad(g: Float32Array, x: Tensor, rows: number, inF: number, outF: number, events: InputEvents | null): Float32Array {
  const dw = new Float32Array(outF * inF);
  if (events === null) {
    gemm(true, false, outF, inF, rows, g, 0, outF, x.data, 0, inF, dw, 0, inF, false);
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
 * y = x·Wᵀ + b for x [..., in], W [out, in], b [out] → [..., out]. All leading axes of x
 * are folded into the rows of one GEMM, so [T, B, in] costs one product for all T steps.
 * One autograd node: dX = G·W, dW = Gᵀ·X, db = Σ_rows G, each a GEMM with transpose flags
 * (no transposed copies).
 *
 * A binary x (spikes, density ≤ `EVENT_MAX_DENSITY` = 0.5) takes the event-driven kernels; when
 * x has 3 or more axes and many of its ones repeat at every step of the leading (time) axis —
 * a Poisson encoding's bright pixels — those are summed once per sample and shared by all steps,
 * in the product and in dW.
 *
 * @example
 * ```ts
 * const y = linear(spikes, weight, bias); // [T, B, 784] → [T, B, 512]
 * ```
 */
export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor {
  if (weight.ndim !== 2) throw new ShapeError(`linear: expected a weight [out, in], got ${fmtShape(weight.shape)}`);
  const [outF, inF] = weight.shape;
  if (x.ndim < 1 || x.shape[x.ndim - 1] !== inF) {
    throw new ShapeError(`linear: input ${fmtShape(x.shape)} must end with the weight's ${inF} input features (weight ${fmtShape(weight.shape)})`);
  }
  if (bias !== null && (bias.ndim !== 1 || bias.shape[0] !== outF)) {
    throw new ShapeError(`linear: expected a bias [${outF}] for weight ${fmtShape(weight.shape)}, got ${fmtShape(bias.shape)}`);
  }
  const rows = sizeOf(x.shape.slice(0, -1));
  const y = new Float32Array(rows * outF);
  // A binary input (spikes) goes event-driven when sparse enough; the index also serves backward.
  const events = inputEvents(x, rows, inF);
  linearForward(x, weight, bias, rows, inF, outF, y, events);
  const out = new Tensor(y, [...x.shape.slice(0, -1), outF]);
  return record('linear', out, bias !== null ? [x, weight, bias] : [x, weight], (g) => {
    const gd = g.data;
    let dx: Tensor | null = null;
    if (x.requiresGrad) {
      const d = new Float32Array(x.size);
      gemm(false, false, rows, inF, outF, gd, 0, outF, weight.data, 0, inF, d, 0, inF, false);
      dx = new Tensor(d, x.shape);
    }
    const dw = weight.requiresGrad ? new Tensor(linearWeightGrad(gd, x, rows, inF, outF, events), weight.shape) : null;
    const db = bias !== null && bias.requiresGrad ? new Tensor(columnSums(gd, rows, outF), bias.shape) : null;
    return [dx, dw, db];
  });
}

/**
 * Σ over rows of a [rows, cols] matrix, accumulated in double precision, four rows per sweep
 * (a quarter of the running sums' loads and stores: 1.9× as fast on [2048, 512]).
 */
function columnSums(a: Float32Array, rows: number, cols: number): Float32Array {
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

// ------------------------------------------------------------------------------ conv2d

/** Options of {@link conv2d}. */
export interface Conv2dOptions {
  /** Step of the window, one number or [h, w]. Default 1. */
  stride?: Pair;
  /** Zeros added on each side, one number or [h, w]. Default 0. */
  padding?: Pair;
}

/**
 * Floats of im2col buffer per chunk of images: several images share one GEMM (wider
 * matrices amortise the GEMM's overhead) while the buffer stays in cache. 2^18 floats (1 MiB)
 * measured best among 1 image, 2^16, 2^18 and 2^20 floats on the conv encoder's shapes
 * (bench/layers.ts), though within the noise of a shared machine.
 */
const COL_BUDGET = 1 << 18;

interface ConvPlan {
  geo: WindowGeometry;
  nImg: number;
  imgSize: number;
  outC: number;
  ckk: number;
  l: number;
  chunk: number;
  /** The input is sparse enough and the stride 1: the forward and dW go event-driven. */
  events: boolean;
  /** Every nonzero of the input is 1 (spikes): the event kernels add without multiplying. */
  unit: boolean;
}

/** Gathers images n0..n0+nb−1 of a [n, outC, L] tensor into [outC, nb·L] (and back, `scatter`). */
function gatherChunk(src: Float32Array, dst: Float32Array, n0: number, nb: number, outC: number, l: number): void {
  const ld = nb * l;
  for (let j = 0; j < nb; j++) {
    for (let o = 0; o < outC; o++) {
      const s = ((n0 + j) * outC + o) * l;
      dst.set(src.subarray(s, s + l), o * ld + j * l);
    }
  }
}

/**
 * 2-D cross-correlation (PyTorch's `conv2d`) of x [..., C, H, W] with W [O, C, kh, kw] and
 * optional bias [O] → [..., O, OH, OW], OH = ⌊(H + 2·ph − kh)/sh⌋ + 1. All axes before
 * the last three are batch, so [N, C, H, W], time-folded [T, N, C, H, W] and unbatched
 * [C, H, W] all work. Computed by im2col + GEMM, several images per GEMM; one autograd node
 * whose backward is dW = G·colᵀ and dX = col2im(Wᵀ·G).
 *
 * With stride 1, a sparse x (spikes; nonzeros ≤ `EVENT_MAX_DENSITY` = 0.5) takes event-driven
 * kernels for the output and dW instead, whose cost scales with the density; likewise dX when
 * the output gradient is sparse, as after max pooling (one nonzero per window).
 *
 * @example
 * ```ts
 * const y = conv2d(x, weight, bias, { padding: 1 }); // [T, N, 1, 28, 28] → [T, N, 16, 28, 28]
 * ```
 */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, options: Conv2dOptions = {}): Tensor {
  if (weight.ndim !== 4) throw new ShapeError(`conv2d: expected a weight [out, in, kh, kw], got ${fmtShape(weight.shape)}`);
  const [outC, inC, kh, kw] = weight.shape;
  if (x.ndim < 3 || x.shape[x.ndim - 3] !== inC) {
    throw new ShapeError(`conv2d: expected an input [..., ${inC}, H, W] for weight ${fmtShape(weight.shape)}, got ${fmtShape(x.shape)}`);
  }
  if (bias !== null && (bias.ndim !== 1 || bias.shape[0] !== outC)) {
    throw new ShapeError(`conv2d: expected a bias [${outC}] for weight ${fmtShape(weight.shape)}, got ${fmtShape(bias.shape)}`);
  }
  const h = x.shape[x.ndim - 2];
  const w = x.shape[x.ndim - 1];
  const geo = windowGeometry('conv2d', inC, h, w, [kh, kw], options.stride ?? 1, options.padding ?? 0);
  const lead = x.shape.slice(0, -3);
  const l = geo.oh * geo.ow;
  const ckk = inC * kh * kw;
  const nImg = sizeOf(lead);
  // The density pass only where the event route could apply.
  const sparse = stride1(geo) && l * ckk <= EVENT_LIST_MAX ? sparsity(x.data, 0, x.size) : null;
  const p: ConvPlan = {
    geo,
    nImg,
    imgSize: inC * h * w,
    outC,
    ckk,
    l,
    chunk: Math.max(1, Math.min(nImg, Math.floor(COL_BUDGET / Math.max(1, ckk * l)))),
    events: sparse !== null && sparse.nonzeros <= EVENT_MAX_DENSITY * x.size,
    unit: sparse?.unit ?? false,
  };
  const y = new Float32Array(nImg * outC * l);
  if (p.events) convEvents(x.data, weight.data, bias?.data ?? null, p, y);
  else convDense(x.data, weight.data, bias?.data ?? null, p, y);
  const out = new Tensor(y, [...lead, outC, geo.oh, geo.ow]);
  return record('conv2d', out, bias !== null ? [x, weight, bias] : [x, weight], (g) => conv2dBackward(g.data, x, weight, bias, p));
}

/** y = conv(x, W) + b by im2col + GEMM, a chunk of images per GEMM. */
function convDense(x: Float32Array, w: Float32Array, b: Float32Array | null, p: ConvPlan, y: Float32Array): void {
  const { geo, nImg, imgSize, outC, ckk, l, chunk } = p;
  const col = new Float32Array(ckk * chunk * l);
  const tmp = new Float32Array(outC * chunk * l);
  for (let n0 = 0; n0 < nImg; n0 += chunk) {
    const nb = Math.min(chunk, nImg - n0);
    const ld = nb * l;
    for (let j = 0; j < nb; j++) im2col(x, (n0 + j) * imgSize, geo, col, j * l, ld);
    gemm(false, false, outC, ld, ckk, w, 0, ckk, col, 0, ld, tmp, 0, ld, false);
    for (let j = 0; j < nb; j++) {
      for (let o = 0; o < outC; o++) {
        const src = o * ld + j * l;
        const dst = ((n0 + j) * outC + o) * l;
        const bo = b !== null ? b[o] : 0;
        for (let k = 0; k < l; k++) y[dst + k] = tmp[src + k] + bo;
      }
    }
  }
}

/**
 * The event lists of one image hold room for every (position, tap) pair: beyond this many
 * entries (48 MiB of scratch) a convolution takes the dense route instead. The conv encoder's
 * largest, 28·28 positions × 25 taps or 14·14 × 800, are far below it.
 */
const EVENT_LIST_MAX = 1 << 22;

/** The event-driven kernels (tensor/eventconv.ts) handle stride 1 only. */
function stride1(g: WindowGeometry): boolean {
  return g.sh === 1 && g.sw === 1;
}

/** y = conv(x, W) + b for a sparse x, image by image: each output sums the weight rows its nonzero inputs meet. */
function convEvents(x: Float32Array, w: Float32Array, b: Float32Array | null, p: ConvPlan, y: Float32Array): void {
  const { geo, nImg, imgSize, outC } = p;
  convolveEvents(x, imgSize, nImg, geo, eventWeights(w, outC, geo.c, geo.kh, geo.kw, false), outC, b, y, p.unit);
}

/** dX for a sparse output gradient (as after max pooling): the convolution of G with the flipped, transposed kernel. */
function convInputGradEvents(gd: Float32Array, w: Float32Array, p: ConvPlan, dx: Float32Array): void {
  const { geo, nImg, outC, l } = p;
  convolveEvents(gd, outC * l, nImg, transposedGeometry(geo, outC), eventWeights(w, outC, geo.c, geo.kh, geo.kw, true), geo.c, null, dx, false);
}

/** dW = Σ_images G·colᵀ for a sparse x: for each kernel tap, the output gradients at the nonzeros it met. */
function convWeightGradEvents(gd: Float32Array, x: Float32Array, p: ConvPlan): Float32Array {
  const { geo, nImg, imgSize, outC } = p;
  return eventWeightsBack(weightGradEvents(gd, x, imgSize, nImg, geo, outC, p.unit), outC, geo.c, geo.kh, geo.kw);
}

function conv2dBackward(gd: Float32Array, x: Tensor, weight: Tensor, bias: Tensor | null, p: ConvPlan): (Tensor | null)[] {
  const { geo, nImg, imgSize, outC, ckk, l, chunk, events } = p;
  const dx = x.requiresGrad ? new Float32Array(x.size) : null;
  const dw = !weight.requiresGrad ? null : events ? convWeightGradEvents(gd, x.data, p) : new Float32Array(weight.size);
  const denseDw = dw !== null && !events;
  // The output gradient of a max-pooled convolution is zero but at one position per window.
  const sparseDx =
    dx !== null && stride1(geo) && geo.h * geo.w * outC * geo.kh * geo.kw <= EVENT_LIST_MAX && sparsity(gd, 0, gd.length).nonzeros <= EVENT_MAX_DENSITY * gd.length;
  if (dx && sparseDx) convInputGradEvents(gd, weight.data, p, dx);
  const denseDx = dx !== null && !sparseDx;
  if (denseDw || denseDx) {
    const gc = new Float32Array(outC * chunk * l);
    const col = denseDw ? new Float32Array(ckk * chunk * l) : null;
    const dcol = denseDx ? new Float32Array(ckk * chunk * l) : null;
    for (let n0 = 0; n0 < nImg; n0 += chunk) {
      const nb = Math.min(chunk, nImg - n0);
      const ld = nb * l;
      gatherChunk(gd, gc, n0, nb, outC, l);
      if (dw && col) {
        // dW[O, CKK] += G[O, ld]·colᵀ
        for (let j = 0; j < nb; j++) im2col(x.data, (n0 + j) * imgSize, geo, col, j * l, ld);
        gemm(false, true, outC, ckk, ld, gc, 0, ld, col, 0, ld, dw, 0, ckk, n0 > 0);
      }
      if (dx && dcol) {
        // dcol[CKK, ld] = Wᵀ·G, folded back onto the images.
        gemm(true, false, ckk, ld, outC, weight.data, 0, ckk, gc, 0, ld, dcol, 0, ld, false);
        for (let j = 0; j < nb; j++) col2im(dcol, j * l, ld, geo, dx, (n0 + j) * imgSize);
      }
    }
  }
  let db: Tensor | null = null;
  if (bias !== null && bias.requiresGrad) {
    const acc = new Float64Array(outC);
    for (let n = 0; n < nImg; n++) {
      for (let o = 0; o < outC; o++) {
        const base = (n * outC + o) * l;
        let s = 0;
        for (let k = 0; k < l; k++) s += gd[base + k];
        acc[o] += s;
      }
    }
    db = new Tensor(Float32Array.from(acc), bias.shape);
  }
  return [dx ? new Tensor(dx, x.shape) : null, dw ? new Tensor(dw, weight.shape) : null, db];
}

// ------------------------------------------------------------------------------ pooling

/** Options of {@link maxPool2d}. */
export interface MaxPool2dOptions {
  /** Default: the kernel size (non-overlapping windows). */
  stride?: Pair;
  /** −∞ added on each side; at most half the kernel. Default 0. */
  padding?: Pair;
}

/** Options of {@link avgPool2d}. */
export interface AvgPool2dOptions extends MaxPool2dOptions {
  /** Divide by kh·kw even where the window covers padding (PyTorch's default, true), or by the covered input elements. */
  countIncludePad?: boolean;
}

function poolGeometry(op: string, x: Tensor, kernel: Pair, options: MaxPool2dOptions): { geo: WindowGeometry; planes: number } {
  if (x.ndim < 3) throw new ShapeError(`${op}: expected an input [..., C, H, W] with at least 3 dimensions, got ${fmtShape(x.shape)}`);
  const h = x.shape[x.ndim - 2];
  const w = x.shape[x.ndim - 1];
  const geo = windowGeometry(op, 1, h, w, kernel, options.stride ?? kernel, options.padding ?? 0);
  checkPoolPadding(geo, op);
  return { geo, planes: sizeOf(x.shape.slice(0, -2)) };
}

/**
 * 2-D max pooling over the last two axes of x [..., H, W] (every leading axis is batch or
 * channel, so [N, C, H, W] and [T, N, C, H, W] both work). Each output takes the maximum of
 * its window; the gradient goes to the first maximal element of the window in row-major
 * order, as in PyTorch.
 *
 * @example
 * ```ts
 * const y = maxPool2d(x, 2); // [T, N, 16, 28, 28] → [T, N, 16, 14, 14]
 * ```
 */
export function maxPool2d(x: Tensor, kernel: Pair, options: MaxPool2dOptions = {}): Tensor {
  const { geo, planes } = poolGeometry('maxPool2d', x, kernel, options);
  const n = planes * geo.oh * geo.ow;
  const y = new Float32Array(n);
  const argmax = new Int32Array(n);
  maxPool2dPlanes(x.data, planes, geo, y, argmax);
  const out = new Tensor(y, [...x.shape.slice(0, -2), geo.oh, geo.ow]);
  return record('maxPool2d', out, [x], (g) => {
    const dx = new Float32Array(x.size);
    const gd = g.data;
    for (let i = 0; i < n; i++) dx[argmax[i]] += gd[i];
    return [new Tensor(dx, x.shape)];
  });
}

/**
 * 2-D average pooling over the last two axes of x [..., H, W]; the gradient of each
 * output is spread evenly over its window.
 *
 * @example
 * ```ts
 * const y = avgPool2d(x, 2); // [N, C, 28, 28] → [N, C, 14, 14]
 * ```
 */
export function avgPool2d(x: Tensor, kernel: Pair, options: AvgPool2dOptions = {}): Tensor {
  const { geo, planes } = poolGeometry('avgPool2d', x, kernel, options);
  const countIncludePad = options.countIncludePad ?? true;
  const y = new Float32Array(planes * geo.oh * geo.ow);
  avgPool2dPlanes(x.data, planes, geo, y, countIncludePad);
  const out = new Tensor(y, [...x.shape.slice(0, -2), geo.oh, geo.ow]);
  return record('avgPool2d', out, [x], (g) => {
    const dx = new Float32Array(x.size);
    avgPool2dPlanesBackward(g.data, planes, geo, dx, countIncludePad);
    return [new Tensor(dx, x.shape)];
  });
}

// ------------------------------------------------------------------------------ batch norm

/** Options of {@link batchNorm}. */
export interface BatchNormOptions {
  /** Per-channel scale γ [C] (null: 1). */
  weight?: Tensor | null;
  /** Per-channel shift β [C] (null: 0). */
  bias?: Tensor | null;
  /** Running mean [C], updated in place in training mode; used for normalising in eval mode. */
  runningMean?: Tensor | null;
  /** Running (unbiased) variance [C], like `runningMean`. */
  runningVar?: Tensor | null;
  /** Normalise with the batch's statistics (and update the running ones). Default true. */
  training?: boolean;
  /** Weight of the new batch in the running statistics. Default 0.1. */
  momentum?: number;
  /** Added to the variance before the square root. Default 1e-5. */
  eps?: number;
  /**
   * Training mode: filled with the batch's per-channel mean and unbiased variance (what the
   * running statistics move towards), in double precision.
   */
  batchStats?: BatchStats;
}

/** One batch's per-channel statistics, as the running statistics see them. */
export interface BatchStats {
  mean: Float64Array;
  /** The unbiased variance σ²·n/(n − 1). */
  variance: Float64Array;
}

/**
 * Moves running statistics towards one batch's: r ← (1 − m)·r + m·s, per channel, computed in
 * double precision and stored as float32.
 */
export function updateRunningStats(runningMean: Tensor, runningVar: Tensor, stats: BatchStats, momentum: number): void {
  const c = runningMean.size;
  if (runningVar.size !== c || stats.mean.length !== c || stats.variance.length !== c) {
    throw new ShapeError(`updateRunningStats: expected ${c} channels everywhere, got running_var ${runningVar.size}, mean ${stats.mean.length}, variance ${stats.variance.length}`);
  }
  for (let ch = 0; ch < c; ch++) {
    runningMean.data[ch] = (1 - momentum) * runningMean.data[ch] + momentum * stats.mean[ch];
    runningVar.data[ch] = (1 - momentum) * runningVar.data[ch] + momentum * stats.variance[ch];
  }
}

function checkChannelVector(t: Tensor | null | undefined, c: number, name: string): Tensor | null {
  if (t === null || t === undefined) return null;
  if (t.ndim !== 1 || t.shape[0] !== c) throw new ShapeError(`batchNorm: expected ${name} of shape [${c}], got ${fmtShape(t.shape)}`);
  return t;
}

/**
 * Batch normalisation with channels on `channelAxis`; the statistics of each channel run
 * over every other axis (so for time-folded input, over T × batch):
 *
 *   y = γ·(x − μ)/√(σ² + ε) + β
 *
 * In training mode μ and σ² are the batch mean and biased variance, and the running
 * statistics (if given) move by `momentum`: r ← (1 − m)·r + m·s, with the unbiased variance
 * σ²·n/(n − 1) for `runningVar`. In eval mode μ and σ² are the running statistics. One
 * autograd node; the backward in training mode is
 * dx = γ/√(σ² + ε)·(g − mean(g) − x̂·mean(g·x̂)), dγ = Σ g·x̂, dβ = Σ g.
 *
 * @example
 * ```ts
 * // current [T, B, F], features last
 * const y = batchNorm(current, -1, { weight, bias, runningMean, runningVar, training: true });
 * ```
 */
export function batchNorm(x: Tensor, channelAxis: number, options: BatchNormOptions = {}): Tensor {
  const axis = normAxis(channelAxis, x.ndim, 'batchNorm');
  const c = x.shape[axis];
  const weight = checkChannelVector(options.weight, c, 'weight');
  const bias = checkChannelVector(options.bias, c, 'bias');
  const runningMean = checkChannelVector(options.runningMean, c, 'runningMean');
  const runningVar = checkChannelVector(options.runningVar, c, 'runningVar');
  const training = options.training ?? true;
  const momentum = options.momentum ?? 0.1;
  const eps = options.eps ?? 1e-5;
  if (!(eps >= 0 && Number.isFinite(eps))) throw new OptionError(`batchNorm: eps must be a finite number ≥ 0, got ${eps}`);
  if (!(momentum >= 0 && momentum <= 1)) throw new OptionError(`batchNorm: momentum must be in [0, 1], got ${momentum}`);
  if ((runningMean === null) !== (runningVar === null)) throw new OptionError('batchNorm: give both runningMean and runningVar, or neither');
  const outer = sizeOf(x.shape.slice(0, axis));
  const inner = sizeOf(x.shape.slice(axis + 1));
  const n = outer * inner;
  const xd = x.data;
  const mean = new Float64Array(c);
  const invstd = new Float64Array(c);
  if (training) {
    if (n <= 1) throw new ShapeError(`batchNorm: training needs more than one value per channel, got input ${fmtShape(x.shape)} with channels on axis ${axis}`);
    const sq = new Float64Array(c);
    channelMeanAndSquares(xd, outer, c, inner, mean, sq);
    for (let ch = 0; ch < c; ch++) invstd[ch] = 1 / Math.sqrt(sq[ch] / n + eps);
    const stats = options.batchStats ?? (runningMean !== null ? { mean: new Float64Array(c), variance: new Float64Array(c) } : null);
    if (stats !== null) {
      if (stats.mean.length !== c || stats.variance.length !== c) throw new ShapeError(`batchNorm: batchStats must hold ${c} channels, got ${stats.mean.length} and ${stats.variance.length}`);
      stats.mean.set(mean);
      for (let ch = 0; ch < c; ch++) stats.variance[ch] = sq[ch] / (n - 1);
      if (runningMean !== null && runningVar !== null) updateRunningStats(runningMean, runningVar, stats, momentum);
    }
  } else {
    if (runningMean === null || runningVar === null) throw new OptionError('batchNorm: eval mode (training: false) needs runningMean and runningVar');
    for (let ch = 0; ch < c; ch++) {
      mean[ch] = runningMean.data[ch];
      invstd[ch] = 1 / Math.sqrt(runningVar.data[ch] + eps);
    }
  }
  // y = x·scale + shift with scale = γ/√(σ² + ε), shift = β − μ·scale.
  const scale = new Float64Array(c);
  const shift = new Float64Array(c);
  for (let ch = 0; ch < c; ch++) {
    scale[ch] = (weight !== null ? weight.data[ch] : 1) * invstd[ch];
    shift[ch] = (bias !== null ? bias.data[ch] : 0) - mean[ch] * scale[ch];
  }
  const y = new Float32Array(x.size);
  scaleShift(xd, y, outer, c, inner, scale, shift);
  const inputs: Tensor[] = [x];
  if (weight !== null) inputs.push(weight);
  if (bias !== null) inputs.push(bias);
  return record('batchNorm', new Tensor(y, x.shape), inputs, (g) => {
    const gd = g.data;
    // Σ g and Σ g·x̂ per channel, x̂ = (x − μ)·invstd.
    const sumG = new Float64Array(c);
    const sumGX = new Float64Array(c);
    channelGradSums(gd, xd, outer, c, inner, mean, sumG, sumGX);
    for (let ch = 0; ch < c; ch++) sumGX[ch] *= invstd[ch];
    let dx: Tensor | null = null;
    if (x.requiresGrad) {
      const d = new Float32Array(x.size);
      if (training) {
        // dx = scale·(g − mean(g) − (x − μ)·invstd·mean(g·x̂)) = g·scale + (x − μ)·a + b per channel.
        const a = new Float64Array(c);
        const b = new Float64Array(c);
        for (let ch = 0; ch < c; ch++) {
          a[ch] = (-scale[ch] * invstd[ch] * sumGX[ch]) / n;
          b[ch] = (-scale[ch] * sumG[ch]) / n;
        }
        inputGrad(gd, xd, d, outer, c, inner, scale, mean, a, b);
      } else {
        scaleShift(gd, d, outer, c, inner, scale, new Float64Array(c));
      }
      dx = new Tensor(d, x.shape);
    }
    const grads: (Tensor | null)[] = [dx];
    if (weight !== null) grads.push(weight.requiresGrad ? new Tensor(Float32Array.from(sumGX), weight.shape) : null);
    if (bias !== null) grads.push(bias.requiresGrad ? new Tensor(Float32Array.from(sumG), bias.shape) : null);
    return grads;
  });
}

/** mean[ch] = Σ x / n and sq[ch] = Σ (x − mean)² over x viewed as [outer, c, inner]. */
function channelMeanAndSquares(xd: Float32Array, outer: number, c: number, inner: number, mean: Float64Array, sq: Float64Array): void {
  const n = outer * inner;
  if (inner === 1) {
    // Channels last ([rows, c], BatchNorm1d and time-folded currents): plain row sweeps.
    for (let o = 0; o < outer; o++) {
      const base = o * c;
      for (let ch = 0; ch < c; ch++) mean[ch] += xd[base + ch];
    }
    for (let ch = 0; ch < c; ch++) mean[ch] /= n;
    for (let o = 0; o < outer; o++) {
      const base = o * c;
      for (let ch = 0; ch < c; ch++) {
        const d = xd[base + ch] - mean[ch];
        sq[ch] += d * d;
      }
    }
    return;
  }
  for (let o = 0; o < outer; o++) {
    for (let ch = 0; ch < c; ch++) {
      const base = (o * c + ch) * inner;
      let s = 0;
      for (let i = 0; i < inner; i++) s += xd[base + i];
      mean[ch] += s;
    }
  }
  for (let ch = 0; ch < c; ch++) mean[ch] /= n;
  for (let o = 0; o < outer; o++) {
    for (let ch = 0; ch < c; ch++) {
      const base = (o * c + ch) * inner;
      const m = mean[ch];
      let s = 0;
      for (let i = 0; i < inner; i++) {
        const d = xd[base + i] - m;
        s += d * d;
      }
      sq[ch] += s;
    }
  }
}

/** y = x·scale[ch] + shift[ch] over x viewed as [outer, c, inner]. */
function scaleShift(xd: Float32Array, y: Float32Array, outer: number, c: number, inner: number, scale: Float64Array, shift: Float64Array): void {
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      const base = o * c;
      for (let ch = 0; ch < c; ch++) y[base + ch] = xd[base + ch] * scale[ch] + shift[ch];
    }
    return;
  }
  for (let o = 0; o < outer; o++) {
    for (let ch = 0; ch < c; ch++) {
      const base = (o * c + ch) * inner;
      const sc = scale[ch];
      const sh = shift[ch];
      for (let i = 0; i < inner; i++) y[base + i] = xd[base + i] * sc + sh;
    }
  }
}

/** sumG[ch] = Σ g and sumGX[ch] = Σ g·(x − mean[ch]) over [outer, c, inner]. */
function channelGradSums(gd: Float32Array, xd: Float32Array, outer: number, c: number, inner: number, mean: Float64Array, sumG: Float64Array, sumGX: Float64Array): void {
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      const base = o * c;
      for (let ch = 0; ch < c; ch++) {
        const gi = gd[base + ch];
        sumG[ch] += gi;
        sumGX[ch] += gi * (xd[base + ch] - mean[ch]);
      }
    }
    return;
  }
  for (let o = 0; o < outer; o++) {
    for (let ch = 0; ch < c; ch++) {
      const base = (o * c + ch) * inner;
      const m = mean[ch];
      let sg = 0;
      let sgx = 0;
      for (let i = 0; i < inner; i++) {
        const gi = gd[base + i];
        sg += gi;
        sgx += gi * (xd[base + i] - m);
      }
      sumG[ch] += sg;
      sumGX[ch] += sgx;
    }
  }
}

/** d = g·scale[ch] + (x − mean[ch])·a[ch] + b[ch] over [outer, c, inner]. */
function inputGrad(
  gd: Float32Array, xd: Float32Array, d: Float32Array, outer: number, c: number, inner: number,
  scale: Float64Array, mean: Float64Array, a: Float64Array, b: Float64Array,
): void {
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      const base = o * c;
      for (let ch = 0; ch < c; ch++) d[base + ch] = gd[base + ch] * scale[ch] + (xd[base + ch] - mean[ch]) * a[ch] + b[ch];
    }
    return;
  }
  for (let o = 0; o < outer; o++) {
    for (let ch = 0; ch < c; ch++) {
      const base = (o * c + ch) * inner;
      const sc = scale[ch];
      const m = mean[ch];
      const ac = a[ch];
      const bc = b[ch];
      for (let i = 0; i < inner; i++) d[base + i] = gd[base + i] * sc + (xd[base + i] - m) * ac + bc;
    }
  }
}

// ------------------------------------------------------------------------------ composed

/**
 * Layer normalisation over the trailing axes given by `normalizedShape`:
 * y = (x − mean)/√(var + ε)·γ + β with the biased variance, per sample. Composed from
 * autograd primitives.
 *
 * @example
 * ```ts
 * const y = layerNorm(x, [512], gamma, beta); // x [B, 512]
 * ```
 */
export function layerNorm(x: Tensor, normalizedShape: readonly number[], weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor {
  const k = normalizedShape.length;
  const tail = x.shape.slice(x.ndim - k);
  if (k === 0 || x.ndim < k || tail.some((d, i) => d !== normalizedShape[i])) {
    throw new ShapeError(`layerNorm: input ${fmtShape(x.shape)} must end with the normalised shape ${fmtShape(normalizedShape)}`);
  }
  for (const [t, name] of [
    [weight, 'weight'],
    [bias, 'bias'],
  ] as const) {
    if (t !== null && (t.ndim !== k || t.shape.some((d, i) => d !== normalizedShape[i]))) {
      throw new ShapeError(`layerNorm: expected ${name} of shape ${fmtShape(normalizedShape)}, got ${fmtShape(t.shape)}`);
    }
  }
  const axes = Array.from({ length: k }, (_, i) => x.ndim - k + i);
  const centred = F.sub(x, F.mean(x, axes, true));
  const variance = F.mean(F.square(centred), axes, true);
  let y = F.div(centred, F.sqrt(F.add(variance, eps)));
  if (weight !== null) y = F.mul(y, weight);
  if (bias !== null) y = F.add(y, bias);
  return y;
}

/**
 * Inverted dropout: in training mode each element is zeroed with probability `p` and the
 * rest are scaled by 1/(1 − p), so the expected value is unchanged; otherwise x itself.
 *
 * @example
 * ```ts
 * const y = dropout(x, 0.5, true, new Rng(0));
 * ```
 */
export function dropout(x: Tensor, p: number, training: boolean, rng: Rng): Tensor {
  if (!(p >= 0 && p <= 1)) throw new OptionError(`dropout: p must be in [0, 1], got ${p}`);
  if (!training || p === 0) return x;
  const keep = p === 1 ? 0 : 1 / (1 - p);
  const mask = new Float32Array(x.size);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.uniform() < p ? 0 : keep;
  return F.mul(x, new Tensor(mask, x.shape));
}

/**
 * Merges axes startDim..endDim (inclusive, negative counts from the end) into one.
 * `flatten(x, -3)` flattens [..., C, H, W] for both [N, C, H, W] and [T, N, C, H, W].
 *
 * @example
 * ```ts
 * flatten(zeros([2, 3, 4, 5])).shape; // [2, 60]
 * ```
 */
export function flatten(x: Tensor, startDim = 1, endDim = -1): Tensor {
  if (x.ndim === 0) return F.reshape(x, [1]);
  const s = normAxis(startDim, x.ndim, 'flatten');
  const e = normAxis(endDim, x.ndim, 'flatten');
  if (s > e) throw new ShapeError(`flatten: start axis ${startDim} comes after end axis ${endDim} for shape ${fmtShape(x.shape)}`);
  const shape = [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return F.reshape(x, shape);
}
