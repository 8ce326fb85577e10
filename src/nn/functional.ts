/**
 * Differentiable layer functions (the counterpart of `torch.nn.functional`). `linear`,
 * `conv2d`, the pools and `batchNorm` validate their arguments and run ONE autograd node each,
 * a fused op of ../autograd/fused.ts over raw kernels in ../tensor; `layerNorm`, `dropout` and
 * `flatten` are composed from the autograd primitives and need no backward rule of their own.
 *
 * Time folding: every function here treats all leading axes as batch, so a spike train
 * [T, B, ...] runs as one batch of T·B samples (one GEMM for all time steps) and comes back
 * as [T, B, ...].
 */
import * as F from '../autograd/functional';
import { applyFused } from '../autograd/fused';
import { OptionError, ShapeError, fmtShape } from '../errors';
import type { Rng } from '../rng';
import { type Pair, type WindowGeometry, checkPoolPadding, windowGeometry } from '../tensor/conv';
import type { BatchStats } from '../tensor/norm';
import { normAxis, sizeOf } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';

export { EVENT_MAX_DENSITY } from '../tensor/linear';
export { type BatchStats, updateRunningStats } from '../tensor/norm';

// ------------------------------------------------------------------------------ linear

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
  return applyFused('linear', bias !== null ? [x, weight, bias] : [x, weight], null);
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
  const geo = windowGeometry('conv2d', inC, x.shape[x.ndim - 2], x.shape[x.ndim - 1], [kh, kw], options.stride ?? 1, options.padding ?? 0);
  return applyFused('conv2d', bias !== null ? [x, weight, bias] : [x, weight], { geo });
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
  return applyFused('maxPool2d', [x], poolGeometry('maxPool2d', x, kernel, options));
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
  const countIncludePad = options.countIncludePad ?? true;
  return applyFused('avgPool2d', [x], { ...poolGeometry('avgPool2d', x, kernel, options), countIncludePad });
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
  const batchStats = options.batchStats ?? null;
  if (!(eps >= 0 && Number.isFinite(eps))) throw new OptionError(`batchNorm: eps must be a finite number ≥ 0, got ${eps}`);
  if (!(momentum >= 0 && momentum <= 1)) throw new OptionError(`batchNorm: momentum must be in [0, 1], got ${momentum}`);
  if ((runningMean === null) !== (runningVar === null)) throw new OptionError('batchNorm: give both runningMean and runningVar, or neither');
  if (training) {
    const n = sizeOf(x.shape.slice(0, axis)) * sizeOf(x.shape.slice(axis + 1));
    if (n <= 1) throw new ShapeError(`batchNorm: training needs more than one value per channel, got input ${fmtShape(x.shape)} with channels on axis ${axis}`);
    if (batchStats !== null && (batchStats.mean.length !== c || batchStats.variance.length !== c)) {
      throw new ShapeError(`batchNorm: batchStats must hold ${c} channels, got ${batchStats.mean.length} and ${batchStats.variance.length}`);
    }
  } else if (runningMean === null || runningVar === null) {
    throw new OptionError('batchNorm: eval mode (training: false) needs runningMean and runningVar');
  }
  const inputs = [x];
  if (weight !== null) inputs.push(weight);
  if (bias !== null) inputs.push(bias);
  return applyFused('batchNorm', inputs, {
    axis, hasWeight: weight !== null, hasBias: bias !== null, training, momentum, eps, runningMean, runningVar, batchStats,
  });
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
