/**
 * Representations from chosen layers, checked against the rates recomputed here by hand from
 * the encoder's layer outputs; and the converging probe.
 */
import { describe, expect, it } from 'vitest';
import { noGrad } from '../../src/autograd/engine';
import { KNN } from '../../src/classifiers/knn';
import { makeDataset } from '../../src/data/dataset';
import { poisson } from '../../src/encoding/index';
import { OptionError } from '../../src/errors';
import { Rng } from '../../src/rng';
import { probe } from '../../src/ssl/evaluate';
import { encoderFeatures, parseRepresentation } from '../../src/ssl/features';
import { SpikingConvNet, SpikingMlp } from '../../src/ssl/models';
import { datasetFeatures } from '../../src/ssl/trainer';
import { featureChunk, splitImages } from '../../src/ssl/views';
import { Tensor } from '../../src/tensor/tensor';

function randomImages(n: number, seed: number) {
  const rng = new Rng(seed);
  return makeDataset(Float32Array.from({ length: n * 784 }, () => rng.uniform()), Int32Array.from({ length: n }, (_, i) => i % 3), [28, 28]);
}

describe('parseRepresentation', () => {
  it('reads last, joined layer names and a pooling grid', () => {
    expect(parseRepresentation('last')).toEqual({});
    expect(parseRepresentation('lif2')).toEqual({ layers: [2] });
    expect(parseRepresentation('lif1+lif2@7')).toEqual({ layers: [1, 2], grid: 7 });
    expect(parseRepresentation('last@7')).toEqual({ grid: 7 });
    for (const bad of ['lif', 'lif1+', 'conv2', 'lif1@0', 'lif1@x', '']) expect(() => parseRepresentation(bad)).toThrow(OptionError);
  });
});

describe('encoderFeatures', () => {
  const encoder = new SpikingConvNet({ channels: [4, 6], features: 16, rng: new Rng(1) });
  const data = randomImages(7, 2);

  it('the default is datasetFeatures, bit for bit', () => {
    const a = encoderFeatures(encoder, data, { steps: 3, rng: new Rng(4), batchSize: 3 });
    const b = datasetFeatures(encoder, data, { steps: 3, rng: new Rng(4), batchSize: 3 });
    expect(a.dim).toBe(16);
    expect(Array.from(a.data)).toEqual(Array.from(b));
  });

  it('lif1 pooled to 7×7 then lif2: mean over time, 2×2 averages, concatenated per image', () => {
    const f = encoderFeatures(encoder, data, { steps: 3, rng: new Rng(5), batchSize: 4, layers: [1, 2], grid: 7 });
    expect([f.n, f.dim]).toEqual([7, 4 * 49 + 6 * 49]);
    // The same encodings, drawn in the same order, through forwardLayers.
    const rng = new Rng(5);
    encoder.eval();
    let row = 0;
    for (const [start, b] of [[0, 4], [4, 3]]) {
      const x = new Tensor(data.images.slice(start * 784, (start + b) * 784), [b, 784]);
      const [s1, s2] = noGrad(() => encoder.forwardLayers(poisson(x, { steps: 3, rng })));
      for (let i = 0; i < b; i++) {
        const got = f.data.subarray((row + i) * f.dim, (row + i + 1) * f.dim);
        for (let c = 0; c < 4; c++) {
          for (let y = 0; y < 7; y++) {
            for (let xx = 0; xx < 7; xx++) {
              let s = 0;
              for (let t = 0; t < 3; t++) {
                for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) s += s1.data[(((t * b + i) * 4 + c) * 14 + 2 * y + dy) * 14 + 2 * xx + dx];
              }
              expect(got[(c * 7 + y) * 7 + xx]).toBeCloseTo(s / 12, 6);
            }
          }
        }
        for (let j = 0; j < 6 * 49; j++) {
          let s = 0;
          for (let t = 0; t < 3; t++) s += s2.data[(t * b + i) * 294 + j];
          expect(got[196 + j]).toBeCloseTo(s / 3, 6);
        }
      }
      row += b;
    }
    encoder.train();
  });

  it('refuses layers the encoder does not have and grids that do not divide the maps', () => {
    expect(() => encoderFeatures(encoder, data, { steps: 2, rng: new Rng(0), layers: [4] })).toThrow(/lif4 does not exist; the encoder has lif1–lif3/);
    expect(() => encoderFeatures(encoder, data, { steps: 2, rng: new Rng(0), layers: [1], grid: 5 })).toThrow(/14×14 maps cannot be average-pooled to 5×5/);
    const mlp = new SpikingMlp({ hidden: [8, 8], rng: new Rng(0) });
    // An MLP's layers are flat: both, concatenated, no pooling.
    expect(encoderFeatures(mlp, data, { steps: 2, rng: new Rng(0), layers: [1, 2], grid: 7 }).dim).toBe(16);
  });
});

