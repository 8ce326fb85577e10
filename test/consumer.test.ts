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
  it('imports as ESM', () => {
    const out = run('esm.mjs', "import { tensor, sum } from 'spikessl';\nimport * as node from 'spikessl/node';\nconsole.log(sum(tensor([1, 2, 3.5])).item(), typeof node.Rng);\n");
    expect(out).toBe('6.5 function');
  });

  it('requires as CommonJS', () => {
    const out = run('cjs.cjs', "const { tensor, matmul } = require('spikessl');\nconst y = matmul(tensor([[1, 2]]), tensor([[3], [4]]));\nconsole.log(y.item(), typeof require('spikessl/node').Rng);\n");
    expect(out).toBe('11 function');
  });
});
