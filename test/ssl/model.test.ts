import { describe, expect, it } from 'vitest';
import { DataFormatError, OptionError, ShapeError } from '../../src/errors';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors';
import { Rng } from '../../src/rng';
import { defaultRunConfig } from '../../src/ssl/config';
import { TrainedModel, decodeModel, loadModel, saveModel } from '../../src/ssl/model';
import { buildModel } from '../../src/ssl/models';
import { datasetFeatures } from '../../src/ssl/trainer';
import { makeDataset } from '../../src/data/dataset';
import { probe } from '../../src/ssl/evaluate';

// A low threshold: the untrained network fires (with θ = 1 its second layer is silent).
const config = { ...defaultRunConfig(), hidden: 16, projDim: 8, steps: 8, bn: false, seed: 4, threshold: 0.2 };

/** Dim images (intensity 0.05) are class 2, bright ones (0.95) class 7: their firing rates differ. */
function data(n: number, seed: number): { images: number[][]; labels: number[] } {
  const rng = new Rng(seed);
  const images: number[][] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const bright = i % 2 === 1;
    images.push(Array.from({ length: 784 }, () => Math.min(1, Math.max(0, (bright ? 0.95 : 0.05) + 0.04 * (rng.uniform() - 0.5)))));
    labels.push(bright ? 7 : 2);
  }
  return { images, labels };
}

function trained(): TrainedModel {
  const t = new TrainedModel(config, buildModel(config, new Rng(1)));
  const { images, labels } = data(40, 2);
  return t.fitProbe(images, labels, { onWarning: () => {} });
}

