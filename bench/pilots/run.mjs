#!/usr/bin/env node
// Bundles bench/pilots/pilot.ts (and the worker script the threads need) with tsup into
// .bench-out/pilots/ and runs it with the remaining arguments: node bench/pilots/run.mjs '<json config>'.
import { build } from 'tsup';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const outDir = join(root, '.bench-out', 'pilots');
await build({ entry: { pilot: join(here, 'pilot.ts'), worker: join(root, 'src/node/worker.ts') }, outDir, format: ['esm'], platform: 'node', target: 'node20', config: false, silent: true, dts: false, clean: false, outExtension: () => ({ js: '.js' }) });
const mod = await import(pathToFileURL(join(outDir, 'pilot.js')).href);
await mod.main();
