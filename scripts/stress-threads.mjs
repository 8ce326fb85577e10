#!/usr/bin/env node
// Stress for the worker pool's hand-offs (issue 23, item 1): many small row-split GEMMs and
// view-parallel training steps and feature batches on more threads than cores, each result checked bit for bit
// against one thread. A stale wake-up read as a finished job shows as a thrown
// "enableThreads: worker N failed" or as different bits.
//
//   npm run build && taskset -c 0 node scripts/stress-threads.mjs [rounds = 200] [threads = 8]
//
// Prints one line per failure and a summary; exits 1 if anything failed.
import { Adam, Rng, SSLTrainer, SpikingMlp, kernels, makeDataset, projector } from '../dist/index.js';
import { disableThreads, enableThreads, threadedViews } from '../dist/node.js';

const rounds = Number(process.argv[2] ?? 200);
const threads = Number(process.argv[3] ?? 8);

// 128 × 128 × 128 = 2^21 multiply-adds: just enough to be split across the threads.
const M = 128, N = 128, K = 128;
const rng = new Rng(1);
const A = Float32Array.from({ length: M * K }, () => rng.normal());
const B = Float32Array.from({ length: K * N }, () => rng.normal());
const gemm = () => {
  const C = new Float32Array(M * N);
  kernels.gemm(false, true, M, N, K, A, 0, K, B, 0, K, C, 0, N, false);
  return C;
};

function steps(n) {
  const r = new Rng(3);
  const encoder = new SpikingMlp({ hidden: [64, 64], batchNorm: true, rng: r });
  const head = projector(encoder.features, 32, { rng: r });
  const trainer = new SSLTrainer({ encoder, projector: head, loss: 'barlow', steps: 2, batchSize: 16, rng: r, views: threadedViews(),
    optimizer: new Adam([...encoder.parameters(), ...head.parameters()], { lr: 1e-3 }) });
  const x = new kernels.Tensor(Float32Array.from({ length: 16 * 784 }, () => r.uniform()), [16, 784]);
  const losses = [];
  for (let s = 0; s < n; s++) losses.push(trainer.trainStep(x).loss);
  // Features in batches of 4, two at a time (the second on a worker), as the evaluation runs them.
  const features = trainer.features(makeDataset(x.data, new Int32Array(16), [28, 28]), new Rng(9), 4);
  return Float64Array.from([...losses, ...features]);
}

const same = (a, b) => a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
const refGemm = gemm();
const refSteps = steps(4);
enableThreads(threads);
let failures = 0;
for (let i = 0; i < rounds; i++) {
  try {
    for (let g = 0; g < 20; g++) if (!same(gemm(), refGemm)) throw new Error('GEMM bits differ from one thread');
    if (!same(steps(4), refSteps)) throw new Error('training losses or features differ from one thread');
  } catch (e) {
    failures++;
    console.log(`round ${i}: ${String(e.message ?? e).split('\n')[0]}`);
    enableThreads(threads); // a fresh pool for the next round
  }
}
await disableThreads();
console.log(`${rounds} rounds × (20 GEMMs + 4 training steps + features) on ${threads} threads: ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
