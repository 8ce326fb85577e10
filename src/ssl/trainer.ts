/**
 * The two-view self-supervised trainer. Each step Poisson-encodes a batch twice (optionally
 * after an image augmentation), runs both views through the same spiking encoder, takes the
 * firing rate of its last layer as the representation, projects it, and minimises a
 * two-branch loss by backpropagation through time.
 */
import { noGrad } from '../autograd/engine';
import type { Dataset } from '../data/dataset';
import { batches, batchCount } from '../data/dataset';
import { poisson } from '../encoding/index';
import { OptionError, ShapeError, fmtShape } from '../errors';
import { firingRate } from '../neurons/functional';
import type { TensorModule } from '../nn/layers';
import type { Optimizer } from '../optim/optimizer';
import type { LRScheduler } from '../optim/schedulers';
import type { Rng } from '../rng';
import { Tensor } from '../tensor/tensor';
import { barlowTwinsLoss, ntXentLoss, vicregLoss } from './losses';
import type { SpikingEncoder } from './models';
import { type ViewsRunner, checkChunk, featureChunk, localViews, splitImages } from './views';

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
  /**
   * How the encoder runs on the two views and on feature batches. Default {@link localViews}
   * (this thread, one graph); `threadedViews()` from `spikessl/node` puts the second view on a
   * worker. The results are the same bits either way.
   */
  views?: ViewsRunner;
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

/** Options of {@link SSLTrainer.fit} and {@link SSLTrainer.fitAsync}. */
export interface FitOptions {
  /** Epochs to train (more, from {@link SSLTrainer.epoch}). */
  epochs: number;
  onBatch?: (p: BatchProgress) => void;
  onEpoch?: (e: EpochResult) => void;
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
  private readonly views: ViewsRunner;

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
    this.views = options.views ?? localViews;
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
    const t1 = performance.now();
    const views = this.views.train(this.encoder, v1, v2);
    const loss = this.lossFn(this.projector.forward(views.rate1), this.projector.forward(views.rate2));
    const value = loss.item();
    if (!Number.isFinite(value)) throw new OptionError(`SSLTrainer: the loss is ${value}; lower the learning rate or check the inputs`);
    const t2 = performance.now();
    this.optimizer.zeroGrad();
    views.backward(loss);
    const t3 = performance.now();
    this.optimizer.step();
    const ms = { encode: t1 - t0, forward: t2 - t1, backward: t3 - t2, optimizer: performance.now() - t3 };
    return { loss: value, density: [density(v1), ...views.layers1.map(density)], ms };
  }

  /** Trains `epochs` more epochs over `data` (continuing from {@link epoch}); returns their summaries. */
  fit(data: Dataset, options: FitOptions): EpochResult[] {
    const results: EpochResult[] = [];
    for (const r of this.epochs(data, options, results)) void r;
    return results;
  }

  /**
   * {@link fit} that yields to the event loop after every batch, so a page or worker stays
   * responsive (a worker can receive a stop message) while it trains. With the same state it
   * trains to the same bits as `fit`. When `signal` is aborted it returns after the batch in
   * hand: the epoch in progress is then not counted in {@link epoch} nor summarised.
   *
   * @example
   * ```ts
   * const stop = new AbortController(); // stop.abort() from a button or a worker message
   * const done = await trainer.fitAsync(train, { epochs: 5, signal: stop.signal, onBatch: (p) => draw(p.loss) });
   * ```
   */
  async fitAsync(data: Dataset, options: FitOptions & { signal?: AbortSignal }): Promise<EpochResult[]> {
    const results: EpochResult[] = [];
    for (const _ of this.epochs(data, options, results)) {
      // A macrotask, not a microtask: messages and input events run between batches.
      await new Promise<void>((resolve) => setTimeout(resolve, 0));
      if (options.signal?.aborted) break;
    }
    return results;
  }

  /** The loop of fit and fitAsync: trains batch by batch, yielding after each; epoch summaries go to `results`. */
  private *epochs(data: Dataset, options: FitOptions, results: EpochResult[]): Generator<void> {
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
        if (b < total) yield;
      }
      if (this.schedulerInterval === 'epoch') this.scheduler?.step();
      this.epoch++;
      const result: EpochResult = { epoch: this.epoch, meanLoss: lossSum / b, density: densSum.map((d) => d / b), seconds: (performance.now() - t0) / 1000 };
      results.push(result);
      options.onEpoch?.(result);
      yield;
    }
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
    return datasetFeatures(this.encoder, data, { steps: this.steps, gain: this.gain, rng, batchSize, views: this.views });
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
 * Representations of every sample of `data`, batch by batch, as a Float32Array [n, F]. Each
 * batch of `batchSize` images (default 500) is Poisson-encoded in one draw from `rng`, in order
 * on the calling thread; the encoder then runs on slices of at most `chunk` images of it (default: as
 * many as keep the widest layer's input current under 2^24 floats, so that a wide encoder at many
 * steps holds one slice's activations, not a whole batch's), which go to `options.views` two batches at a time (with `threadedViews()` every
 * second slice runs on a worker while this thread runs the first). No graph is kept; only the
 * [n, F] result outlives a slice. The result is the same bits with any runner. An image's rates
 * do not depend on the slice it runs in, except through the kernels' choice of route (dense or
 * event-driven, by the density of the slice's spikes), whose sums may round differently.
 */
export function datasetFeatures(
  encoder: SpikingEncoder,
  data: Dataset,
  options: { steps: number; gain?: number; rng: Rng; batchSize?: number; chunk?: number; views?: ViewsRunner; onProgress?: (done: number, total: number) => void },
): Float32Array {
  const F = encoder.features;
  const out = new Float32Array(data.n * F);
  const views = options.views ?? localViews;
  const encode = (x: Tensor) => poisson(x, { steps: options.steps, gain: options.gain ?? 1, rng: options.rng });
  const chunk = checkChunk(options.chunk) ?? featureChunk(encoder, data.dim, options.steps);
  const it = batches(data, { batchSize: options.batchSize ?? 500, shuffle: false })[Symbol.iterator]();
  let row = 0;
  for (let a = it.next(); !a.done; a = it.next()) {
    const b = it.next();
    // Both batches are encoded first (the draws of `rng` in batch order), then run in slices.
    const encoded = b.done ? [encode(a.value.x)] : [encode(a.value.x), encode(b.value.x)];
    for (const rates of views.rates(encoder, encoded.flatMap((x) => splitImages(x, chunk)))) {
      out.set(rates, row * F);
      row += rates.length / F;
    }
    options.onProgress?.(row, data.n);
  }
  return out;
}
