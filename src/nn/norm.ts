/** Normalisation layers: BatchNorm1d, BatchNorm2d (fused, with running statistics) and LayerNorm. */
import { OptionError, ShapeError, fmtShape } from '../errors';
import { Tensor, ones, zeros } from '../tensor/tensor';
import { type BatchStats, batchNorm, layerNorm, updateRunningStats } from './functional';
import { Module, Parameter } from './module';

/** Options of {@link BatchNorm1d} and {@link BatchNorm2d} (PyTorch's defaults). */
export interface BatchNormLayerOptions {
  /** Added to the variance. Default 1e-5. */
  eps?: number;
  /**
   * Weight of each new batch in the running statistics. Default 0.1. `null` gives the
   * cumulative average over all batches seen (factor 1/num_batches_tracked), as PyTorch's
   * `momentum=None`.
   */
  momentum?: number | null;
  /** Learn a per-channel scale `weight` (init 1) and shift `bias` (init 0). Default true. */
  affine?: boolean;
  /** Start with `deferStatistics` on (see the layer). Default false. */
  deferStatistics?: boolean;
}

/**
 * Shared machinery of the batch norms: parameters `weight`, `bias` and buffers
 * `running_mean` (init 0), `running_var` (init 1), `num_batches_tracked` (init 0), named as
 * in PyTorch.
 */
abstract class BatchNormBase extends Module {
  readonly weight: Parameter | null;
  readonly bias: Parameter | null;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  /** A one-element tensor (float32, exact up to 2^24 batches); PyTorch's is int64. */
  readonly numBatchesTracked: Tensor;
  readonly eps: number;
  /** Weight of each new batch in the running statistics; null: their cumulative average. May be changed. */
  momentum: number | null;

  constructor(
    readonly numFeatures: number,
    options: BatchNormLayerOptions,
    op: string,
  ) {
    super();
    if (!Number.isInteger(numFeatures) || numFeatures < 1) throw new OptionError(`${op}: numFeatures must be a positive integer, got ${numFeatures}`);
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    if (!(this.eps > 0)) throw new OptionError(`${op}: eps must be positive, got ${this.eps}`);
    if (this.momentum !== null && !(this.momentum >= 0 && this.momentum <= 1)) throw new OptionError(`${op}: momentum must be in [0, 1] or null, got ${this.momentum}`);
    const affine = options.affine ?? true;
    this.weight = affine ? Parameter.from(ones([numFeatures])) : null;
    this.bias = affine ? Parameter.from(zeros([numFeatures])) : null;
    this.runningMean = this.registerBuffer('running_mean', zeros([numFeatures]));
    this.runningVar = this.registerBuffer('running_var', ones([numFeatures]));
    this.numBatchesTracked = this.registerBuffer('num_batches_tracked', zeros([]));
    this.deferStatistics = options.deferStatistics ?? false;
  }

  /**
   * Defer statistics: when true, a training-mode forward leaves its batch's statistics in
   * `deferredStats` instead of counting the batch into the running statistics, so the
   * caller decides when, and in which order, batches count (`trackBatch` applies one as
   * the forward would have). Normalisation itself always uses the batch's statistics, so the
   * output is the same either way. Default false. May be changed.
   */
  deferStatistics: boolean;
  /** The statistics of the training-mode forwards run while `deferStatistics` was on, oldest first, not yet applied. */
  readonly deferredStats: BatchStats[] = [];

  /**
   * Counts one batch and moves the running statistics towards its `stats` (mean, unbiased
   * variance) by `momentum`, or by 1/num_batches_tracked when momentum is null — what a
   * training-mode forward does with its batch.
   */
  trackBatch(stats: BatchStats): void {
    const tracked = this.numBatchesTracked.data[0] + 1;
    updateRunningStats(this.runningMean, this.runningVar, stats, this.momentum ?? 1 / tracked);
    this.numBatchesTracked.data[0] = tracked;
  }

  /** The axis holding the channels of `x`, after checking its shape. */
  protected abstract channelAxis(x: Tensor): number;

  /** Running mean 0, running variance 1, no batches tracked (PyTorch's `reset_running_stats`). */
  resetRunningStats(): void {
    this.runningMean.data.fill(0);
    this.runningVar.data.fill(1);
    this.numBatchesTracked.data[0] = 0;
  }

  forward(x: Tensor): Tensor {
    const axis = this.channelAxis(x);
    if (!this.training) {
      return batchNorm(x, axis, { weight: this.weight, bias: this.bias, runningMean: this.runningMean, runningVar: this.runningVar, training: false, eps: this.eps });
    }
    const c = this.numFeatures;
    const stats: BatchStats = { mean: new Float64Array(c), variance: new Float64Array(c) };
    const y = batchNorm(x, axis, { weight: this.weight, bias: this.bias, training: true, eps: this.eps, batchStats: stats });
    if (this.deferStatistics) this.deferredStats.push(stats);
    else this.trackBatch(stats);
    return y;
  }
}

