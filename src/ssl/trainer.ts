/**
 * The two-view self-supervised trainer. Each step Poisson-encodes a batch twice (optionally
 * after an image augmentation), runs both views through the same spiking encoder, takes the
 * firing rate of its last layer as the representation, projects it, and minimises a
 * two-branch loss by backpropagation through time.
 */
import { accumulateGrad, backward, noGrad } from '../autograd/engine';
import type { Dataset } from '../data/dataset';
import { batches, batchCount } from '../data/dataset';
import { poisson } from '../encoding/index';
import { OptionError, ShapeError, SpikesslError, fmtShape } from '../errors';
import { firingRate } from '../neurons/functional';
import type { TensorModule } from '../nn/layers';
import type { Optimizer } from '../optim/optimizer';
import type { LRScheduler } from '../optim/schedulers';
import type { Rng } from '../rng';
import { batchNormLayers } from '../nn/norm';
import { Tensor } from '../tensor/tensor';
import { barlowTwinsLoss, ntXentLoss, vicregLoss } from './losses';
import type { SpikingEncoder } from './models';
import { viewParallel } from './parallel';

/** The built-in losses by name. */
export type SslLossName = 'barlow' | 'ntxent' | 'vicreg';
/** A two-branch loss: projections z1, z2 [B, D] → scalar. */
export type SslLossFn = (z1: Tensor, z2: Tensor) => Tensor;

/** Returns the loss function for a name (with its default options) or passes a function through. */
export function sslLoss(loss: SslLossName | SslLossFn): SslLossFn {
  if (typeof loss === 'function') return loss;
  if (loss === 'barlow') return (a, b) => barlowTwinsLoss(a, b);
  if (loss === 'ntxent') return (a, b) => ntXentLoss(a, b);
  if (loss === 'vicreg') return (a, b) => vicregLoss(a, b);
  throw new OptionError(`sslLoss: unknown loss '${loss as string}', expected 'barlow', 'ntxent' or 'vicreg'`);
}

/** An image augmentation applied to a batch [B, D] before encoding. */
export type Augmentation = (x: Tensor, rng: Rng) => Tensor;

/** Options of {@link SSLTrainer}. */
export interface SSLTrainerOptions {
  encoder: SpikingEncoder;
  /** The non-spiking head the loss sees, [B, F] → [B, D]. */
  projector: TensorModule;
  loss: SslLossName | SslLossFn;
  optimizer: Optimizer;
  /** A learning-rate schedule, stepped once per epoch (default) or per batch; see `schedulerInterval`. */
  scheduler?: LRScheduler;
  /** When the scheduler steps: after each epoch's last batch (default), or after every batch. */
  schedulerInterval?: 'epoch' | 'batch';
  /** Time steps T of the Poisson encoding. Default 8. */
  steps?: number;
  /** Poisson gain (firing probability = gain · pixel). Default 1. */
  gain?: number;
  /** Mini-batch size. Default 256. */
  batchSize?: number;
  /** Applied to each view's images independently before encoding. */
  augment?: Augmentation;
  /** All randomness of training: shuffling, augmentation, encoding. */
  rng: Rng;
}

/** What {@link SSLTrainer.trainStep} reports. */
export interface StepResult {
  loss: number;
  /** Fraction of ones in each spiking layer's output (view 1), first to last; the input's first. */
  density: number[];
  /**
   * Wall time of the step's phases in ms: encoding both views, forward (encoder, projector,
   * loss), backward (every gradient, both views' merged), the optimizer's update.
   */
  ms: { encode: number; forward: number; backward: number; optimizer: number };
}

/** Progress of one batch, passed to `onBatch`. */
export interface BatchProgress extends StepResult {
  epoch: number;
  batch: number;
  batches: number;
  samplesPerSecond: number;
}

/** Summary of one epoch, passed to `onEpoch`. */
export interface EpochResult {
  epoch: number;
  meanLoss: number;
  /** Mean spike density per layer (input first) over the epoch. */
  density: number[];
  seconds: number;
}

