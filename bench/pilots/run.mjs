#!/usr/bin/env node
// Bundles bench/pilots/pilot.ts (and the worker script the threads need) with tsup into
// .bench-out/pilots/ and runs it: node bench/pilots/run.mjs '<json config>'. Another script of
// this folder by name: node bench/pilots/run.mjs crosscheck '<json config>'.
import { build } from 'tsup';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const outDir = join(root, '.bench-out', 'pilots');
if (process.argv[2] === undefined || process.argv[2].startsWith('{')) process.argv.splice(2, 0, 'pilot');
const name = process.argv[2];
await build({ entry: { [name]: join(here, `${name}.ts`), worker: join(root, 'src/node/worker.ts') }, outDir, format: ['esm'], platform: 'node', target: 'node20', config: false, silent: true, dts: false, clean: false, outExtension: () => ({ js: '.js' }) });
const mod = await import(pathToFileURL(join(outDir, `${name}.js`)).href);
await mod.main();
