/**
 * The main job in miniature: a few hundred MNIST digits, one epoch, a small encoder. The SSL
 * loss must fall, and a linear probe on the trained encoder must beat the same encoder at its
 * random initialization on held-out digits.
 */
import { describe, expect, it } from 'vitest';
import { LogisticRegression, StandardScaler } from '../../src/classifiers';
import { subset } from '../../src/data/dataset';
import { loadMnist } from '../../src/node/mnist';
import { Adam } from '../../src/optim/adam';
import { Rng } from '../../src/rng';
import { SpikingMlp, projector } from '../../src/ssl/models';
import { calibrateBatchNorm } from '../../src/ssl/calibrate';
import { SSLTrainer, datasetFeatures } from '../../src/ssl/trainer';

describe('self-supervised training end to end', () => {
  it('the loss falls and the trained representation beats the random-init one', () => {
    const all = loadMnist({ split: 'train' });
    const train = subset(all, 800);
    const heldOut = subset(all, Int32Array.from({ length: 400 }, (_, i) => 59_000 + i));
    const build = () => {
      const rng = new Rng(7);
      return { rng, encoder: new SpikingMlp({ hidden: [128, 128], batchNorm: true, rng }) };
    };
    const probeAccuracy = (encoder: SpikingMlp): number => {
      const options = { steps: 4, rng: new Rng(1) };
      const fit = datasetFeatures(encoder, train, options);
      const test = datasetFeatures(encoder, heldOut, options);
      const scaler = new StandardScaler().fit({ data: fit, shape: [train.n, 128] });
      const lr = new LogisticRegression({ maxIter: 200, onWarning: () => {} }).fit(scaler.transform({ data: fit, shape: [train.n, 128] }), train.labels);
      return lr.score(scaler.transform({ data: test, shape: [heldOut.n, 128] }), heldOut.labels);
    };

    const untrained = build().encoder;
    calibrateBatchNorm(untrained, train, { steps: 4, rng: new Rng(2), batchSize: 100, batches: 8 });
    const randomInit = probeAccuracy(untrained);

    const { rng, encoder } = build();
    const head = projector(128, 64, { rng });
    const trainer = new SSLTrainer({
      encoder, projector: head, loss: 'ntxent', steps: 4, batchSize: 50, rng,
      optimizer: new Adam([...encoder.parameters(), ...head.parameters()], { lr: 2e-3 }),
    });
    const losses: number[] = [];
    trainer.fit(train, { epochs: 1, onBatch: (p) => losses.push(p.loss) });
    expect(losses).toHaveLength(16);
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    // NT-Xent starts near log(2N − 1) = log(99) ≈ 4.6 for unrelated projections.
    expect(mean(losses.slice(-4))).toBeLessThan(mean(losses.slice(0, 4)) - 0.2);
    const trained = probeAccuracy(encoder);
    expect(trained).toBeGreaterThan(randomInit + 0.05);
    expect(trained).toBeGreaterThan(0.75);
  });
});