function density(t: Tensor): number {
  const d = t.data;
  // Four running sums: a quarter of the loop-carried additions (1.5× as fast on a view of spikes).
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 4 <= d.length; i += 4) {
    s0 += d[i];
    s1 += d[i + 1];
    s2 += d[i + 2];
    s3 += d[i + 3];
  }
  for (; i < d.length; i++) s0 += d[i];
  return d.length === 0 ? 0 : (s0 + s1 + (s2 + s3)) / d.length;
}

/**
 * Trains a spiking encoder without labels (Chamand & Joly, 2022).
 *
 * @example
 * ```ts
 * // train, test: Datasets, e.g. loadMnist({ split: 'train' }) from spikessl/node
 * const rng = new Rng(0);
 * const encoder = new SpikingMlp({ rng });
 * const head = projector(encoder.features, 512, { rng });
 * const trainer = new SSLTrainer({
 *   encoder, projector: head, loss: 'barlow', rng,
 *   optimizer: new Adam([...encoder.parameters(), ...head.parameters()], { lr: 1e-3 }),
 * });
 * trainer.fit(train, { epochs: 1 });
 * const features = trainer.features(test, new Rng(1)); // firing rates, N × 512 row-major
 * ```
 */
export class SSLTrainer {
  readonly encoder: SpikingEncoder;
  readonly projector: TensorModule;
  readonly optimizer: Optimizer;
  readonly scheduler: LRScheduler | null;
  readonly schedulerInterval: 'epoch' | 'batch';
  readonly steps: number;
  readonly gain: number;
  readonly batchSize: number;
  readonly rng: Rng;
  /** Epochs completed (restored by a checkpoint to resume). */
  epoch = 0;
  private readonly lossFn: SslLossFn;
  private readonly augment: Augmentation | null;

  constructor(options: SSLTrainerOptions) {
    this.encoder = options.encoder;
    this.projector = options.projector;
    this.optimizer = options.optimizer;
    this.scheduler = options.scheduler ?? null;
    this.schedulerInterval = options.schedulerInterval ?? 'epoch';
    if (this.schedulerInterval !== 'epoch' && this.schedulerInterval !== 'batch') {
      throw new OptionError(`SSLTrainer: schedulerInterval must be 'epoch' or 'batch', got '${this.schedulerInterval as string}'`);
    }
    this.lossFn = sslLoss(options.loss);
    this.steps = options.steps ?? 8;
    this.gain = options.gain ?? 1;
    this.batchSize = options.batchSize ?? 256;
    this.augment = options.augment ?? null;
    this.rng = options.rng;
    if (!Number.isInteger(this.steps) || this.steps < 1) throw new OptionError(`SSLTrainer: steps must be a positive integer, got ${this.steps}`);
    if (!Number.isInteger(this.batchSize) || this.batchSize < 2) throw new OptionError(`SSLTrainer: batchSize must be an integer ≥ 2, got ${this.batchSize}`);
  }

