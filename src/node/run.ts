/**
 * The main job behind `spikessl train` and `spikessl eval`: load MNIST, train a spiking
 * encoder with a two-view SSL loss, checkpoint every epoch, then judge the representation
 * (linear probe and kNN) against a random-init encoder and raw pixels, and write the run
 * folder (model.safetensors, checkpoint.safetensors, report.json, report.html).
 */
import { existsSync, readdirSync, rmdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { noGrad } from '../autograd/engine';
import { type Dataset, makeDataset } from '../data/dataset';
import { poisson } from '../encoding/index';
import { OptionError } from '../errors';
import { formatDuration, formatProgress, formatTable } from '../report/progress';
import { type RunReport, renderReportHtml } from '../report/html';
import { pca2 } from '../report/pca';
import type { Rng } from '../rng';
import {
  type RunConfig,
  checkRunConfig,
  describeLoss,
  lossConfig,
  parseRunConfig,
  resumedConfig,
  runConfigProblem,
  runStreams,
  surrogateType,
} from '../ssl/config';
import { type FeatureSet, type ProbeResult, probe } from '../ssl/evaluate';
import { checkModelTensors, encodeModelFile, modelFromState, parseConfigText } from '../ssl/modelfile';
import { TrainedModel } from '../ssl/model';
import { type SpikingEncoder, buildModel } from '../ssl/models';
import { calibrateBatchNorm } from '../ssl/calibrate';
import { trainerFromConfig } from '../ssl/train';
import { threadedViews } from './views';
import { Tensor } from '../tensor/tensor';
import { extraNumbers, extraRecords, loadCheckpoint, restoreCheckpoint, saveCheckpoint } from './checkpoint';
import { ensureDirectory, readSafetensorsFile, writeFileAtomic } from './fs';
import { loadDataset } from './datasets';
import { holdOut } from '../data/registry';
import { encoderFeatures, parseRepresentation } from '../ssl/features';
import { writeModelFile } from './model';
import { terminalProgress } from './progress';

/** Everything `spikessl train` was asked to do: the run config of ssl/config.ts. */
export type TrainConfig = RunConfig;

/**
 * The config of the run whose checkpoint is in `out`, with the options in `given` that may
 * change on resume (see `resumedConfig`); an option contradicting the saved settings is an
 * OptionError naming it. The checkpoint's config and its model tensors are checked first (a
 * DataFormatError naming the file).
 */
export function resumeConfig(out: string, given: Partial<RunConfig>): RunConfig {
  const path = join(out, 'checkpoint.safetensors');
  if (!existsSync(path)) throw new OptionError(`--resume: no checkpoint at ${path}`);
  const ckpt = loadCheckpoint(path);
  const saved = parseRunConfig(ckpt.extra.config, path);
  checkModelTensors(saved, ckpt.model, path);
  return resumedConfig(saved, { ...given, out }, path);
}

/**
 * Makes the run folder `out` (with its parents) and checks that files can be written in it, before
 * any work; an OptionError names the folder and the reason. Returns whether the folder was new.
 */
function prepareRunFolder(out: string): boolean {
  const existed = existsSync(out);
  if (existed && !statSync(out).isDirectory()) throw new OptionError(`--out ${out} is a file, expected a run folder`);
  try {
    ensureDirectory(out);
    // A read-only or full place fails here, not after the first epoch.
    const probeFile = join(out, `.spikessl-write-test-${process.pid}`);
    writeFileSync(probeFile, '');
    unlinkSync(probeFile);
  } catch (e) {
    if (!existed) removeIfEmpty(out);
    const err = e as Error & { code?: unknown };
    throw new OptionError(`--out ${out}: cannot write the run folder there (${typeof err.code === 'string' ? err.code : err.message})`);
  }
  return !existed;
}

function removeIfEmpty(dir: string): void {
  try {
    if (readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    // nothing to clean up
  }
}

/** The probed representation (`--representation`) of every image of `data`, with a progress bar (or plain lines) labelled `label`. */
function featureSet(encoder: SpikingEncoder, data: Dataset, steps: number, rng: Rng, representation: string, label: string): FeatureSet {
  const onProgress = terminalProgress(`${label}: features of ${data.n} images`);
  return encoderFeatures(encoder, data, { steps, rng, views: threadedViews(), onProgress, ...parseRepresentation(representation) });
}

/** probe() with progress bars labelled `label`; `warn` receives its warnings. */
function probeWithProgress(label: string, train: FeatureSet, test: FeatureSet, warn: (m: string) => void, overwrite = false): ProbeResult {
  const bars = { 'linear probe': terminalProgress(`${label}: linear probe, L-BFGS iterations`), kNN: terminalProgress(`${label}: kNN on ${test.n} images`) };
  return probe(train, test, { onWarning: (m) => warn(`${label}: ${m}`), overwrite, onProgress: (stage, done, total) => bars[stage](done, total) });
}

/**
 * The features of `probeTrain` and `test` for `encoder` (from the run's feature streams), probed
 * in place: `inspect` sees the test features before the probe standardizes them; nothing keeps
 * them afterwards.
 */
function evaluateEncoder(
  label: string, encoder: SpikingEncoder, probeTrain: Dataset, test: Dataset, steps: number, streams: { trainFeatures: Rng; testFeatures: Rng }, representation: string,
  warn: (m: string) => void, inspect?: (testFeatures: FeatureSet) => void,
): ProbeResult {
  const train = featureSet(encoder, probeTrain, steps, streams.trainFeatures, representation, label);
  const scored = featureSet(encoder, test, steps, streams.testFeatures, representation, label);
  inspect?.(scored);
  return probeWithProgress(label, train, scored, warn, true);
}

/**
 * The run's data: the training images (`--train-subset` of them), the probes' training images
 * (`--probe-subset`) and the split the probes are scored on — the last `--val` training images
 * when `--val` is given, else the test split. Every check (files, sizes, labels, `--val`) happens
 * here, before any training.
 */
export function loadRunData(config: Pick<RunConfig, 'dataset' | 'dataDir' | 'val' | 'trainSubset' | 'probeSubset'>): { train: Dataset; probeTrain: Dataset; test: Dataset; split: 'validation' | 'test'; classes: readonly string[] } {
  const dir = config.dataDir ?? undefined;
  const all = loadDataset({ name: config.dataset, split: 'train', dir });
  if (config.val >= all.n) throw new OptionError(`--val ${config.val} must be less than the ${all.n} training images`);
  let fullTrain: Dataset = all;
  let test: Dataset;
  if (config.val > 0) {
    const parts = holdOut(all, config.val);
    fullTrain = parts.train;
    test = parts.val;
  } else {
    test = loadDataset({ name: config.dataset, split: 'test', dir });
  }
  const train = config.trainSubset > 0 ? firstImages(fullTrain, config.trainSubset) : fullTrain;
  const probeTrain = config.probeSubset > 0 ? firstImages(fullTrain, config.probeSubset) : fullTrain;
  return { train, probeTrain, test, split: config.val > 0 ? 'validation' : 'test', classes: all.info.classes };
}

/** The first n images of `data` (all when it has fewer), as a view of its arrays: no copy. */
function firstImages(data: Dataset, n: number): Dataset {
  const m = Math.min(n, data.n);
  return makeDataset(data.images.subarray(0, m * data.dim), data.labels.subarray(0, m), data.sampleShape);
}

function pixels(data: Dataset): FeatureSet {
  return { data: data.images, n: data.n, dim: data.dim, labels: data.labels };
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/**
 * Runs `spikessl train`: absent fields of `options` take their defaults (ssl/config.ts). Every
 * option is checked, the data loaded and the run folder made writable before training starts;
 * a run that fails leaves no empty run folder behind. With `resume`, the options must agree
 * with the settings saved in the run's checkpoint.
 */
export async function runTrain(options: Partial<RunConfig>): Promise<RunReport> {
  const tStart = performance.now();
  let config = checkRunConfig(options);
  const ckptPath = join(config.out, 'checkpoint.safetensors');
  if (config.resume) config = resumeConfig(config.out, config);
  const created = prepareRunFolder(config.out);
  try {
    const data = loadRunData(config);
    if (data.train.n < config.batch) throw new OptionError(`--batch ${config.batch} is more than the ${data.train.n} training images`);
    return await trainAndEvaluate(config, data, ckptPath, tStart);
  } catch (e) {
    // A run that failed before writing anything leaves no trace.
    if (created) removeIfEmpty(config.out);
    throw e;
  }
}

/** The training and evaluation of {@link runTrain}, on checked options and loaded data. */
async function trainAndEvaluate(config: RunConfig, data: ReturnType<typeof loadRunData>, ckptPath: string, tStart: number): Promise<RunReport> {
  const { train, probeTrain, test, split } = data;
  const loss = lossConfig(config);
  log(`spikessl train: ${describeLoss(loss)}, ${config.encoder} encoder (${config.encoder === 'conv' ? `channels ${config.channels.join(', ')}, ` : ''}hidden ${config.hidden}${config.bn ? ', BatchNorm' : ''}; LIF β ${config.beta}, θ ${config.threshold}, ${config.reset} reset, surrogate ${surrogateType.show(config.surrogate)}), T = ${config.steps}, batch ${config.batch}, lr ${config.lr}${config.schedule === 'cosine' ? ' (cosine decay)' : ''}, ${config.epochs} epoch(s) on ${train.n} ${config.dataset} images, seed ${config.seed}`);

  const { model, optimizer, scheduler, trainer, streams } = trainerFromConfig(config, train.n, threadedViews());
  const batchLoss: number[] = [];
  const epochs: RunReport['epochs'] = [];
  if (config.resume) {
    const restored = restoreCheckpoint(loadCheckpoint(ckptPath), { model, optimizer, scheduler, rng: streams.train });
    trainer.epoch = restored.epoch ?? 0;
    batchLoss.push(...extraNumbers(restored.extra, 'batchLoss', ckptPath));
    epochs.push(...extraRecords<RunReport['epochs'][number]>(restored.extra, 'epochs', ckptPath, { epoch: 'number', meanLoss: 'number', density: 'numbers', seconds: 'number' }));
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
      saveCheckpoint(ckptPath, { model, optimizer, scheduler, epoch: e.epoch, rng: streams.train, extra: { config, batchLoss, epochs } });
      log(`epoch ${e.epoch}: mean loss ${e.meanLoss.toFixed(4)}, spike density ${e.density.map((d) => d.toFixed(3)).join(' / ')}, ${formatDuration(e.seconds)} — checkpoint saved`);
    },
  });
  const trainSeconds = (performance.now() - tTrain) / 1000;
  writeFileAtomic(join(config.out, 'model.safetensors'), encodeModelFile(model, config));

  log(`evaluating (${config.representation === 'last' ? "the last layer's rates" : config.representation}): representations of ${probeTrain.n} training and ${test.n} ${split} images...`);
  const timings: Record<string, number> = { train: trainSeconds };
  const warn = (m: string) => log(`  WARNING: ${m.split(';')[0].replace('ConvergenceWarning: ', '')}; its accuracy is not that of a fitted probe`);
  let t0 = performance.now();
  const evalSteps = config.evalSteps || config.steps;
  // Each model's features live only through its probe, which standardizes them in place (memory:
  // 60,000 × 1568 rates are 376 MB); the report's summary of the test features is taken first.
  let summary: FeatureSummary | undefined;
  const ssl = evaluateEncoder('SSL encoder', model.encoder, probeTrain, test, evalSteps, streams, config.representation, warn, (f) => {
    timings.features = (performance.now() - t0) / 1000;
    summary = featureSummary(f, streams.pca);
  });
  // The model file again, now with its fitted linear probe: `spikessl predict` needs nothing else.
  writeModelFile(join(config.out, 'model.safetensors'), new TrainedModel(config, model, { ...ssl.fitted, steps: evalSteps, representation: config.representation }));
  timings.linear = ssl.seconds.linear;
  timings.knn = ssl.seconds.knn;
  const rows: Array<{ model: string; result: ProbeResult }> = [{ model: 'SSL encoder', result: ssl }];
  if (config.baselines) {
    t0 = performance.now();
    // The same streams again: the trained model's initial weights, the same feature encodings.
    const again = runStreams(config.seed);
    const random = buildModel(config, again.init).encoder;
    // Untrained BatchNorm layers hold mean 0 / variance 1; estimate their statistics first.
    calibrateBatchNorm(random, probeTrain, { steps: config.steps, rng: again.calibrate });
    rows.push({ model: 'random-init encoder', result: evaluateEncoder('random-init encoder', random, probeTrain, test, evalSteps, again, config.representation, warn) });
    rows.push({ model: 'raw pixels', result: probeWithProgress('raw pixels', pixels(probeTrain), pixels(test), warn) });
    timings.baselines = (performance.now() - t0) / 1000;
  }

  const report = buildReport(config, streams, model.encoder, test, summary!, ssl, rows, batchLoss, epochs, timings, data.classes, split);
  report.timings.total = (performance.now() - tStart) / 1000;
  writeFileAtomic(join(config.out, 'report.json'), new TextEncoder().encode(JSON.stringify(report, null, 1)));
  writeFileAtomic(join(config.out, 'report.html'), new TextEncoder().encode(renderReportHtml(report)));
  log('');
  log(formatTable(rows.map((r) => ({ representation: r.model, [`linear probe % (${split})`]: (100 * r.result.linear).toFixed(2), [`kNN % (${split})`]: (100 * r.result.knn).toFixed(2) }))));
  const unconverged = rows.filter((r) => !r.result.linearFit.converged).map((r) => r.model);
  if (unconverged.length > 0) log(`WARNING: the linear probe did not converge for: ${unconverged.join(', ')}`);
  log(`\ntrain ${formatDuration(trainSeconds)}, total ${formatDuration(report.timings.total)}`);
  return report;
}

/** What the report shows of the SSL encoder's test features: each feature's mean and the first two principal components. */
interface FeatureSummary {
  firingRates: number[];
  points: number[];
  explained: [number, number];
}

function featureSummary(f: FeatureSet, rng: Rng): FeatureSummary {
  const F = f.dim;
  const rates = new Array<number>(F).fill(0);
  for (let i = 0; i < f.n; i++) for (let j = 0; j < F; j++) rates[j] += f.data[i * F + j] / f.n;
  const pca = pca2(f.data, f.n, F, { rng });
  return { firingRates: rates, points: Array.from(pca.points), explained: pca.explained };
}

function buildReport(
  config: RunConfig,
  streams: ReturnType<typeof runStreams>,
  encoder: SpikingEncoder,
  test: Dataset,
  summary: FeatureSummary,
  ssl: ProbeResult,
  rows: Array<{ model: string; result: ProbeResult }>,
  batchLoss: number[],
  epochs: RunReport['epochs'],
  timings: Record<string, number>,
  classes: readonly string[],
  split: 'validation' | 'test',
): RunReport {
  // Rasters of the first test digit: two Poisson views and every layer's spikes for view 1.
  const rng = streams.sample;
  const x = new Tensor(test.images.slice(0, test.dim), [1, test.dim]);
  const views = [poisson(x, { steps: config.steps, rng }), poisson(x, { steps: config.steps, rng })];
  encoder.eval();
  const layers = noGrad(() => encoder.forwardLayers(views[0]));
  encoder.train();
  return {
    name: config.out,
    createdAt: new Date().toISOString(),
    config: { ...config },
    seed: config.seed,
    batchLoss,
    epochs,
    layerNames: ['input', ...layers.map((_, i) => `lif${i + 1}`)],
    accuracy: rows.map((r) => ({ model: r.model, linear: r.result.linear, knn: r.result.knn })),
    confusion: { labels: ssl.labels.map((l) => classes[l] ?? String(l)), matrix: ssl.confusion, model: `SSL encoder, linear probe, ${split} split` },
    sample: {
      label: test.labels[0],
      views: views.map((v) => ({ steps: config.steps, neurons: test.dim, data: Array.from(v.data) })),
      layers: layers.map((l, i) => ({ name: `lif${i + 1}`, steps: config.steps, neurons: l.size / config.steps, data: Array.from(l.data) })),
    },
    firingRates: summary.firingRates,
    pca: { points: summary.points, labels: Array.from(test.labels), explained: summary.explained },
    timings,
  };
}

/** Throws an OptionError unless `path` is an existing file (not a directory); `flag` names the option. */
export function checkInputFile(path: string, flag: string): void {
  if (!existsSync(path)) throw new OptionError(`${flag}: no file at ${path}`);
  if (statSync(path).isDirectory()) throw new OptionError(`${flag}: ${path} is a directory, expected a model or checkpoint file`);
}

/**
 * Runs `spikessl eval`: rebuilds the model from a model file or checkpoint written by
 * `spikessl train` and evaluates it with the run's own feature streams (so it reproduces the
 * run's accuracies). The file's config and tensor shapes are checked before anything is built.
 */
export async function runEval(options: { checkpoint: string; dataDir?: string; probeSubset: number; evalSteps?: number; representation?: string; json?: string }): Promise<ProbeResult> {
  const path = options.checkpoint;
  checkInputFile(path, '--checkpoint');
  const file = readSafetensorsFile(path);
  let config: RunConfig;
  let state: Record<string, Tensor>;
  if (file.metadata.config !== undefined) {
    config = parseConfigText(file.metadata.config, path);
    state = file.tensors;
  } else {
    const ckpt = loadCheckpoint(path);
    if (ckpt.extra.config === undefined) throw new OptionError(`${path} holds no spikessl train config`);
    config = parseRunConfig(ckpt.extra.config, path);
    state = ckpt.model;
  }
  checkModelTensors(config, state, path);
  const evalSteps = options.evalSteps || config.evalSteps || config.steps;
  // The eval options against the model's sizes (the file's own config was checked as it was read).
  const problem = runConfigProblem({ ...config, probeSubset: options.probeSubset, evalSteps });
  if (problem) throw new OptionError(problem);
  if (options.representation !== undefined) config = { ...config, representation: options.representation };
  const model = modelFromState(config, state);
  // The run's own dataset and split (its --val), from --data-dir when given.
  const { probeTrain, test, split } = loadRunData({ ...config, dataDir: options.dataDir ?? config.dataDir, probeSubset: options.probeSubset });
  log(`spikessl eval: ${path} (${config.loss}, ${config.encoder}, hidden ${config.hidden}, T = ${config.steps}, features over ${evalSteps} steps)`);
  const streams = runStreams(config.seed);
  const r = evaluateEncoder('SSL encoder', model.encoder, probeTrain, test, evalSteps, streams, config.representation, (m) => log(`WARNING: ${m.split(';')[0].replace('ConvergenceWarning: ', '')}`));
  log(formatTable([{ representation: 'SSL encoder', [`linear probe % (${split})`]: (100 * r.linear).toFixed(2), [`kNN % (${split})`]: (100 * r.knn).toFixed(2) }]));
  const jsonPath = options.json ?? join(dirname(path), 'eval.json');
  const result = {
    model: path,
    createdAt: new Date().toISOString(),
    representation: config.representation,
    evalSteps,
    split,
    probeImages: probeTrain.n,
    testImages: test.n,
    linear: r.linear,
    knn: r.knn,
    linearFit: r.linearFit,
    labels: r.labels,
    confusion: r.confusion,
    seconds: r.seconds,
  };
  writeFileAtomic(jsonPath, new TextEncoder().encode(JSON.stringify(result, null, 1)));
  log(`result: ${jsonPath}`);
  return r;
}
