#!/usr/bin/env node
// The spikessl side of the PyTorch safetensors check (scripts/torch_safetensors_check.py runs it;
// it is not part of `npm test`). Bundles src/index.ts with tsup into a temporary folder, then:
//   node scripts/torch_interop.mjs write <model.safetensors> <io.safetensors>
//     writes the state of nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2)) with fixed values, and
//     an input batch with the eval-mode outputs computed here from the layer equations
//   node scripts/torch_interop.mjs read <file.safetensors>
//     decodes a file and prints every entry as JSON: dtype, shape, float32 values, raw values
import { build } from 'tsup';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = mkdtempSync(join(tmpdir(), 'spikessl-interop-'));
let lib;
try {
  await build({ entry: { index: join(root, 'src/index.ts') }, outDir: out, format: ['esm'], platform: 'neutral', target: 'node20', config: false, silent: true, dts: false, outExtension: () => ({ js: '.mjs' }) });
  lib = await import(pathToFileURL(join(out, 'index.mjs')).href);
} finally {
  rmSync(out, { recursive: true, force: true });
}
const { encodeSafetensors, decodeSafetensors, tensor } = lib;

const [command, ...files] = process.argv.slice(2);
if (command === 'write' && files.length === 2) {
  const W = [[0.5, -1.25, 2], [1.5, 0.25, -0.75]];
  const b = [0.1, -0.2];
  const gamma = [1.5, 0.5];
  const beta = [-0.25, 0.75];
  const mean = [0.3, -0.4];
  const variance = [2.0, 0.5];
  const eps = 1e-5;
  const x = [[1, 2, 3], [-1, 0.5, 0], [0, 0, 0], [2.5, -3, 1]];
  // Eval-mode BatchNorm1d after Linear: y = γ·(Wx + b − μ)/√(σ² + ε) + β, in double precision.
  const expected = x.map((row) => W.map((w, j) => {
    const z = w[0] * row[0] + w[1] * row[1] + w[2] * row[2] + b[j];
    return (gamma[j] * (z - mean[j])) / Math.sqrt(variance[j] + eps) + beta[j];
  }));
  const model = encodeSafetensors(
    {
      '0.weight': tensor(W),
      '0.bias': tensor(b),
      '1.weight': tensor(gamma),
      '1.bias': tensor(beta),
      '1.running_mean': tensor(mean),
      '1.running_var': tensor(variance),
      '1.num_batches_tracked': { dtype: 'I64', shape: [], data: BigInt64Array.of(7n) },
    },
    { format: 'pt', writer: 'spikessl' },
  );
  writeFileSync(files[0], model);
  writeFileSync(files[1], encodeSafetensors({ x: tensor(x), expected: { dtype: 'F64', shape: [4, 2], data: Float64Array.from(expected.flat()) } }));
  console.log(`wrote ${files[0]} (${model.length} bytes) and ${files[1]}`);
} else if (command === 'read' && files.length === 1) {
  const { tensors, raw, metadata } = decodeSafetensors(readFileSync(files[0]), files[0]);
  const entries = {};
  for (const name of Object.keys(raw)) {
    const r = raw[name];
    entries[name] = {
      dtype: r.dtype,
      shape: r.shape,
      // JSON numbers cannot hold NaN/±Infinity or 64-bit integers: strings for those.
      values: Array.from(tensors[name].data, (v) => (Number.isFinite(v) ? v : String(v))),
      raw: Array.from(r.data, (v) => (typeof v === 'bigint' || !Number.isFinite(v) ? String(v) : v)),
    };
  }
  console.log(JSON.stringify({ metadata, entries }));
} else {
  console.error('usage: node scripts/torch_interop.mjs write <model.safetensors> <io.safetensors> | read <file.safetensors>');
  process.exit(2);
}
