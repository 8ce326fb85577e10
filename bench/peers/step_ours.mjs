// One training step of ours against PyTorch's, part 1 of 2 (part 2: step_compare.py).
// Runs N training steps of our R1 (what `spikessl train --loss barlow` does: buildModel, Adam lr
// 1e-3, SSLTrainer.trainStep on shuffled drop-last batches of 256, T = 8) and dumps, for every
// step, the two Poisson views it used, the loss, the gradients and the state after the step.
//   npm run build && node bench/peers/step_ours.mjs 20 0 /tmp/steps
//   /usr/bin/python3 bench/peers/step_compare.py /tmp/steps
// START=runs/NAME/checkpoint.safetensors: start from a trained run's checkpoint (weights, Adam's
// state and the Rng) instead of the initialisation, to compare steps late in training; Adam's
// state is dumped too (adam.f32: exp_avg then exp_avg_sq of each parameter) for step_compare.py.
import { mkdirSync, writeFileSync } from 'node:fs';
// SPIKESSL_DIST: the build to test (default: this clone's dist/).
const DIST = process.env.SPIKESSL_DIST ?? new URL('../../dist', import.meta.url).pathname;
const { Adam, Rng, SSLTrainer, batches, buildModel, poisson, loadMnist, disableThreads, loadCheckpoint, restoreCheckpoint, runStreams } = await import(`${DIST}/node.js`);
console.log(`library: ${DIST}`);

const STEPS = Number(process.argv[2] ?? 20);
const SEED = Number(process.argv[3] ?? 0);
const OUT = process.argv[4] ?? 'step-data';
mkdirSync(OUT, { recursive: true });
// THREADS=n (default 1): run the library's worker-thread kernels with n threads, as the CLI does by
// default (--threads 0 = every core). Pin with `taskset -c 0` to keep the load on one core.
const { enableThreads, threadCount, threadedViews } = await import(`${DIST}/node.js`);
if (Number(process.env.THREADS ?? 1) > 1) enableThreads(Number(process.env.THREADS));
else await disableThreads();
console.log(`threads: ${threadCount()}`);

// Same construction as src/node/run.ts runTrain with the CLI defaults.
const config = { encoder: 'mlp', hidden: 512, projDim: 512, bn: false };
const streams = runStreams(SEED);
const model = buildModel(config, streams.init);
const rng = streams.train;
const optimizer = new Adam(model.parameters(), { lr: 0.001 });
const trainer = new SSLTrainer({ encoder: model.encoder, projector: model.projector, loss: 'barlow', optimizer, steps: 8, batchSize: 256, schedulerInterval: 'batch', rng, views: threadedViews() });
const train = loadMnist({ split: 'train' });
let adamStep = 0;
if (process.env.START) {
  restoreCheckpoint(loadCheckpoint(process.env.START), { model, optimizer, rng });
  const sd = optimizer.stateDict();
  adamStep = sd.step[0];
  if (sd.step.some((t) => t !== adamStep)) throw new Error('parameters at different Adam steps');
  const parts = [];
  model.parameters().forEach((p, i) => parts.push(Float32Array.from(sd.buffers[`${i}.exp_avg`].data), Float32Array.from(sd.buffers[`${i}.exp_avg_sq`].data)));
  writeBin(`${OUT}/adam.f32`, parts);
  console.log(`started from ${process.env.START} at Adam step ${adamStep}`);
}

function dumpState(file) {
  // every state-dict entry (params + buffers), float32, in state-dict order
  const sd = model.stateDict();
  const manifest = [];
  const parts = [];
  for (const [k, t] of Object.entries(sd)) {
    manifest.push({ name: k, shape: t.shape });
    parts.push(Float32Array.from(t.data));
  }
  writeBin(file, parts);
  return manifest;
}
function dumpGrads(file) {
  const manifest = [];
  const parts = [];
  for (const [k, p] of model.namedParameters()) {
    manifest.push({ name: k, shape: p.shape });
    parts.push(Float32Array.from(p.grad.data));
  }
  writeBin(file, parts);
  return manifest;
}
function writeBin(file, parts) {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const all = new Float32Array(n);
  let o = 0;
  for (const p of parts) { all.set(p, o); o += p.length; }
  writeFileSync(file, Buffer.from(all.buffer));
}

const stateManifest = dumpState(`${OUT}/state_0.f32`);
const losses = [];
let gradManifest = null;
const it = batches(train, { batchSize: 256, dropLast: true, shuffle: true, rng });
for (let k = 1; k <= STEPS; k++) {
  const { value: batch } = it.next();
  // Re-draw the two views the trainer will draw, from a copy of its generator.
  const clone = Rng.fromState(rng.state());
  const v1 = poisson(batch.x, { steps: 8, rng: clone });
  const v2 = poisson(batch.x, { steps: 8, rng: clone });
  const views = new Uint8Array(2 * v1.size);
  views.set(Uint8Array.from(v1.data), 0);
  views.set(Uint8Array.from(v2.data), v1.size);
  writeFileSync(`${OUT}/views_${k}.u8`, views);
  const t0 = performance.now();
  const r = trainer.trainStep(batch.x);
  const ms = performance.now() - t0;
  const a = rng.state().s, b = clone.state().s;
  if (a.some((w, i) => w !== b[i])) throw new Error('trainer drew its views differently from the copy');
  losses.push(r.loss);
  gradManifest = dumpGrads(`${OUT}/grad_${k}.f32`);
  dumpState(`${OUT}/state_${k}.f32`);
  console.log(`step ${k}: loss ${r.loss.toFixed(6)} density ${r.density.map((d) => d.toFixed(4)).join('/')} (${ms.toFixed(0)} ms)`);
}
await disableThreads();
writeFileSync(`${OUT}/meta.json`, JSON.stringify({ steps: STEPS, seed: SEED, adamStep, losses, stateManifest, gradManifest }, null, 1));
