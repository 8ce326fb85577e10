/** The size guards of scripts/guards.mjs (also run by .ci/run): line cap under src/, export counts of src/index.ts. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('../scripts/guards.mjs', import.meta.url));

describe('scripts/guards.mjs', () => {
  it('passes on this repository: every file within its line cap, the entry within its export counts', () => {
    const out = execFileSync(process.execPath, [script], { encoding: 'utf8' });
    expect(out).toMatch(/^guards: every file under src\/ within its line cap; src\/index.ts exports \d+ values and \d+ types/);
  }, 60_000);

  it('fails on a file of 501 lines under src/, and not on one of 500', () => {
    const root = mkdtempSync(join(tmpdir(), 'spikessl-guards-'));
    try {
      mkdirSync(join(root, 'src', 'deep'), { recursive: true });
      writeFileSync(join(root, 'src', 'ok.ts'), 'export const a = 1;\n'.repeat(500));
      expect(spawnSync(process.execPath, [script, root]).status).toBe(0);
      writeFileSync(join(root, 'src', 'deep', 'big.ts'), 'export const a = 1;\n'.repeat(501));
      const r = spawnSync(process.execPath, [script, root], { encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('src/deep/big.ts: 501 lines, over its cap of 500');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
