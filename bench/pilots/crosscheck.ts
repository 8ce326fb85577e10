/**
 * The linear probe and kNN against scikit-learn on the same features: writes the features of a
 * model file (encoder.* tensors of `spikessl train`'s MLP or conv encoder) for the first
 * `probe` training images and the held-out last `val` ones to DIR as raw float32 + int32 files,
 * with our probe's accuracies in DIR/ours.json; bench/pilots/crosscheck_sklearn.py then fits
 * scikit-learn's StandardScaler + LogisticRegression and KNeighborsClassifier on them.
 *
 *   node bench/pilots/run.mjs crosscheck '{"from":"runs/pd-base/model.safetensors","dir":"/tmp/xc","representation":"lif1+lif2","evalSteps":16}'
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { subset } from '../../src/data/dataset';
import { holdOut } from '../../src/data/registry';
import { loadDataset } from '../../src/node/datasets';
import { Rng } from '../../src/rng';
import { probe } from '../../src/ssl/evaluate';
import { encoderFeatures, parseRepresentation } from '../../src/ssl/features';
import { loadModelFile } from '../../src/ssl/modelfile';

export async function main(): Promise<void> {
  const c = { dataset: 'mnist', val: 10000, probe: 20000, representation: 'last', evalSteps: 16, seed: 0, from: '', dir: '/tmp/xc', ...(JSON.parse(process.argv[3] ?? '{}') as Record<string, unknown>) } as {
    dataset: string; val: number; probe: number; representation: string; evalSteps: number; seed: number; from: string; dir: string;
  };
  mkdirSync(c.dir, { recursive: true });
  const { model } = loadModelFile(readFileSync(c.from), c.from);
  const { train, val } = holdOut(loadDataset({ name: c.dataset, split: 'train' }), c.val);
  const fit = subset(train, c.probe);
  const spec = parseRepresentation(c.representation);
  const a = encoderFeatures(model.encoder, fit, { steps: c.evalSteps, rng: new Rng(c.seed + 1), ...spec });
  const b = encoderFeatures(model.encoder, val, { steps: c.evalSteps, rng: new Rng(c.seed + 2), ...spec });
  const write = (name: string, arr: Float32Array | Int32Array) => writeFileSync(join(c.dir, name), new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
  write('train.f32', a.data);
  write('train.labels.i32', a.labels);
  write('val.f32', b.data);
  write('val.labels.i32', b.labels);
  const t0 = performance.now();
  const r = probe({ ...a, data: a.data.slice() }, { ...b, data: b.data.slice() }, { overwrite: true });
  const out = { dim: a.dim, n: a.n, nVal: b.n, linear: r.linear, knn: r.knn, iterations: r.linearFit.iterations, converged: r.linearFit.converged, gradient: r.linearFit.gradient, seconds: (performance.now() - t0) / 1000, config: c };
  writeFileSync(join(c.dir, 'ours.json'), JSON.stringify(out, null, 1));
  console.log(JSON.stringify(out));
}
