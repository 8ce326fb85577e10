#!/usr/bin/env node
// Runs bench scripts: bundles each bench/<name>.ts with tsup (a devDependency) into
// .bench-out/ and runs it in this process, so the figures come from plain Node with no
// transpiler in the loop. Usage: node bench/run.mjs [name ...]  (no names: every bench).
import { build } from 'tsup';
import { readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const ORDER = ['gemm', 'spikes', 'lif', 'classifiers', 'train-step'];
const available = readdirSync(here).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));
const wanted = process.argv.slice(2);
const names = wanted.length ? wanted : ORDER.filter((n) => available.includes(n)).concat(available.filter((n) => !ORDER.includes(n)));

const results = {};
for (const name of names) {
  if (!available.includes(name)) {
    console.error(`bench: no bench/${name}.ts (available: ${available.join(', ')})`);
    process.exit(2);
  }
  const outDir = join(root, '.bench-out');
  await build({ entry: { [name]: join(here, `${name}.ts`), worker: join(root, 'src/node/worker.ts') }, outDir, format: ['esm'], platform: 'node', target: 'node20', config: false, silent: true, dts: false, clean: false,
    // Always .js (ESM under this package's "type": "module"): left to itself tsup picks .mjs when run
    // from a directory without that package.json, and the import below would load a stale bundle.
    outExtension: () => ({ js: '.js' }) });
  const outfile = join(outDir, `${name}.js`);
  const mod = await import(pathToFileURL(outfile).href);
  if (typeof mod.main !== 'function') {
    console.error(`bench: bench/${name}.ts must export an async main()`);
    process.exit(2);
  }
  console.log(`\n## ${name}\n`);
  results[name] = await mod.main();
}
if (!wanted.length) {
  writeFileSync(join(here, 'results.json'), JSON.stringify({ date: new Date().toISOString(), node: process.version, results }, null, 2) + '\n');
  console.log('\nwrote bench/results.json');
}
