/**
 * Training without Node: SSLTrainer.fitAsync against fit and a literal loop of trainStep, and
 * trainModel (stop, probe, the file spikessl predict reads).
 */
import { describe, expect, it } from 'vitest';
import { batches, makeDataset } from '../../src/data/dataset';
import { OptionError } from '../../src/errors';
import { Rng } from '../../src/rng';
import { defaultRunConfig } from '../../src/ssl/config';
import { decodeModel, saveModel } from '../../src/ssl/model';
import { trainModel, trainerFromConfig } from '../../src/ssl/train';

const config = { ...defaultRunConfig(), hidden: 16, projDim: 8, steps: 2, batch: 10, epochs: 2, bn: true, seed: 11, augment: 'shift:1' };

function images(n: number, seed: number) {
  const rng = new Rng(seed);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
  // Class 1 is bright, class 0 dim: a probe can tell them apart.
  const x = Float32Array.from({ length: n * 784 }, (_, k) => Math.min(1, (labels[Math.floor(k / 784)] ? 0.7 : 0.1) + 0.2 * rng.uniform()));
  return makeDataset(x, labels, [28, 28]);
}

const weights = (t: { model: { stateDict(): Record<string, { data: Float32Array }> } }) => Object.values(t.model.stateDict()).flatMap((v) => Array.from(v.data));

describe('SSLTrainer.fitAsync and trainModel', () => {
  it('fitAsync trains to the bits of fit, and lets timers run between batches', async () => {
    const data = images(40, 1);
    const a = trainerFromConfig(config, data.n);
    const b = trainerFromConfig(config, data.n);
    const sync = a.trainer.fit(data, { epochs: 2 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const async = await b.trainer.fitAsync(data, { epochs: 2 });
    clearInterval(timer);
    expect(async.map((e) => e.meanLoss)).toEqual(sync.map((e) => e.meanLoss));
    expect(weights(b)).toEqual(weights(a));
    expect(ticks).toBeGreaterThan(0);
  });

  it('a stop after batch 3 leaves the model of three literal trainStep calls on the same batches', async () => {
    const data = images(40, 2);
    const stop = new AbortController();
    const seen: number[] = [];
    const got = await trainModel(config, data, { signal: stop.signal, onBatch: (p) => (seen.push(p.batch), p.batch === 3 && stop.abort()) });
    expect(seen).toEqual([1, 2, 3]);
    expect(got.stopped).toBe(true);
    expect(got.epochs).toEqual([]);
    // By hand: the same config's pieces, three steps over the first epoch's shuffled batches, the schedule stepped per batch.
    const ref = trainerFromConfig(config, data.n);
    let k = 0;
    for (const batch of batches(data, { batchSize: 10, dropLast: true, shuffle: true, rng: ref.streams.train })) {
      if (k++ === 3) break;
      ref.trainer.trainStep(batch.x);
      ref.scheduler?.step();
    }
    expect(weights(got.trained)).toEqual(weights(ref));
  });

  it('trains to the end with a fitted probe; the saved file predicts as the trained model does', async () => {
    const data = images(40, 3);
    const { trained, epochs, stopped } = await trainModel(config, data, { probe: data });
    expect([epochs.length, stopped]).toEqual([2, false]);
    expect(trained.probe?.scaler.mean).toHaveLength(16);
    const back = decodeModel(saveModel(trained));
    const test = images(10, 4);
    const x = { data: test.images, shape: [10, 784] };
    expect(Array.from(back.predict(x).probabilities.data)).toEqual(Array.from(trained.predict(x).probabilities.data));
  });

  it('refuses a bad config, images of another size and too few images before training', async () => {
    await expect(trainModel({ ...config, hidden: -1 }, images(40, 1))).rejects.toThrow(OptionError);
    await expect(trainModel(config, makeDataset(new Float32Array(40 * 16), new Int32Array(40), [16]))).rejects.toThrow('trainModel: expected 28×28 images (784 pixels), got 16 values per sample');
    await expect(trainModel(config, images(5, 1))).rejects.toThrow('trainModel: batch 10 is more than the 5 training images');
  });
});
