/**
 * The reference training step R1 (batch 256, T = 8): two Poisson views → Linear 784→512 →
 * Leaky → Linear 512→512 → Leaky → firing rate → projector (Linear, BatchNorm1d, ReLU,
 * Linear) → Barlow Twins → backward → Adam. Reports samples/s, the time split by phase and
 * peak memory, and feature extraction (forward only, no graph) per sample. The step is
 * SSLTrainer.trainStep's, with threadedViews() (on two threads the second view runs on the worker).
 * Run: node bench/run.mjs train-step
 */
import { noGrad } from '../src/autograd/engine';
import { poisson } from '../src/encoding/index';
import { Adam } from '../src/optim/adam';
import { firingRate } from '../src/neurons/functional';
import { Rng } from '../src/rng';
import { SpikingMlp, projector } from '../src/ssl/models';
import { SSLTrainer } from '../src/ssl/trainer';
import { Tensor } from '../src/tensor/tensor';
import { loadMnist } from '../src/node/mnist';
import { disableThreads, enableThreads, threadCount } from '../src/node/threads';
import { threadedViews } from '../src/node/views';
import { table } from './lib/measure';

/** One R1 measurement on `threads` threads. */
async function measure(threads: number) {
  enableThreads(threads);
  const B = Number(process.env.BENCH_BATCH ?? 256);
  const T = 8;
  const reps = Number(process.env.BENCH_REPS ?? 5);
  const rng = new Rng(0);
  const mnist = loadMnist({ split: 'train' });
  const encoder = new SpikingMlp({ rng });
  const head = projector(512, 512, { rng });
  const trainer = new SSLTrainer({
    encoder, projector: head, loss: 'barlow', steps: T, batchSize: B, rng, views: threadedViews(),
    optimizer: new Adam([...encoder.parameters(), ...head.parameters()], { lr: 1e-3 }),
  });
  const phases = { encode: [] as number[], forward: [] as number[], backward: [] as number[], optimizer: [] as number[], total: [] as number[] };
  let peakRss = 0;
  let density: number[] = [];
  const warmup = 4; // the JIT (the worker's too) settles over the first few steps
  for (let step = 0; step < reps + warmup; step++) {
    const x = new Tensor(mnist.images.slice(step * B * 784, (step + 1) * B * 784), [B, 784]);
    const r = trainer.trainStep(x);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    density = r.density;
    if (step < warmup) continue;
    phases.encode.push(r.ms.encode);
    phases.forward.push(r.ms.forward);
    phases.backward.push(r.ms.backward);
    phases.optimizer.push(r.ms.optimizer);
    phases.total.push(r.ms.encode + r.ms.forward + r.ms.backward + r.ms.optimizer);
  }
  const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
  const ms = Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, median(v)]));
  const samplesPerSecond = (B / ms.total) * 1000;

  // Feature extraction: forward only, no graph, eval mode.
  const xs = new Tensor(mnist.images.slice(0, 1000 * 784), [1000, 784]);
  encoder.eval();
  const f0 = performance.now();
  noGrad(() => firingRate(encoder.forward(poisson(xs, { steps: T, rng }))));
  const featureSamplesPerSecond = 1000 / ((performance.now() - f0) / 1000);

  const threadsUsed = threadCount();
  await disableThreads();
  return { threads: threadsUsed, batch: B, steps: T, ms, samplesPerSecond, peakRssMiB: peakRss / 2 ** 20, featureSamplesPerSecond, density };
}

export async function main() {
  const runs = [];
  for (const threads of (process.env.BENCH_THREADS ?? '1,2').split(',').map(Number)) runs.push(await measure(threads));
  console.log(
    table(
      runs.map((r) => ({
        threads: r.threads,
        ...Object.fromEntries(Object.entries(r.ms).map(([k, v]) => [`${k} ms`, v])),
        'samples/s': r.samplesPerSecond,
        'features/s': r.featureSamplesPerSecond,
        'peak RSS MiB': r.peakRssMiB,
      })),
    ),
  );
  console.log(`\nspike density (input, lif1, lif2) at init: ${runs[0].density.map((d) => d.toFixed(3)).join(', ')}`);
  const last = runs[runs.length - 1];
  console.log(`feature extraction is ${(last.featureSamplesPerSecond / last.samplesPerSecond).toFixed(1)}× a training step per sample (target ≥ 3×)`);
  return runs;
}
