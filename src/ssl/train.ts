/**
 * Training from a run config without Node: {@link trainerFromConfig} turns a config into the
 * model, optimizer, schedule and trainer `spikessl train` uses (the same streams, so the same
 * bits), and {@link trainModel} trains them asynchronously — yielding to the event loop after
 * every batch, stoppable with an `AbortSignal` — into a {@link TrainedModel}, optionally with its
 * linear probe fitted, ready for `saveModel` and `spikessl predict`. Browser-safe: it runs on a
 * page or in a Web Worker.
 */
import { type Dataset, batchCount } from '../data/dataset';
import { Adam } from '../optim/adam';
import { CosineAnnealingLR } from '../optim/schedulers';
import { type RunConfig, augmentation, checkRunConfig, lossConfig, lossFunction, runConfigProblem, runStreams } from './config';
import { TrainedModel } from './model';
import { type SSLModel, buildModel } from './models';
import { type BatchProgress, type EpochResult, SSLTrainer } from './trainer';
import type { ViewsRunner } from './views';
import { OptionError } from '../errors';

/** What {@link trainerFromConfig} builds. */
export interface ConfiguredTraining {
  model: SSLModel;
  optimizer: Adam;
  scheduler: CosineAnnealingLR | undefined;
  trainer: SSLTrainer;
  /** The run's random streams (`runStreams(config.seed)`); `init` has drawn the weights, `train` drives the trainer. */
  streams: ReturnType<typeof runStreams>;
}

/**
 * The model (weights from `runStreams(seed).init`), Adam, the cosine schedule over every batch of
 * `config.epochs` epochs of `trainImages` images (with `--schedule cosine`) and the SSL trainer a
 * run config describes — as `spikessl train` builds them.
 */
export function trainerFromConfig(config: RunConfig, trainImages: number, views?: ViewsRunner): ConfiguredTraining {
  const streams = runStreams(config.seed);
  const model = buildModel(config, streams.init);
  const optimizer = new Adam(model.parameters(), { lr: config.lr });
  const totalBatches = config.epochs * batchCount(trainImages, { batchSize: config.batch, dropLast: true });
  const scheduler = config.schedule === 'cosine' ? new CosineAnnealingLR(optimizer, { tMax: Math.max(1, totalBatches) }) : undefined;
  const trainer = new SSLTrainer({
    encoder: model.encoder,
    projector: model.projector,
    loss: lossFunction(lossConfig(config)),
    optimizer,
    steps: config.steps,
    batchSize: config.batch,
    augment: augmentation(config.augment),
    scheduler,
    schedulerInterval: 'batch',
    rng: streams.train,
    views,
  });
  return { model, optimizer, scheduler, trainer, streams };
}

/** Options of {@link trainModel}. */
export interface TrainModelOptions {
  /** Stops training after the batch in hand; the model trained so far is returned. */
  signal?: AbortSignal;
  onBatch?: (p: BatchProgress) => void;
  onEpoch?: (e: EpochResult) => void;
  /**
   * Labelled images to fit the linear probe on after training (as `spikessl train` does on its
   * probe images), drawn from the run's `trainFeatures` stream; absent: no probe.
   */
  probe?: Dataset;
}

/** What {@link trainModel} returns. */
export interface TrainModelResult {
  trained: TrainedModel;
  /** The epochs completed. */
  epochs: EpochResult[];
  /** Whether `signal` stopped training before `config.epochs` epochs. */
  stopped: boolean;
}

/**
 * Trains a fresh model as `config` describes (absent fields take their defaults; checked first)
 * on `data`'s images, without labels, yielding to the event loop after every batch.
 *
 * @example
 * ```ts
 * const stop = new AbortController(); // stop.abort() ends training after the current batch
 * const { trained } = await trainModel({ hidden: 128, steps: 4, batch: 100, epochs: 1 }, train, { signal: stop.signal, probe: train });
 * const bytes = saveModel(trained); // what `spikessl predict --model` and `loadModel` read
 * ```
 */
export async function trainModel(config: Partial<RunConfig>, data: Dataset, options: TrainModelOptions = {}): Promise<TrainModelResult> {
  const c = checkRunConfig(config);
  const problem = runConfigProblem(c, (k) => `config.${k}`);
  if (problem) throw new OptionError(`trainModel: ${problem}`);
  if (data.dim !== 784) throw new OptionError(`trainModel: expected 28×28 images (784 pixels), got ${data.dim} values per sample`);
  if (data.n < c.batch) throw new OptionError(`trainModel: batch ${c.batch} is more than the ${data.n} training images`);
  const { model, trainer, streams } = trainerFromConfig(c, data.n);
  const epochs = await trainer.fitAsync(data, { epochs: c.epochs, signal: options.signal, onBatch: options.onBatch, onEpoch: options.onEpoch });
  model.eval();
  const trained = new TrainedModel(c, model);
  if (options.probe !== undefined) {
    const p = options.probe;
    trained.fitProbe({ data: p.images, shape: [p.n, p.dim] }, p.labels, { rng: streams.trainFeatures, onWarning: () => {} });
  }
  return { trained, epochs, stopped: epochs.length < c.epochs };
}