describe('features in slices', () => {
  // MNIST-like intensities (at most 0.3): Poisson spikes well below the kernels' density bound.
  const dimImages = (n: number, seed: number) => {
    const rng = new Rng(seed);
    return makeDataset(Float32Array.from({ length: n * 784 }, () => 0.3 * rng.uniform()), Int32Array.from({ length: n }, (_, i) => i % 3), [28, 28]);
  };
  const encoder = new SpikingConvNet({ channels: [4, 6], features: 16, rng: new Rng(3) });
  const data = dimImages(11, 6);

  /** The definition before slicing: each batch's encoding through the encoder whole, in eval mode. */
  function wholeBatches(batchSize: number, seed: number, steps: number): number[] {
    const rng = new Rng(seed);
    const out: number[] = [];
    encoder.eval();
    for (let start = 0; start < data.n; start += batchSize) {
      const b = Math.min(batchSize, data.n - start);
      const x = new Tensor(data.images.slice(start * 784, (start + b) * 784), [b, 784]);
      const spikes = noGrad(() => encoder.forward(poisson(x, { steps, rng })));
      for (let i = 0; i < b; i++) {
        // The firing rate: the mean over time steps, summed here in time order as mean() does.
        for (let j = 0; j < 16; j++) {
          let s = 0;
          for (let t = 0; t < steps; t++) s += spikes.data[(t * b + i) * 16 + j];
          out.push(Math.fround(s / steps));
        }
      }
    }
    encoder.train();
    return out;
  }

  it('datasetFeatures in slices of 1, 2 and 4 images of each batch: the bits of whole batches', () => {
    const want = wholeBatches(5, 8, 4);
    for (const chunk of [1, 2, 4, undefined]) {
      expect(Array.from(datasetFeatures(encoder, data, { steps: 4, rng: new Rng(8), batchSize: 5, chunk }))).toEqual(want);
    }
  });

  it('encoderFeatures of chosen layers in slices: the bits of whole batches', () => {
    const whole = encoderFeatures(encoder, data, { steps: 3, rng: new Rng(9), batchSize: 6, chunk: 6, layers: [1, 3], grid: 7 });
    for (const chunk of [1, 4]) {
      const f = encoderFeatures(encoder, data, { steps: 3, rng: new Rng(9), batchSize: 6, chunk, layers: [1, 3], grid: 7 });
      expect([f.n, f.dim]).toEqual([11, 4 * 49 + 16]);
      expect(Array.from(f.data)).toEqual(Array.from(whole.data));
    }
  });

  it('splitImages: consecutive, even slices of a time-first tensor, binary kept', () => {
    const T = 3;
    const B = 7;
    const x = new Tensor(Float32Array.from({ length: T * B * 2 }, (_, i) => i), [T, B, 2], { binary: true });
    const parts = splitImages(x, 3);
    expect(parts.map((p) => p.shape)).toEqual([[3, 3, 2], [3, 3, 2], [3, 1, 2]]);
    // 7 images in slices of at most 5: 4 and 3, not 5 and 2.
    expect(splitImages(x, 5).map((p) => p.shape[1])).toEqual([4, 3]);
    let i0 = 0;
    for (const p of parts) {
      const b = p.shape[1];
      expect(p.binary).toBe(true);
      for (let t = 0; t < T; t++) for (let i = 0; i < b; i++) for (let c = 0; c < 2; c++) expect(p.data[(t * b + i) * 2 + c]).toBe(((t * B + i0 + i) * 2) + c);
      i0 += b;
    }
    expect(splitImages(x, 7)[0]).toBe(x);
  });

  it('featureChunk keeps the widest input current (4 × the widest layer) under 2^22 floats', () => {
    // The conv encoder 16-32: lif1 is the widest layer, 16 × 14 × 14 = 3136 neurons.
    const conv = new SpikingConvNet({ channels: [16, 32], features: 512, rng: new Rng(0) });
    expect(featureChunk(conv, 784, 16)).toBe(Math.floor(2 ** 22 / (4 * 3136 * 16))); // 20
    expect(featureChunk(conv, 784, 4)).toBe(83);
    // The MLP 784-512-512: the input is the widest.
    expect(featureChunk(new SpikingMlp({ rng: new Rng(0) }), 784, 4)).toBe(334);
    expect(featureChunk(conv, 784, 10_000)).toBe(1);
    expect(conv.training).toBe(true);
    expect(() => datasetFeatures(encoder, data, { steps: 2, rng: new Rng(0), chunk: 0 })).toThrow(/chunk must be a whole number of images ≥ 1, got 0/);
    expect(() => encoderFeatures(encoder, data, { steps: 2, rng: new Rng(0), chunk: 1.5, layers: [1] })).toThrow(OptionError);
  });
});

