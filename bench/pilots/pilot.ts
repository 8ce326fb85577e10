/**
 * A recipe pilot through the library API, judged on VALIDATION only: trains an encoder on the
 * training split minus its last `val` images, then probes several representations (layers,
 * pooling, evaluation steps) of the trained encoder, of the same encoder untrained (BatchNorm
 * statistics calibrated) and of raw pixels — all fitted on the first `probe` training images and
 * scored on the held-out ones. One forward pass per image and evaluation T serves every
 * representation. Appends one JSON line per result to bench/pilots/results.jsonl.
 *
 * Usage (after npm run build is not needed: bench/pilots/run.mjs bundles this file):
 *   node bench/pilots/run.mjs '{"name":"f1","dataset":"fashion-mnist","encoder":"conv","channels":[16,32],...}'
 * Every field of PilotConfig below may be given; the rest take the defaults.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { noGrad } from '../../src/autograd/engine';
import { subset, batches, type Dataset } from '../../src/data/dataset';
import { holdOut } from '../../src/data/registry';
import { poisson } from '../../src/encoding/index';
import { firingRate } from '../../src/neurons/functional';
import { avgPool2d } from '../../src/nn/functional';
import { loadDataset } from '../../src/node/datasets';
import { readSafetensorsFile, writeSafetensorsFile } from '../../src/node/fs';
import { enableThreads, disableThreads } from '../../src/node/threads';
import { threadedViews } from '../../src/node/views';
import { Adam } from '../../src/optim/adam';
import { CosineAnnealingLR } from '../../src/optim/schedulers';
import { Rng } from '../../src/rng';
import { parseAugmentation } from '../../src/ssl/augment';
import { type FeatureSet, probe } from '../../src/ssl/evaluate';
import { parseRepresentation, type RepresentationSpec } from '../../src/ssl/features';
import { ntXentLoss, vicregLoss } from '../../src/ssl/losses';
import { type SpikingEncoder, SpikingConvNet, SpikingMlp, projector, SSLModel } from '../../src/ssl/models';
import { calibrateBatchNorm } from '../../src/ssl/calibrate';
import { SSLTrainer } from '../../src/ssl/trainer';
import type { Tensor } from '../../src/tensor/tensor';

interface PilotConfig {
  name: string;
  dataset: string;
  encoder: 'mlp' | 'conv';
  channels: [number, number];
  hidden: number;
  projDim: number;
  bn: boolean;
  loss: 'ntxent' | 'vicreg' | 'barlow';
  temperature: number;
  steps: number;
  batch: number;
  lr: number;
  cosine: boolean;
  augment: string;
  epochs: number;
  /** Train on the first N of the non-validation images (0 = all). */
  trainSubset: number;
  val: number;
  /** Fit the probes on the first N training images (0 = all non-validation ones). */
  probe: number;
  /** Score on the first N validation images (0 = all). */
  valSubset: number;
  evalSteps: number[];
  representations: string[];
  baselines: boolean;
  seed: number;
  threads: number;
  /** Evaluate this model file (encoder.* / projector.* tensors of the same architecture) instead of training. */
  from: string;
}

const DEFAULTS: PilotConfig = {
  name: 'pilot',
  dataset: 'fashion-mnist',
  encoder: 'conv',
  channels: [16, 32],
  hidden: 512,
  projDim: 512,
  bn: true,
  loss: 'vicreg',
  temperature: 0.3,
  steps: 4,
  batch: 128,
  lr: 0.002,
  cosine: true,
  augment: 'none',
  epochs: 1,
  trainSubset: 0,
  val: 10000,
  probe: 10000,
  valSubset: 0,
  evalSteps: [16],
  representations: ['last'],
  baselines: true,
  seed: 0,
  threads: 2,
  from: '',
};

const here = join(process.cwd(), 'bench', 'pilots');

function log(s: string): void {
  process.stdout.write(`${s}\n`);
}

/** Features of every representation in `specs` from one encoding per image: one forward pass serves all. */
function manyFeatures(encoder: SpikingEncoder, data: Dataset, steps: number, specs: RepresentationSpec[], rng: Rng): FeatureSet[] {
  const outs: Float32Array[] = [];
  const dims: number[] = [];
  encoder.eval();
  let row = 0;
  for (const batch of batches(data, { batchSize: 250, shuffle: false })) {
    const B = batch.y.length;
    const layers = noGrad(() => encoder.forwardLayers(poisson(batch.x, { steps, rng })));
    specs.forEach((spec, s) => {
      const parts: Tensor[] = [];
      for (const l of spec.layers ?? [layers.length]) {
        let rate = firingRate(layers[l - 1]);
        if (spec.grid !== undefined && rate.ndim === 4 && rate.shape[2] !== spec.grid) rate = avgPool2d(rate, [rate.shape[2] / spec.grid, rate.shape[3] / spec.grid]);
        parts.push(rate);
      }
      const d = parts.reduce((a, p) => a + p.size / B, 0);
      if (row === 0) {
        outs[s] = new Float32Array(data.n * d);
        dims[s] = d;
      }
      for (let i = 0; i < B; i++) {
        let o = (row + i) * d;
        for (const p of parts) {
          const pd = p.size / B;
          outs[s].set(p.data.subarray(i * pd, (i + 1) * pd), o);
          o += pd;
        }
      }
    });
    row += B;
  }
  encoder.train();
  return specs.map((_, s) => ({ data: outs[s], n: data.n, dim: dims[s], labels: data.labels }));
}

