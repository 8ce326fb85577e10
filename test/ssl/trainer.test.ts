import { describe, expect, it } from 'vitest';
import { makeDataset } from '../../src/data/dataset';
import { OptionError } from '../../src/errors';
import { Adam } from '../../src/optim/adam';
import { CosineAnnealingLR } from '../../src/optim/schedulers';
import { Rng } from '../../src/rng';
import { SpikingMlp, projector } from '../../src/ssl/models';
import { SSLTrainer } from '../../src/ssl/trainer';

function tiny(schedulerInterval: 'epoch' | 'batch', tMax: number) {
  const rng = new Rng(1);
  const data = makeDataset(Float32Array.from({ length: 40 * 16 }, () => rng.uniform()), new Int32Array(40), [16]);
  const encoder = new SpikingMlp({ inputs: 16, hidden: [8, 8], rng });
  const head = projector(8, 4, { rng });
  const optimizer = new Adam([...encoder.parameters(), ...head.parameters()], { lr: 0.01 });
  const scheduler = new CosineAnnealingLR(optimizer, { tMax });
  const trainer = new SSLTrainer({ encoder, projector: head, loss: 'vicreg', optimizer, scheduler, schedulerInterval, steps: 2, batchSize: 10, rng });
  return { data, trainer, optimizer };
}

describe('SSLTrainer', () => {
  it('steps a per-batch schedule after every batch and a per-epoch one after every epoch', () => {
    // 40 samples in batches of 10: 4 batches per epoch. Cosine: lr_t = 0.01·(1 + cos(π·t/tMax))/2.
    const perBatch = tiny('batch', 8);
    perBatch.trainer.fit(perBatch.data, { epochs: 1 });
    expect(perBatch.optimizer.lr).toBeCloseTo(0.01 * (1 + Math.cos((Math.PI * 4) / 8)) / 2, 12);
    const perEpoch = tiny('epoch', 8);
    perEpoch.trainer.fit(perEpoch.data, { epochs: 1 });
    expect(perEpoch.optimizer.lr).toBeCloseTo(0.01 * (1 + Math.cos(Math.PI / 8)) / 2, 12);
    expect(perEpoch.trainer.epoch).toBe(1);
  });

  it('rejects a batch that does not fit and bad options', () => {
    const { data, trainer } = tiny('epoch', 1);
    const small = makeDataset(data.images.slice(0, 5 * 16), new Int32Array(5), [16]);
    expect(() => trainer.fit(small, { epochs: 1 })).toThrow(/5 samples do not fill one batch of 10/);
    expect(() => tiny('sometimes' as never, 1)).toThrow(OptionError);
  });
});