describe('TrainedModel: saveModel, loadModel, predict', () => {
  it('predicts the classes of separable images, with probabilities from the saved scaler and weights', () => {
    const t = trained();
    const test = data(10, 3);
    const p = t.predict(test.images);
    expect(Array.from(p.classes)).toEqual([2, 7]);
    expect(Array.from(p.labels)).toEqual(test.labels);
    // By hand: features from the same stream, (x − mean) / scale, z = w·x + b, P(7) = σ(z).
    const flat = Float32Array.from(test.images.flat());
    const features = datasetFeatures(t.encoder, makeDataset(flat, new Int32Array(10), [784]), { steps: 8, rng: new Rng(0) });
    expect(Array.from(t.features(test.images).data)).toEqual(Array.from(features));
    const probe = t.probe!;
    const w = probe.classifier.coef.data;
    const b = probe.classifier.intercept[0];
    for (let i = 0; i < 10; i++) {
      let z = b;
      for (let j = 0; j < 16; j++) z += (Math.fround((features[i * 16 + j] - probe.scaler.mean[j]) / probe.scaler.scale[j])) * w[j];
      const p7 = 1 / (1 + Math.exp(-z));
      expect(p.probabilities.data[2 * i + 1]).toBeCloseTo(p7, 5);
      expect(p.probabilities.data[2 * i]).toBeCloseTo(1 - p7, 5);
    }
  });

  it('one file holds config, weights and probe: a loaded model predicts the same bits', async () => {
    const t = trained();
    const bytes = saveModel(t);
    const { metadata, raw } = decodeSafetensors(bytes);
    expect(JSON.parse(metadata.probe)).toEqual({ format: 1, classifier: 'logistic', classes: [2, 7], steps: 8, representation: 'last' });
    expect(raw['probe.scaler.mean'].dtype).toBe('F64');
    expect(raw['probe.linear.weight'].shape).toEqual([1, 16]);
    const back = await loadModel(bytes);
    expect(back.config).toEqual(config);
    const test = data(6, 5);
    expect(Array.from(back.predict(test.images).probabilities.data)).toEqual(Array.from(t.predict(test.images).probabilities.data));
    expect(Array.from((await loadModel(bytes.slice().buffer)).probe!.scaler.scale)).toEqual(Array.from(t.probe!.scaler.scale));
  });

  it('refuses bad images, a missing probe and model files of another version or architecture', () => {
    const t = trained();
    expect(() => t.predict([[0.5, 0.5]])).toThrow(ShapeError);
    expect(() => t.predict([[0.5, 0.5]])).toThrow('TrainedModel.predict: expected images [N, 784] (28×28 pixels each), got [1, 2]');
    expect(() => t.predict([new Array(784).fill(255)])).toThrow(/pixel intensities must lie in \[0, 1\], got 255 in image 0 \(divide 8-bit pixels by 255\)/);
    const bare = new TrainedModel(config, buildModel(config, new Rng(1)));
    expect(() => bare.predict([new Array(784).fill(0)])).toThrow(OptionError);
    expect(decodeModel(saveModel(bare)).probe).toBeNull();

    const { tensors, raw, metadata } = decodeSafetensors(saveModel(t));
    const rewrite = (meta: Record<string, string>, extra: Record<string, unknown> = {}) => encodeSafetensors({ ...raw, ...extra } as never, meta);
    const probeMeta = JSON.parse(metadata.probe);
    expect(() => decodeModel(rewrite({ ...metadata, probe: JSON.stringify({ ...probeMeta, format: 2 }) }), 'm.safetensors')).toThrow(
      'm.safetensors: probe: format 2; this version of spikessl reads format 1 (written by another version?)',
    );
    expect(() => decodeModel(rewrite({ ...metadata, probe: JSON.stringify({ ...probeMeta, classes: [2, 7, 9] }) }), 'm')).toThrow(/tensor 'probe.scaler.mean' is F64 \[16\]|probe.linear.weight' is F32 \[1, 16\]; expected F32 \[3, 16\] for 3 classes/);
    expect(() => decodeModel(rewrite({ ...metadata, config: JSON.stringify({ ...config, hidden: 32 }) }), 'm')).toThrow(DataFormatError);
    expect(() => decodeModel(rewrite({ ...metadata, config: JSON.stringify({ ...config, colour: 'red' }) }), 'm')).toThrow(/unknown config key 'colour'/);
    expect(() => decodeModel(rewrite(metadata, { 'probe.extra': { dtype: 'F32', shape: [1], data: new Float32Array(1) } }), 'm')).toThrow("m: probe: unexpected tensor 'probe.extra'");
    const { probe: _, ...noProbe } = metadata;
    expect(() => decodeModel(rewrite(noProbe), 'm')).toThrow("m: tensor 'probe.scaler.mean' but no 'probe' metadata");
    expect(Object.keys(tensors).filter((k) => k.startsWith('probe.'))).toHaveLength(5);
  });
});

describe('TrainedModel: the representation', () => {
  it("features of 'lif1+lif2' are lif1's rates then lif2's for the same encodings; the probe keeps its representation", async () => {
    const c = { ...config, representation: 'lif1+lif2' };
    const t = new TrainedModel(c, buildModel(c, new Rng(1)));
    const { images, labels } = data(12, 6);
    const both = t.features(images, { rng: new Rng(9) });
    const one = t.features(images, { rng: new Rng(9), representation: 'lif1' });
    const two = t.features(images, { rng: new Rng(9), representation: 'lif2' });
    expect([both.n, both.dim, one.dim, two.dim]).toEqual([12, 32, 16, 16]);
    for (let i = 0; i < 12; i++) {
      expect(Array.from(both.data.subarray(i * 32, i * 32 + 16))).toEqual(Array.from(one.data.subarray(i * 16, (i + 1) * 16)));
      expect(Array.from(both.data.subarray(i * 32 + 16, (i + 1) * 32))).toEqual(Array.from(two.data.subarray(i * 16, (i + 1) * 16)));
    }
    // lif1's rates differ from lif2's (the test would pass vacuously on identical layers).
    expect(Array.from(one.data)).not.toEqual(Array.from(two.data));
    t.fitProbe(images, labels, { onWarning: () => {} });
    expect(t.probe!.representation).toBe('lif1+lif2');
    expect(t.probe!.scaler.mean).toHaveLength(32);
    const back = await loadModel(saveModel(t));
    expect(back.probe!.representation).toBe('lif1+lif2');
    expect(Array.from(back.predict(images).probabilities.data)).toEqual(Array.from(t.predict(images).probabilities.data));
  });

  it("fitProbe fits the probe probe() fits on the same features (C = 1, tol 1e-4 on the mean objective's gradient)", () => {
    const t = new TrainedModel(config, buildModel(config, new Rng(1)));
    const { images, labels } = data(40, 2);
    t.fitProbe(images, labels, { rng: new Rng(3), onWarning: () => {} });
    const f = t.features(images, { rng: new Rng(3) });
    const set = { data: f.data, n: f.n, dim: f.dim, labels: Int32Array.from(labels) };
    const r = probe(set, set, { onWarning: () => {} });
    expect(Array.from(t.probe!.classifier.coef.data)).toEqual(Array.from(r.fitted.classifier.coef.data));
    expect(Array.from(t.probe!.scaler.scale)).toEqual(Array.from(r.fitted.scaler.scale));
  });

  it('refuses a probe whose width does not match its representation, and an unknown representation', () => {
    const t = trained();
    const { raw, metadata } = decodeSafetensors(saveModel(t));
    const meta = JSON.parse(metadata.probe);
    const rewrite = (m: Record<string, unknown>) => encodeSafetensors(raw as never, { ...metadata, probe: JSON.stringify({ ...meta, ...m }) });
    // 16 features fitted on the last layer; lif1+lif2 has 32.
    expect(() => decodeModel(rewrite({ representation: 'lif1+lif2' }), 'm')).toThrow("m: probe: fitted on 16 features, but the representation 'lif1+lif2' of its encoder has 32");
    expect(() => decodeModel(rewrite({ representation: 'lif3' }), 'm')).toThrow(/m: probe: .*has spiking layers lif1–lif2, not lif3/);
    expect(() => decodeModel(rewrite({ representation: 'middle' }), 'm')).toThrow(/m: probe: representation must be 'last' or layer names/);
    expect(() => decodeModel(rewrite({ representation: undefined }), 'm')).toThrow(/m: probe: representation must be a string/);
  });
});