function buildEncoder(c: PilotConfig, rng: Rng): SpikingEncoder {
  return c.encoder === 'conv'
    ? new SpikingConvNet({ channels: c.channels, features: c.hidden, batchNorm: c.bn, rng })
    : new SpikingMlp({ hidden: [c.hidden, c.hidden], batchNorm: c.bn, rng });
}

export async function main(): Promise<void> {
  const c: PilotConfig = { ...DEFAULTS, ...(JSON.parse(process.argv[3] ?? '{}') as Partial<PilotConfig>) };
  if (c.threads > 1) enableThreads(c.threads);
  mkdirSync(join(here, 'runs'), { recursive: true });
  const full = loadDataset({ name: c.dataset, split: 'train' });
  const { train: fit, val: valFull } = holdOut(full, c.val);
  const train = c.trainSubset > 0 ? subset(fit, Math.min(c.trainSubset, fit.n)) : fit;
  const probeSet = c.probe > 0 ? subset(fit, Math.min(c.probe, fit.n)) : fit;
  const val = c.valSubset > 0 ? subset(valFull, Math.min(c.valSubset, valFull.n)) : valFull;
  log(`pilot ${c.name}: ${JSON.stringify(c)}`);
  const specs = c.representations.map(parseRepresentation);
  const rng = new Rng(c.seed);
  const encoder = buildEncoder(c, rng);
  const head = projector(encoder.features, c.projDim, { rng });
  const model = new SSLModel(encoder, head);
  const optimizer = new Adam(model.parameters(), { lr: c.lr });
  const perEpoch = Math.floor(train.n / c.batch);
  const scheduler = c.cosine ? new CosineAnnealingLR(optimizer, { tMax: Math.max(1, perEpoch * c.epochs) }) : undefined;
  const trainer = new SSLTrainer({
    encoder,
    projector: head,
    loss: c.loss === 'ntxent' ? (a, b) => ntXentLoss(a, b, { temperature: c.temperature }) : c.loss === 'vicreg' ? (a, b) => vicregLoss(a, b) : 'barlow',
    optimizer,
    scheduler,
    schedulerInterval: 'batch',
    steps: c.steps,
    batchSize: c.batch,
    augment: parseAugmentation(c.augment),
    rng,
    views: threadedViews(),
  });
  const t0 = performance.now();
  let last = 0;
  if (c.from) model.loadStateDict(readSafetensorsFile(c.from).tensors);
  else trainer.fit(train, {
    epochs: c.epochs,
    onBatch: (p) => {
      if (performance.now() - last > 30000 || p.batch === p.batches) {
        last = performance.now();
        log(`  epoch ${p.epoch} batch ${p.batch}/${p.batches} loss ${p.loss.toFixed(4)} ${p.samplesPerSecond.toFixed(0)} samples/s density ${p.density.map((d) => d.toFixed(3)).join('/')}`);
      }
    },
  });
  const trainSeconds = (performance.now() - t0) / 1000;
  log(`  trained in ${trainSeconds.toFixed(0)} s`);
  if (!c.from) writeSafetensorsFile(join(here, 'runs', `${c.name}.safetensors`), model.stateDict(), { format: 'pt', config: JSON.stringify(c) });

  const record = (model: string, rep: string, T: number, r: ReturnType<typeof probe>, dim: number, seconds: number) => {
    const line = { name: c.name, model, representation: rep, evalSteps: T, dim, linear: r.linear, knn: r.knn, converged: r.linearFit.converged, iterations: r.linearFit.iterations, probeSeconds: r.seconds, featureSeconds: seconds, trainSeconds, config: c, date: new Date().toISOString() };
    appendFileSync(join(here, 'results.jsonl'), `${JSON.stringify(line)}\n`);
    log(`  ${model.padEnd(9)} ${rep.padEnd(14)} T=${String(T).padEnd(3)} dim ${String(dim).padEnd(5)} linear ${(100 * r.linear).toFixed(2)} kNN ${(100 * r.knn).toFixed(2)}${r.linearFit.converged ? '' : ' (NOT converged)'} [${r.linearFit.iterations} it]`);
  };
  const judge = (label: string, enc: SpikingEncoder) => {
    for (const T of c.evalSteps) {
      const t1 = performance.now();
      const fTrain = manyFeatures(enc, probeSet, T, specs, new Rng(c.seed + 1));
      const fVal = manyFeatures(enc, val, T, specs, new Rng(c.seed + 2));
      const seconds = (performance.now() - t1) / 1000;
      specs.forEach((_, s) => record(label, c.representations[s], T, probe(fTrain[s], fVal[s], { overwrite: true, onWarning: (m) => log(`  warning: ${m.slice(0, 160)}`) }), fTrain[s].dim, seconds));
    }
  };
  judge('ssl', encoder);
  if (c.baselines) {
    const random = buildEncoder(c, new Rng(c.seed));
    calibrateBatchNorm(random, probeSet, { steps: c.steps, rng: new Rng(c.seed + 5) });
    judge('untrained', random);
    const px = (d: Dataset): FeatureSet => ({ data: d.images.slice(), n: d.n, dim: d.dim, labels: d.labels });
    record('pixels', 'pixels', 0, probe(px(probeSet), px(val), { overwrite: true }), probeSet.dim, 0);
  }
  await disableThreads();
}
