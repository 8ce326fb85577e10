/** The guards of scripts/guards.mjs (also run by .ci/run): line cap under src/, layers' imports, export counts of src/index.ts. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without declarations
import { LAYERS } from '../scripts/guards.mjs';

const script = fileURLToPath(new URL('../scripts/guards.mjs', import.meta.url));

describe('scripts/guards.mjs', () => {
  it('passes on this repository: every file within its line cap, the entry within its export counts', () => {
    const out = execFileSync(process.execPath, [script], { encoding: 'utf8' });
    expect(out).toMatch(/^guards: every file under src\/ within its line cap and its layer's imports; src\/index.ts exports \d+ values and \d+ types/);
  }, 60_000);

  it('fails on a file of 501 lines under src/, and not on one of 500', () => {
    const root = mkdtempSync(join(tmpdir(), 'spikessl-guards-'));
    try {
      mkdirSync(join(root, 'src', 'nn', 'deep'), { recursive: true });
      writeFileSync(join(root, 'src', 'rng.ts'), 'export const a = 1;\n'.repeat(500));
      expect(spawnSync(process.execPath, [script, root]).status).toBe(0);
      writeFileSync(join(root, 'src', 'nn', 'deep', 'big.ts'), 'export const a = 1;\n'.repeat(501));
      const r = spawnSync(process.execPath, [script, root], { encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain('src/nn/deep/big.ts: 501 lines, over its cap of 500');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('fails on an import that runs back up the layers, on node:* in the core, on a layer without a row; not on comments', () => {
    const root = mkdtempSync(join(tmpdir(), 'spikessl-guards-'));
    try {
      for (const d of ['tensor', 'nn', 'node', 'widgets']) mkdirSync(join(root, 'src', d), { recursive: true });
      writeFileSync(join(root, 'src', 'nn', 'layers.ts'), "import { Tensor } from '../tensor/tensor';\nimport { Rng } from '../rng';\n// import { x } from '../ssl/models';\n/** import { readFileSync } from 'node:fs'; */\n");
      writeFileSync(join(root, 'src', 'node', 'fs.ts'), "import { readFileSync } from 'node:fs';\nimport { Linear } from '../nn/layers';\n");
      expect(spawnSync(process.execPath, [script, root], { encoding: 'utf8' }).stderr).toBe('');
      writeFileSync(join(root, 'src', 'tensor', 'up.ts'), "import type { Module } from '../nn/module';\nexport { x } from '../index';\n");
      writeFileSync(join(root, 'src', 'nn', 'file.ts'), "const fs = await import('node:fs');\n");
      writeFileSync(join(root, 'src', 'widgets', 'w.ts'), 'export const w = 1;\n');
      const r = spawnSync(process.execPath, [script, root], { encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split('\n').sort()).toEqual([
        "src/nn/file.ts: layer 'nn' imports 'node:fs' (layer 'node:*'), which LAYERS does not allow it",
        "src/tensor/up.ts: layer 'tensor' imports '../index' (layer 'index.ts'), which LAYERS does not allow it",
        "src/tensor/up.ts: layer 'tensor' imports '../nn/module' (layer 'nn'), which LAYERS does not allow it",
        "src/widgets/w.ts: its layer 'widgets' has no row in LAYERS (scripts/guards.mjs) and ARCHITECTURE.md",
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('ARCHITECTURE.md and LAYERS name the same layers with the same imports', () => {
    const doc = readFileSync(fileURLToPath(new URL('../ARCHITECTURE.md', import.meta.url)), 'utf8');
    const core = ['errors.ts', 'rng.ts', 'tensor', 'autograd', 'nn', 'optim', 'neurons', 'encoding', 'classifiers', 'data', 'io', 'report', 'ssl', 'interop'];
    const table: Record<string, string[]> = {};
    for (const m of doc.matchAll(/^\| `src\/([^`]+?)\/?` \| .* \| ([^|]+) \|$/gm)) {
      table[m[1]] = m[2].trim() === '—' ? [] : m[2].split(', ').flatMap((x) => (x.trim() === 'every layer above' ? core : [x.trim()]));
    }
    expect(Object.keys(table).sort()).toEqual(Object.keys(LAYERS).sort());
    for (const [layer, imports] of Object.entries(table)) expect([layer, [...imports].sort()]).toEqual([layer, [...(LAYERS as Record<string, string[]>)[layer]].sort()]);
  });
});
