#!/usr/bin/env node
// The spikessl side of the NIR check (scripts/nir_check.py runs it; not part of `npm test`).
// Bundles src/index.ts (scripts/lib/spikessl.mjs), then
//   node scripts/nir_export.mjs <dir>
// writes into <dir>, for three encoders with random weights and BatchNorm statistics:
//   mlp_zero.nir    784-512-512 MLP, BatchNorm, reset 'zero' (exact export)
//   mlp_approx.nir  the same with the default subtract reset, exported with approximate: true
//   conv_approx.nir conv encoder (channels 4, 8; 32 features; reset 'zero'), approximate: true
// and for each <name>.json: the input spike trains [T, B, 784] and the output spikes of the
// network fromNir builds from the file ("nir_spikes") and of the encoder itself ("encoder_spikes").
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSpikessl, randomizeNorms } from './lib/spikessl.mjs';

const lib = await loadSpikessl();
const { Rng, SpikingMlp, SpikingConvNet, toNir, fromNir, poisson, rand, noGrad } = lib;

const [dir] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node scripts/nir_export.mjs <dir>');
  process.exit(2);
}

const seed = new Rng(2026);
const cases = [
  ['mlp_zero', new SpikingMlp({ batchNorm: true, reset: 'zero', rng: seed.fork() }), {}],
  ['mlp_approx', new SpikingMlp({ batchNorm: true, rng: seed.fork() }), { approximate: true }],
  ['conv_approx', new SpikingConvNet({ channels: [4, 8], features: 32, reset: 'zero', rng: seed.fork() }), { approximate: true }],
];
for (const [name, encoder, options] of cases) {
  const rng = seed.fork();
  randomizeNorms(lib, encoder, rng);
  const bytes = toNir(encoder, options);
  writeFileSync(join(dir, `${name}.nir`), bytes);
  const input = poisson(rand([4, 784], rng), { steps: 8, rng });
  const [nirSpikes, encoderSpikes] = noGrad(() => [fromNir(bytes, name).forward(input), encoder.forward(input)]);
  writeFileSync(
    join(dir, `${name}.json`),
    JSON.stringify({ input_shape: input.shape, input: Array.from(input.data), output_shape: nirSpikes.shape, nir_spikes: Array.from(nirSpikes.data), encoder_spikes: Array.from(encoderSpikes.data) }),
  );
  console.log(`${name}: ${bytes.length} bytes`);
}