  /** One optimisation step on a batch of images [B, D] in [0, 1]. */
  trainStep(x: Tensor): StepResult {
    if (x.ndim !== 2) throw new ShapeError(`SSLTrainer.trainStep: expected images [B, D], got ${fmtShape(x.shape)}`);
    this.encoder.train();
    this.projector.train();
    const t0 = performance.now();
    const view = () => poisson(this.augment ? this.augment(x, this.rng) : x, { steps: this.steps, gain: this.gain, rng: this.rng });
    const v1 = view();
    const v2 = view();
    // View 2 may run on another thread (see ssl/parallel.ts) while view 1 runs here. Either
    // way each view's encoder graph ends in a leaf (its firing rates): the loss's backward
    // stops at the two leaves, then each view's backward runs from its leaf's gradient, and
    // the second view's parameter gradients are added to the first's.
    const t1 = performance.now();
    const remote = viewParallel()?.start(this.encoder, v2, 'train') ?? null;
    const layers1 = this.encoder.forwardLayers(v1);
    const rate1 = firingRate(layers1[layers1.length - 1]);
    let rate2: Tensor | null = null;
    let r2: Tensor;
    if (remote) {
      const out = remote.result();
      const norms = batchNormLayers(this.encoder);
      if (out.batchStats.length !== norms.length) throw new SpikesslError(`SSLTrainer: the other thread's encoder reported ${out.batchStats.length} BatchNorm layers, this one has ${norms.length}`);
      norms.forEach((bn, i) => bn.trackBatch(out.batchStats[i]));
      r2 = new Tensor(out.rates, rate1.shape, { requiresGrad: true });
    } else {
      rate2 = firingRate(this.encoder.forward(v2));
      r2 = new Tensor(rate2.data, rate2.shape, { requiresGrad: true });
    }
    const r1 = new Tensor(rate1.data, rate1.shape, { requiresGrad: true });
    const loss = this.lossFn(this.projector.forward(r1), this.projector.forward(r2));
    const value = loss.item();
    if (!Number.isFinite(value)) throw new OptionError(`SSLTrainer: the loss is ${value}; lower the learning rate or check the inputs`);
    const t2 = performance.now();
    this.optimizer.zeroGrad();
    backward(loss);
    const zero = (t: Tensor) => new Tensor(new Float32Array(t.size), t.shape);
    if (remote) remote.backward((r2.grad ?? zero(r2)).data);
    if (rate1.requiresGrad) backward(rate1, r1.grad ?? zero(r1));
    if (remote) {
      const grads = remote.grads();
      this.encoder.parameters().forEach((p, i) => {
        const g = grads[i];
        if (g) accumulateGrad(p, new Tensor(g, p.shape));
      });
    } else if (rate2?.requiresGrad) {
      backward(rate2, r2.grad ?? zero(r2));
    }
    const t3 = performance.now();
    this.optimizer.step();
    const ms = { encode: t1 - t0, forward: t2 - t1, backward: t3 - t2, optimizer: performance.now() - t3 };
    return { loss: value, density: [density(v1), ...layers1.map(density)], ms };
  }

  /** Trains `epochs` more epochs over `data` (continuing from {@link epoch}); returns their summaries. */
  fit(
    data: Dataset,
    options: { epochs: number; onBatch?: (p: BatchProgress) => void; onEpoch?: (e: EpochResult) => void },
  ): EpochResult[] {
    const results: EpochResult[] = [];
    const total = batchCount(data.n, { batchSize: this.batchSize, dropLast: true });
    if (total === 0) throw new OptionError(`SSLTrainer.fit: ${data.n} samples do not fill one batch of ${this.batchSize}`);
    for (let e = 0; e < options.epochs; e++) {
      const t0 = performance.now();
      let lossSum = 0;
      let densSum: number[] = [];
      let b = 0;
      for (const batch of batches(data, { batchSize: this.batchSize, dropLast: true, shuffle: true, rng: this.rng })) {
        const r = this.trainStep(batch.x);
        if (this.schedulerInterval === 'batch') this.scheduler?.step();
        lossSum += r.loss;
        densSum = r.density.map((d, i) => d + (densSum[i] ?? 0));
        b++;
        const seconds = (performance.now() - t0) / 1000;
        options.onBatch?.({ ...r, epoch: this.epoch + 1, batch: b, batches: total, samplesPerSecond: (b * this.batchSize) / seconds });
      }
      if (this.schedulerInterval === 'epoch') this.scheduler?.step();
      this.epoch++;
      const result: EpochResult = { epoch: this.epoch, meanLoss: lossSum / b, density: densSum.map((d) => d / b), seconds: (performance.now() - t0) / 1000 };
      results.push(result);
      options.onEpoch?.(result);
    }
    return results;
  }

  /**
   * Representations of images [B, D]: the firing rates [B, F] of the encoder's last layer for
   * one Poisson encoding drawn from `rng`, in eval mode and without a graph.
   */
  represent(x: Tensor, rng: Rng): Tensor {
    return representations(this.encoder, x, { steps: this.steps, gain: this.gain, rng });
  }

