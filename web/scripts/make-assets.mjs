#!/usr/bin/env node
/**
 * Makes the demo page's checked-in assets (web/assets/):
 *
 *   model.safetensors                  a copy of a model written by `spikessl train`
 *   train-images-idx3-ubyte / -labels  --train-per-class digits of each class from MNIST's
 *                                      training split, from image --train-from on (the probe
 *                                      and kNN are fitted on them; "train here" trains on them)
 *   test-images-idx3-ubyte / -labels   --test-per-class digits of each class from MNIST's test split
 *   README.md                          what made every file, with sizes and SHA-256
 *
 * Usage (after `npx tsup`, which builds the spikessl/node entry this script imports):
 *   node web/scripts/make-assets.mjs --model /tmp/webmodel/model.safetensors
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { decodeSafetensors, loadMnist, parseRunConfig, runConfigArgs } from 'spikessl/node';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, '..', 'assets');
const LIMIT = 3 * 1024 * 1024;

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    'train-per-class': { type: 'string', default: '100' },
    'train-from': { type: 'string', default: '50000' },
    'test-per-class': { type: 'string', default: '20' },
    // Flags of the train command that its config does not record (e.g. --threads 1), for the README.
    'extra-train-flags': { type: 'string', default: '' },
  },
});
if (!values.model) {
  console.error('make-assets: --model <path to a model.safetensors written by spikessl train> is required');
  process.exit(1);
}
const trainPer = Number(values['train-per-class']);
const trainFrom = Number(values['train-from']);
const testPer = Number(values['test-per-class']);

/** An IDX file: magic 0 0 type ndim, big-endian u32 dimensions, then the u8 elements. */
function idx(shape, data) {
  const header = new Uint8Array(4 + 4 * shape.length);
  header[2] = 0x08;
  header[3] = shape.length;
  const view = new DataView(header.buffer);
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(data, header.length);
  return out;
}

/** The first `per` samples of each class, from index `from` on, in dataset order. */
function pick(ds, per, from) {
  const counts = new Array(10).fill(0);
  const chosen = [];
  for (let i = from; i < ds.n && chosen.length < 10 * per; i++) {
    const y = ds.labels[i];
    if (counts[y] < per) {
      counts[y]++;
      chosen.push(i);
    }
  }
  if (chosen.length < 10 * per) throw new Error(`only ${chosen.length} samples from index ${from}, wanted ${10 * per}`);
  const images = new Uint8Array(chosen.length * 784);
  const labels = new Uint8Array(chosen.length);
  chosen.forEach((i, r) => {
    for (let j = 0; j < 784; j++) images[r * 784 + j] = Math.round(ds.images[i * 784 + j] * 255);
    labels[r] = ds.labels[i];
  });
  return { images: idx([chosen.length, 28, 28], images), labels: idx([chosen.length], labels), n: chosen.length, first: chosen[0], last: chosen[chosen.length - 1] };
}

const modelBytes = readFileSync(values.model);
const { metadata, tensors } = decodeSafetensors(new Uint8Array(modelBytes), values.model);
if (!metadata.config) throw new Error(`${values.model}: no config metadata; expected a model written by spikessl train`);
const config = JSON.parse(metadata.config);

const train = pick(loadMnist({ split: 'train' }), trainPer, trainFrom);
const test = pick(loadMnist({ split: 'test' }), testPer, 0);

mkdirSync(outDir, { recursive: true });
const files = {
  'model.safetensors': modelBytes,
  'train-images-idx3-ubyte': train.images,
  'train-labels-idx1-ubyte': train.labels,
  'test-images-idx3-ubyte': test.images,
  'test-labels-idx1-ubyte': test.labels,
};
let total = 0;
for (const [name, bytes] of Object.entries(files)) {
  writeFileSync(join(outDir, name), bytes);
  total += bytes.length;
}
if (total > LIMIT) throw new Error(`the assets take ${total} bytes, more than the 3 MB limit`);

// The spikessl train command that reproduces the model, from its own config.
const flags = [...runConfigArgs(parseRunConfig(config, values.model)), values['extra-train-flags']].filter(Boolean);
const sha = (b) => createHash('sha256').update(b).digest('hex');
const rows = Object.entries(files).map(([name, b]) => `| \`${name}\` | ${b.length} | \`${sha(b).slice(0, 16)}…\` |`);
const readme = `# Assets of the demo page

Made by \`web/scripts/make-assets.mjs\`; do not edit by hand. To remake them:

\`\`\`sh
npx tsup
node bin/spikessl.mjs train ${flags.join(' ')}
node web/scripts/make-assets.mjs --model ${values.model} --train-per-class ${trainPer} --train-from ${trainFrom} --test-per-class ${testPer}${values['extra-train-flags'] ? ` --extra-train-flags '${values['extra-train-flags']}'` : ''}
\`\`\`

- \`model.safetensors\`: the model written by the \`spikessl train\` command above (its \`config\` metadata holds
  every option; ${Object.keys(tensors).length} tensors).
- \`train-*\`: the first ${trainPer} images of each class of MNIST's training split from index ${trainFrom} on
  (${train.n} images, indices ${train.first}…${train.last}) — the probe and the kNN are fitted on them, and "train here" trains on them.
- \`test-*\`: the first ${testPer} images of each class of MNIST's test split (${test.n} images) — the held-out score
  and the pickable digits.

The IDX files have MNIST's format (u8 images [N, 28, 28], u8 labels [N]).

| file | bytes | SHA-256 |
|---|---|---|
${rows.join('\n')}
| total | ${total} | |
`;
writeFileSync(join(outDir, 'README.md'), readme);
console.log(readme);
