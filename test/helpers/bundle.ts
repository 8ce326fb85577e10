/**
 * The Node entry and the CLI bundled from source into a temporary directory, for tests that need
 * a child process (kills, resource limits, peak memory). A separate directory from dist/, which
 * the consumer test rebuilds (and cleans) concurrently.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../..', import.meta.url));

/** Builds `node.js`, `cli.js` and `worker.js` (ESM) into a fresh temporary directory; returns it and a cleanup. */
export async function bundleNode(): Promise<{ dir: string; cleanup: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'spikessl-bundle-'));
  const { build } = await import('tsup');
  await build({
    config: false,
    entry: { node: join(root, 'src/node.ts'), cli: join(root, 'src/cli.ts'), worker: join(root, 'src/node/worker.ts') },
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
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
