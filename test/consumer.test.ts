/**
 * The built package as a consumer sees it: `dist/` imported by name through package.json's
 * `exports`, once as ESM (`import`) and once as CommonJS (`require`), each calling a function.
 */
import { execFileSync } from 'node:child_process';
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

function run(file: string, code: string): string {
  writeFileSync(join(dir, file), code);
  return execFileSync(process.execPath, [join(dir, file)], { cwd: dir, encoding: 'utf8' }).trim();
}

describe('the built package', () => {
  it('trains to the same bits on one thread and on two (worker threads split the kernels by rows)', () => {
    const script = `
import { Adam, Rng, SSLTrainer, SpikingMlp, projector, kernels } from 'spikessl';
import { enableThreads, disableThreads, threadCount } from 'spikessl/node';
function train(threads) {
  enableThreads(threads);
  const rng = new Rng(3);
  const encoder = new SpikingMlp({ hidden: [256, 256], rng });
  const head = projector(256, 128, { rng });
  const trainer = new SSLTrainer({ encoder, projector: head, loss: 'barlow', steps: 4, batchSize: 64, rng,
    optimizer: new Adam([...encoder.parameters(), ...head.parameters()], { lr: 1e-3 }) });
  const images = new Float32Array(64 * 784);
  for (let i = 0; i < images.length; i++) images[i] = rng.uniform();
  const x = new kernels.Tensor(images, [64, 784]);
  for (let s = 0; s < 2; s++) trainer.trainStep(x);
  const used = threadCount();
  const w = encoder.parameters().flatMap((p) => Array.from(p.data));
  return { used, w };
}
const one = train(1);
const two = train(2);
await disableThreads();
let diff = 0;
for (let i = 0; i < one.w.length; i++) if (one.w[i] !== two.w[i] && !(Number.isNaN(one.w[i]) && Number.isNaN(two.w[i]))) diff++;
console.log(one.used, two.used, one.w.length > 0 ? diff : -1);
`;
    expect(run('threads.mjs', script)).toBe('1 2 0');
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
