/**
 * examples/predict.ts on a model trained here at tiny settings: the PNG, PGM and inverted PNG
 * fixtures are MNIST test image 0 (scripts/make_image_fixtures.py wrote them with PIL from its IDX
 * bytes), so the example must give them the class and probability the model gives that image's
 * IDX pixels, encoded alike (predict's default Rng(0), three images in one batch).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { subset, trainModel } from 'spikessl';
import { loadDataset, writeModelFile } from 'spikessl/node';
import { predictDigits } from '../../examples/predict';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'images');

describe('examples/predict.ts', () => {
  it('predicts PNG and PGM digits as the model predicts the IDX image they were made from', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spikessl-predict-example-'));
    try {
      const train = subset(loadDataset({ name: 'mnist', split: 'train' }), 200);
      const { trained } = await trainModel({ hidden: 64, projDim: 32, bn: true, steps: 4, batch: 50, epochs: 2, loss: 'ntxent', temperature: 0.3, seed: 0 }, train, { probe: train });
      const file = join(dir, 'model.safetensors');
      writeModelFile(file, trained);
      const got = predictDigits(file, ['seven-gray.png', 'seven.pgm', 'seven-drawn.png'].map((f) => join(fixtures, f)));

      const test = loadDataset({ name: 'mnist', split: 'test' });
      const image0 = test.images.subarray(0, 784);
      const x = new Float32Array(3 * 784);
      for (let i = 0; i < 3; i++) x.set(image0, i * 784);
      const want = trained.predict({ data: x, shape: [3, 784] });
      const K = want.classes.length;
      expect(got.map((r) => r.image)).toEqual(['seven-gray.png', 'seven.pgm', 'seven-drawn.png'].map((f) => join(fixtures, f)));
      // Each row is its own Poisson encoding, so the check sees the encoding: the rows differ.
      expect(new Set(got.map((r) => r.probability)).size).toBe(3);
      got.forEach((r, i) => {
        expect(r.digit).toBe(want.labels[i]);
        expect(r.probability).toBe(Math.max(...want.probabilities.data.subarray(i * K, (i + 1) * K)));
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
