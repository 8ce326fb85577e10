#!/usr/bin/env node
// The spikessl side of the PyTorch module export check (scripts/torch_export_check.py runs it; not
// part of `npm test`). Bundles src/index.ts with tsup into a temporary folder, then
//   node scripts/torch_export.mjs <dir>
// writes into <dir>/<name>/ encoder.py and encoder.safetensors (toTorch) and io.json for two
// encoders with random weights and BatchNorm statistics, in eval mode:
//   mlp   the reference R1: 784-512-512, subtract reset, atan(2), BatchNorm on each input current
//   conv  the conv encoder (channels 16, 32; 512 features; BatchNorm), zero reset, fastSigmoid(25)
// io.json holds the input spike trains [T, B, 784], every spiking layer's output spikes here (eval
// mode), and one training-mode step on the first 4 samples: loss Σ (firing rate)² and its gradients.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSpikessl, randomizeNorms } from './lib/spikessl.mjs';

const lib = await loadSpikessl();
const { Rng, SpikingMlp, SpikingConvNet, toTorch, poisson, rand, noGrad, surrogate, slice, mean, square, sum, backward } = lib;

const [dir] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node scripts/torch_export.mjs <dir>');
  process.exit(2);
}

const seed = new Rng(2027);
const cases = [
  ['mlp', new SpikingMlp({ batchNorm: true, rng: seed.fork() }), 8],
  ['conv', new SpikingConvNet({ channels: [16, 32], reset: 'zero', surrogate: surrogate.fastSigmoid(), rng: seed.fork() }), 4],
];
for (const [name, encoder, steps] of cases) {
  const rng = seed.fork();
  randomizeNorms(lib, encoder, rng);
  const { python, weights } = toTorch(encoder);
  mkdirSync(join(dir, name), { recursive: true });
  writeFileSync(join(dir, name, 'encoder.py'), python);
  writeFileSync(join(dir, name, 'encoder.safetensors'), weights);
  const input = poisson(rand([16, 784], rng), { steps, rng });
  const layers = noGrad(() => encoder.forwardLayers(input));
  // One training-mode step on the first 4 samples: loss = Σ (firing rate)², and its gradients.
  encoder.train();
  const loss = sum(square(mean(encoder.forward(slice(input, [null, [0, 4]])), 0)));
  backward(loss);
  const grads = Object.fromEntries(encoder.namedParameters().map(([n, p]) => [n, Array.from(p.grad.data)]));
  writeFileSync(
    join(dir, name, 'io.json'),
    JSON.stringify({ input_shape: input.shape, input: Array.from(input.data), layers: layers.map((s) => ({ shape: s.shape, spikes: Array.from(s.data) })), loss: loss.item(), grads }),
  );
}
