/** A made-up but realistic run report (seeded), for the HTML tests and the sample page. */
import { Rng } from '../../src/index';
import { pca2 } from '../../src/internals';
import type { RunReport } from '../../src/index';

/** A 28×28 "7": a top bar and a diagonal stroke, intensities in [0, 1]. */
function seven(): Float32Array {
  const img = new Float32Array(784);
  for (let x = 6; x < 22; x++) for (let y = 5; y < 8; y++) img[y * 28 + x] = y === 6 ? 1 : 0.6;
  for (let y = 8; y < 24; y++) {
    const cx = Math.round(21 - (y - 8) * 0.55);
    for (let d = -1; d <= 1; d++) img[y * 28 + cx + d] = d === 0 ? 1 : 0.5;
  }
  return img;
}

function poissonRaster(p: ArrayLike<number>, steps: number, rng: Rng): { steps: number; neurons: number; data: number[] } {
  const data: number[] = [];
  for (let t = 0; t < steps; t++) for (let i = 0; i < p.length; i++) data.push(rng.uniform() < p[i] ? 1 : 0);
  return { steps, neurons: p.length, data };
}

export function sampleReport(seed = 1): RunReport {
  const rng = new Rng(seed);
  const epochs = 6;
  const perEpoch = 234;
  const batchLoss: number[] = [];
  for (let b = 0; b < epochs * perEpoch; b++) batchLoss.push(900 * Math.exp(-b / 120) + 180 + 25 * rng.normal());
  const layerNames = ['input', 'lif1', 'lif2'];
  const epochRows = Array.from({ length: epochs }, (_, e) => ({
    epoch: e + 1,
    meanLoss: batchLoss.slice(e * perEpoch, (e + 1) * perEpoch).reduce((a, b) => a + b, 0) / perEpoch,
    density: [0.131, 0.22 + 0.01 * e, 0.3 - 0.012 * e],
    seconds: 71 + rng.uniform() * 4,
  }));
  const img = seven();
  const rate1 = Float32Array.from({ length: 512 }, () => Math.min(1, Math.max(0, 0.05 + 0.3 * rng.uniform() ** 2)));
  const rate2 = Float32Array.from({ length: 512 }, () => Math.min(1, Math.max(0, 0.4 * rng.uniform() ** 1.5)));
  // Representations: ten Gaussian clusters in 64 dimensions, projected by pca2.
  const n = 3000;
  const dim = 64;
  const centers = Float32Array.from({ length: 10 * dim }, () => rng.normal());
  const feats = new Float32Array(n * dim);
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 10;
    labels.push(c);
    for (let j = 0; j < dim; j++) feats[i * dim + j] = centers[c * dim + j] + 0.45 * rng.normal();
  }
  const p = pca2(feats, n, dim, { rng: rng.fork() });
  const matrix = Array.from({ length: 10 }, (_, i) => Array.from({ length: 10 }, (_, j) => (i === j ? 950 + Math.round(40 * rng.uniform()) : rng.uniform() < 0.4 ? Math.round(12 * rng.uniform() ** 2) : 0)));
  const firingRates = Array.from({ length: 512 }, () => {
    const u = rng.uniform();
    return u < 0.03 ? 0 : Math.min(1, 0.25 * -Math.log(1 - rng.uniform()) * 0.6 + 0.02);
  });
  return {
    name: 'demo-barlow <R1> & "friends"',
    createdAt: '2025-01-02T03:04:05.000Z',
    config: { loss: 'barlow', encoder: 'mlp', epochs, batch: 256, steps: 8, hidden: 512, lr: 1e-3, augment: null, layers: [784, 512, 512] },
    seed: 42,
    batchLoss,
    epochs: epochRows,
    layerNames,
    accuracy: [
      { model: 'SSL encoder', linear: 0.94123, knn: 0.95678 },
      { model: 'random-init encoder', linear: 0.3512, knn: 0.2634 },
      { model: 'raw pixels', linear: 0.9213, knn: 0.9695 },
    ],
    confusion: { labels: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'], matrix, model: 'SSL encoder, linear probe' },
    sample: {
      label: 7,
      views: [poissonRaster(img, 8, rng), poissonRaster(img, 8, rng)],
      layers: [
        { name: 'lif1', ...poissonRaster(rate1, 8, rng) },
        { name: 'lif2', ...poissonRaster(rate2, 8, rng) },
      ],
    },
    firingRates,
    pca: { points: Array.from(p.points), labels, explained: p.explained },
    timings: { train: 432.1, features: 35.2, linear: 12.4, knn: 8.9, total: 489.3 },
  };
}
