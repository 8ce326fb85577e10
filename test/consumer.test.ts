/**
 * The built package as a consumer sees it: `dist/` imported by name through package.json's
 * `exports`, once as ESM (`import`) and once as CommonJS (`require`), each calling a function.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
let dir = '';

beforeAll(() => {
  execFileSync(process.execPath, [join(root, 'node_modules/tsup/dist/cli-default.js')], { cwd: root, stdio: 'pipe' });
  dir = mkdtempSync(join(tmpdir(), 'spikessl-consumer-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules', 'spikessl'), 'dir');
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function run(file: string, code: string, nodeFlags: string[] = []): string {
  writeFileSync(join(dir, file), code);
  return execFileSync(process.execPath, [...nodeFlags, join(dir, file)], { cwd: dir, encoding: 'utf8' }).trim();
}

describe('the built package', () => {
  it('trains and extracts features to the same bits on one thread and on two (kernels split by rows, views and batches on a worker)', () => {
    const script = `
import { Adam, Rng, SSLTrainer, SpikingConvNet, SpikingMlp, makeDataset, projector, kernels } from 'spikessl';
import { enableThreads, disableThreads, threadActivity, threadCount, threadedViews } from 'spikessl/node';
function train(threads, encoderKind) {
  enableThreads(threads);
  const rng = new Rng(3);
  const encoder = encoderKind === 'conv' ? new SpikingConvNet({ channels: [2, 4], features: 32, rng })
    : new SpikingMlp({ hidden: [256, 256], batchNorm: encoderKind === 'mlp+bn', rng });
  const head = projector(encoder.features, 128, { rng });
  const trainer = new SSLTrainer({ encoder, projector: head, loss: 'barlow', steps: 4, batchSize: 64, rng, views: threadedViews(),
    optimizer: new Adam([...encoder.parameters(), ...head.parameters()], { lr: 1e-3 }) });
  const images = new Float32Array(64 * 784);
  for (let i = 0; i < images.length; i++) images[i] = rng.uniform();
  const x = new kernels.Tensor(images, [64, 784]);
  for (let s = 0; s < 2; s++) trainer.trainStep(x);
  // Features of the 64 images in batches of 14: five batches (the last of 8), the second and fourth on the worker.
  const data = makeDataset(images, new Int32Array(64), [28, 28]);
  const features = trainer.features(data, new Rng(9), 14);
  const used = threadCount();
  const { views } = threadActivity();
  // Parameters and buffers (BatchNorm running statistics and batch counts included), then the features.
  const w = [encoder, head].flatMap((m) => Object.values(m.stateDict())).flatMap((t) => Array.from(t.data));
  return { used, views, w: [...w, ...features] };
}
const out = [];
for (const kind of ['mlp', 'mlp+bn', 'conv']) {
  const one = train(1, kind);
  const two = train(2, kind);
  let diff = 0;
  for (let i = 0; i < one.w.length; i++) if (one.w[i] !== two.w[i] && !(Number.isNaN(one.w[i]) && Number.isNaN(two.w[i]))) diff++;
  out.push(one.used, two.used, two.views, one.w.length > 0 ? diff : -1);
}
await disableThreads();
console.log(out.join(' '));
`;
    // Per encoder: threads used (1, 2), passes run on the worker (2 views + 2 feature batches), differing values (0).
    expect(run('threads.mjs', script)).toBe('1 2 4 0 1 2 4 0 1 2 4 0');
  });

  it('keeps one thread\'s bits on two when the main thread picks its kernels (relaxed SIMD, plain SIMD, TypeScript): workers follow it', () => {
    // With relaxed SIMD available (a V8 flag on Node 20) a worker would start on it; the main
    // thread's choice travels with every job, so a GEMM split across threads is the one-thread GEMM.
    const script = `
import { Rng, kernels } from 'spikessl';
import { enableThreads, disableThreads, threadCount } from 'spikessl/node';
// Big enough that the worker takes some of the rows (a small GEMM may all go to the main thread).
const M = 1024, N = 512, K = 512;
const rng = new Rng(1);
const A = Float32Array.from({ length: M * K }, () => rng.normal());
const B = Float32Array.from({ length: K * N }, () => rng.normal());
const gemm = () => {
  const C = new Float32Array(M * N);
  kernels.gemm(false, true, M, N, K, A, 0, K, B, 0, K, C, 0, N, false);
  return C;
};
const differing = (a, b) => a.reduce((n, v, i) => n + (Object.is(v, b[i]) ? 0 : 1), 0);
const out = [];
const ones = {};
for (const kind of ['relaxed-simd', 'simd128', 'none']) {
  enableThreads(1);
  kernels.useWasmKernels(kind !== 'none');
  if (kind !== 'none') kernels.useRelaxedSimd(kind === 'relaxed-simd');
  const one = gemm();
  enableThreads(2);
  let worst = 0;
  for (let r = 0; r < 5; r++) worst = Math.max(worst, differing(one, gemm()));
  out.push(kernels.wasmKernelKind(), threadCount(), worst);
  ones[kind] = one;
}
await disableThreads();
// The three kinds do differ in their last bits, so agreeing across threads means something.
out.push(differing(ones['relaxed-simd'], ones['simd128']) > 0, differing(ones['simd128'], ones['none']) > 0);
console.log(out.join(' '));
`;
    expect(run('kinds.mjs', script, ['--experimental-wasm-relaxed-simd'])).toBe('relaxed-simd 2 0 simd128 2 0 none 2 0 true true');
  });

  it('hands jobs to 8 workers on one core without a stale wake-up read as a failure (scripts/stress-threads.mjs, bounded)', () => {
    // On one core the workers are preempted often, between storing their done flag and notifying:
    // the race of issue 23 (a longer run: `taskset -c 0 node scripts/stress-threads.mjs 2000`).
    const stress = [join(root, 'scripts/stress-threads.mjs'), '20', '8'];
    const oneCore = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
    const out = oneCore
      ? execFileSync('taskset', ['-c', '0', process.execPath, ...stress], { encoding: 'utf8' })
      : execFileSync(process.execPath, stress, { encoding: 'utf8' });
    expect(out.trim().split('\n').at(-1)).toBe('20 rounds × (20 GEMMs + 4 training steps + features) on 8 threads: 0 failed');
  });

  it('imports as ESM', () => {
    const out = run('esm.mjs', "import { tensor, sum } from 'spikessl';\nimport * as node from 'spikessl/node';\nconsole.log(sum(tensor([1, 2, 3.5])).item(), typeof node.Rng);\n");
    expect(out).toBe('6.5 function');
  });

  it('requires as CommonJS', () => {
    const out = run('cjs.cjs', "const { tensor, matmul } = require('spikessl');\nconst y = matmul(tensor([[1, 2]]), tensor([[3], [4]]));\nconsole.log(y.item(), typeof require('spikessl/node').Rng);\n");
    expect(out).toBe('11 function');
  });
});