describe('probe', () => {
  // Three overlapping Gaussian classes in 6 dimensions: not separable, so the optimum is finite.
  const rng = new Rng(11);
  const make = (n: number) => {
    const x = new Float32Array(n * 6);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = i % 3;
      for (let j = 0; j < 6; j++) x[i * 6 + j] = rng.normal() + (j === y[i] ? 1.5 : 0) + 3 * j;
    }
    return { data: x, n, dim: 6, labels: y };
  };
  const train = make(600);
  const test = make(300);

  it('converges: the mean-objective gradient ends below tol, and no warning is raised', () => {
    const warnings: string[] = [];
    const r = probe(train, test, { onWarning: (m) => warnings.push(m) });
    expect(r.linearFit.converged).toBe(true);
    expect(r.linearFit.gradient).toBeLessThanOrEqual(1e-4);
    expect(warnings).toEqual([]);
    // Well above chance (1/3): the classes differ by 1.5 standard deviations along one axis each.
    expect(r.linear).toBeGreaterThan(0.65);
  });

  it('a budget too small to converge is reported, not hidden', () => {
    const warnings: string[] = [];
    const r = probe(train, test, { maxIter: 1, onWarning: (m) => warnings.push(m) });
    expect(r.linearFit.converged).toBe(false);
    expect(r.linearFit.gradient).toBeGreaterThan(1e-4);
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toMatch(/failed to converge/);
  });

  it('overwrite standardizes the features in place and changes no accuracy', () => {
    const copy = (f: typeof train) => ({ ...f, data: f.data.slice() });
    const a = probe(copy(train), copy(test));
    const t2 = copy(train);
    const b = probe(t2, copy(test), { overwrite: true });
    expect([b.linear, b.knn]).toEqual([a.linear, a.knn]);
    // kNN on the unscaled features, as a KNN fitted directly.
    const knn = new KNN({ k: 20, metric: 'cosine', weights: 'distance' }).fit({ data: train.data, shape: [600, 6] }, train.labels);
    expect(b.knn).toBe(knn.score({ data: test.data, shape: [300, 6] }, test.labels));
    for (let j = 0; j < 6; j++) {
      let m = 0;
      for (let i = 0; i < 600; i++) m += t2.data[i * 6 + j];
      expect(Math.abs(m / 600)).toBeLessThan(1e-4);
    }
    expect(() => probe(train, { ...test, dim: 5 })).toThrow(OptionError);
  });
});
