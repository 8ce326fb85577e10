/**
 * The reference training step R1 (batch 256, T = 8): two Poisson views → Linear 784→512 →
 * Leaky → Linear 512→512 → Leaky → firing rate → projector (Linear, BatchNorm1d, ReLU,
 * Linear) → Barlow Twins → backward → Adam. Reports samples/s, the time split by phase and
 * peak memory, and feature extraction (forward only, no graph) per sample.
 * Run: node bench/run.mjs train-step
 */
import { backward, noGrad } from '../src/autograd/engine';
import { poisson } from '../src/encoding/index';
import { Adam } from '../src/optim/adam';
import { firingRate } from '../src/neurons/functional';
import { Rng } from '../src/rng';
import { barlowTwinsLoss } from '../src/ssl/losses';
import { SpikingMlp, projector } from '../src/ssl/models';
import { Tensor } from '../src/tensor/tensor';
import { loadMnist } from '../src/node/mnist';
import { disableThreads, enableThreads, threadCount } from '../src/node/threads';
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
  const opt = new Adam([...encoder.parameters(), ...head.parameters()], { lr: 1e-3 });
  const phases = { encode: [] as number[], forward: [] as number[], backward: [] as number[], optimizer: [] as number[], total: [] as number[] };
  let peakRss = 0;
  let density: number[] = [];
  for (let step = 0; step < reps + 1; step++) {
    const x = new Tensor(mnist.images.slice(step * B * 784, (step + 1) * B * 784), [B, 784]);
    const t0 = performance.now();
    const v1 = poisson(x, { steps: T, rng });
    const v2 = poisson(x, { steps: T, rng });
    const t1 = performance.now();
    const l1 = encoder.forwardLayers(v1);
    const l2 = encoder.forwardLayers(v2);
    const loss = barlowTwinsLoss(head.forward(firingRate(l1[1])), head.forward(firingRate(l2[1])));
    const t2 = performance.now();
    opt.zeroGrad();
    backward(loss);
    const t3 = performance.now();
    opt.step();
    const t4 = performance.now();
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    density = [v1, ...l1].map((s) => s.data.reduce((a, b) => a + b, 0) / s.size);
    if (step === 0) continue; // warm-up
    phases.encode.push(t1 - t0);
    phases.forward.push(t2 - t1);
    phases.backward.push(t3 - t2);
    phases.optimizer.push(t4 - t3);
    phases.total.push(t4 - t0);
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