  /** Representations of a whole dataset, in batches: Float32Array [n, F] row-major. */
  features(data: Dataset, rng: Rng, batchSize = 500): Float32Array {
    return datasetFeatures(this.encoder, data, { steps: this.steps, gain: this.gain, rng, batchSize });
  }
}

/** Firing rates [B, F] of `encoder` for one Poisson encoding of x [B, D] (eval mode, no graph). */
export function representations(encoder: SpikingEncoder, x: Tensor, options: { steps: number; gain?: number; rng: Rng }): Tensor {
  const wasTraining = encoder.training;
  encoder.eval();
  try {
    return noGrad(() => firingRate(encoder.forward(poisson(x, { steps: options.steps, gain: options.gain ?? 1, rng: options.rng }))));
  } finally {
    encoder.train(wasTraining);
  }
}

/**
 * Representations of every sample of `data`, batch by batch, as a Float32Array [n, F]. With
 * threads enabled (`enableThreads` in Node) and a built-in encoder, every second batch runs on a
 * worker while the calling thread runs the one before it; each batch's encoding is still drawn
 * in order on the calling thread, so the result is the same bits either way.
 */
export function datasetFeatures(encoder: SpikingEncoder, data: Dataset, options: { steps: number; gain?: number; rng: Rng; batchSize?: number }): Float32Array {
  const F = encoder.features;
  const out = new Float32Array(data.n * F);
  const encode = (x: Tensor) => poisson(x, { steps: options.steps, gain: options.gain ?? 1, rng: options.rng });
  const it = batches(data, { batchSize: options.batchSize ?? 500, shuffle: false })[Symbol.iterator]();
  const wasTraining = encoder.training;
  encoder.eval();
  try {
    let row = 0;
    for (let a = it.next(); !a.done; a = it.next()) {
      const b = it.next();
      const first = encode(a.value.x);
      const second = b.done ? null : encode(b.value.x);
      const remote = second && viewParallel()?.start(encoder, second, 'eval');
      out.set(noGrad(() => firingRate(encoder.forward(first))).data, row * F);
      row += a.value.y.length;
      if (second === null || b.done) continue;
      out.set(remote ? remote.result().rates : noGrad(() => firingRate(encoder.forward(second))).data, row * F);
      row += b.value.y.length;
    }
  } finally {
    encoder.train(wasTraining);
  }
  return out;
}

/** Options of {@link calibrateBatchNorm}. */
export interface CalibrateOptions {
  steps: number;
  gain?: number;
  rng: Rng;
  /** Batches averaged. Default 20. */
  batches?: number;
  /** Default 256. */
  batchSize?: number;
}

/**
 * Re-estimates the running statistics of every BatchNorm layer of `encoder` from Poisson
 * encodings of `data` — their cumulative average over the first batches, in training mode
 * without a graph and without changing any weight. An encoder that was never trained still
 * holds the initial statistics (mean 0, variance 1), which would mis-scale its currents in
 * eval mode; calibrating first makes the random-init baseline a fair one.
 */
export function calibrateBatchNorm(encoder: SpikingEncoder, data: Dataset, options: CalibrateOptions): void {
  const norms = batchNormLayers(encoder);
  if (norms.length === 0) return;
  const saved = norms.map((m) => m.momentum);
  const wasTraining = encoder.training;
  norms.forEach((m) => {
    m.resetRunningStats();
    m.momentum = null;
  });
  encoder.train();
  try {
    let b = 0;
    const limit = options.batches ?? 20;
    for (const batch of batches(data, { batchSize: options.batchSize ?? 256, shuffle: false })) {
      if (b++ >= limit) break;
      noGrad(() => encoder.forward(poisson(batch.x, { steps: options.steps, gain: options.gain ?? 1, rng: options.rng })));
    }
  } finally {
    norms.forEach((m, i) => (m.momentum = saved[i]));
    encoder.train(wasTraining);
  }
}