/**
 * Batch normalisation of features on the LAST axis: [N, F], or time-folded [T, N, F]
 * (any leading axes) with statistics over T × N — how LIF input currents are normalised.
 * Note the difference from PyTorch's BatchNorm1d, whose 3-D input is [N, C, L] (channels
 * on axis 1); for a PyTorch model, reshape [T, N, F] to [T·N, F] first. Parameters and
 * buffers are named as PyTorch's, so state dicts map one to one.
 *
 * Training mode normalises with the batch mean and biased variance and updates
 * running_mean/running_var with momentum (the variance unbiased, n/(n − 1)); eval mode
 * normalises with the running statistics.
 *
 * @example
 * ```ts
 * const bn = new BatchNorm1d(512);
 * const y = bn.forward(current); // [T, B, 512], statistics over T·B
 * ```
 */
export class BatchNorm1d extends BatchNormBase {
  constructor(numFeatures: number, options: BatchNormLayerOptions = {}) {
    super(numFeatures, options, 'BatchNorm1d');
  }

  protected channelAxis(x: Tensor): number {
    if (x.ndim < 2 || x.shape[x.ndim - 1] !== this.numFeatures) {
      throw new ShapeError(`BatchNorm1d: expected an input [..., N, ${this.numFeatures}] (features last), got ${fmtShape(x.shape)}`);
    }
    return x.ndim - 1;
  }
}

/**
 * Batch normalisation of channels in [N, C, H, W], or time-folded [T, N, C, H, W] with
 * statistics over T × N × H × W, as `torch.nn.BatchNorm2d`.
 *
 * @example
 * ```ts
 * const bn = new BatchNorm2d(16);
 * const y = bn.forward(conv.forward(x)); // [T, N, 16, H, W]
 * ```
 */
export class BatchNorm2d extends BatchNormBase {
  constructor(numFeatures: number, options: BatchNormLayerOptions = {}) {
    super(numFeatures, options, 'BatchNorm2d');
  }

  protected channelAxis(x: Tensor): number {
    if (x.ndim < 4 || x.shape[x.ndim - 3] !== this.numFeatures) {
      throw new ShapeError(`BatchNorm2d: expected an input [..., N, ${this.numFeatures}, H, W], got ${fmtShape(x.shape)}`);
    }
    return x.ndim - 3;
  }
}

/** The BatchNorm layers of `m` (itself included), in `modules()` order. */
export function batchNormLayers(m: Module): Array<BatchNorm1d | BatchNorm2d> {
  return m.modules().filter((x): x is BatchNorm1d | BatchNorm2d => x instanceof BatchNorm1d || x instanceof BatchNorm2d);
}

/** Options of {@link LayerNorm}. */
export interface LayerNormOptions {
  /** Default 1e-5. */
  eps?: number;
  /** Learn `weight` (init 1) and `bias` (init 0) of the normalised shape. Default true. */
  elementwiseAffine?: boolean;
  /** With elementwiseAffine, also learn the bias. Default true. */
  bias?: boolean;
}

/**
 * Layer normalisation over the trailing `normalizedShape` axes of each sample, as
 * `torch.nn.LayerNorm`: y = (x − mean)/√(var + ε)·weight + bias (biased variance). Same in
 * training and eval mode.
 *
 * @example
 * ```ts
 * const ln = new LayerNorm(512);
 * const y = ln.forward(x); // [..., 512]
 * ```
 */
export class LayerNorm extends Module {
  readonly weight: Parameter | null;
  readonly bias: Parameter | null;
  readonly normalizedShape: number[];
  readonly eps: number;

  constructor(normalizedShape: number | readonly number[], options: LayerNormOptions = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : normalizedShape.slice();
    if (this.normalizedShape.length === 0 || this.normalizedShape.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new OptionError(`LayerNorm: normalizedShape must be positive integers, got ${JSON.stringify(normalizedShape)}`);
    }
    this.eps = options.eps ?? 1e-5;
    if (!(this.eps > 0)) throw new OptionError(`LayerNorm: eps must be positive, got ${this.eps}`);
    const affine = options.elementwiseAffine ?? true;
    this.weight = affine ? Parameter.from(ones(this.normalizedShape)) : null;
    this.bias = affine && (options.bias ?? true) ? Parameter.from(zeros(this.normalizedShape)) : null;
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }
}
