import { describe, expect, it } from 'vitest';
import { backward } from '../../src/autograd/engine';
import { makeDataset } from '../../src/data/dataset';
import { poisson } from '../../src/encoding/index';
import { firingRate } from '../../src/neurons/functional';
import { barlowTwinsLoss } from '../../src/ssl/losses';
import { Tensor } from '../../src/tensor/tensor';
import { OptionError } from '../../src/errors';
import { Adam } from '../../src/optim/adam';
import { CosineAnnealingLR } from '../../src/optim/schedulers';
import { Rng } from '../../src/rng';
import { SpikingConvNet, SpikingMlp, projector } from '../../src/ssl/models';
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

/** Encoder, head and Adam of one seed, for the two ways of taking a step below. */
function setup(conv: boolean) {
  const rng = new Rng(5);
  const encoder = conv ? new SpikingConvNet({ channels: [2, 3], features: 16, rng }) : new SpikingMlp({ inputs: 784, hidden: [24, 16], batchNorm: true, rng });
  const head = projector(16, 8, { rng });
  const optimizer = new Adam([...encoder.parameters(), ...head.parameters()], { lr: 0.01 });
  return { rng, encoder, head, optimizer };
}

describe('SSLTrainer', () => {
  it('reports each layer\'s fraction of ones in view 1, input first', () => {
    // Odd sizes (3 steps × 3 samples × 5 inputs, 3 hidden) so no count is a multiple of four.
    const x = new Tensor(Float32Array.from({ length: 15 }, (_, i) => (i % 5) / 4), [3, 5]);
    const make = () => {
      const rng = new Rng(3);
      const encoder = new SpikingMlp({ inputs: 5, hidden: [3, 3], rng });
      const head = projector(3, 2, { rng });
      return { rng, encoder, head, optimizer: new Adam([...encoder.parameters(), ...head.parameters()], { lr: 0.01 }) };
    };
    const a = make();
    const got = new SSLTrainer({ encoder: a.encoder, projector: a.head, loss: 'vicreg', optimizer: a.optimizer, steps: 3, batchSize: 3, rng: a.rng }).trainStep(x).density;
    const b = make();
    const v1 = poisson(x, { steps: 3, rng: b.rng });
    const fraction = (t: Tensor) => Array.from(t.data).filter((v) => v === 1).length / t.size;
    const want = [fraction(v1), ...b.encoder.forwardLayers(v1).map(fraction)];
    expect(got).toHaveLength(3);
    got.forEach((d, i) => expect(d).toBeCloseTo(want[i], 12));
    expect(want.some((d) => d > 0 && d < 1)).toBe(true);
  });

  it('takes the step the two views make in one graph (BatchNorm statistics in view order)', () => {
    // The trainer stops each view's graph at its rates and runs three backward passes; the
    // literal step runs one backward through both views. Same parameters, buffers and loss.
    for (const conv of [false, true]) {
      const x = new Tensor(Float32Array.from({ length: 6 * 784 }, (_, i) => ((i * 7919) % 1000) / 1000), [6, 784]);
      const a = setup(conv);
      const trainer = new SSLTrainer({ encoder: a.encoder, projector: a.head, loss: 'barlow', optimizer: a.optimizer, steps: 3, batchSize: 6, rng: a.rng });
      const b = setup(conv);
      const losses: number[][] = [[], []];
      for (let step = 0; step < 3; step++) {
        losses[0].push(trainer.trainStep(x).loss);
        const v1 = poisson(x, { steps: 3, rng: b.rng });
        const v2 = poisson(x, { steps: 3, rng: b.rng });
        const loss = barlowTwinsLoss(b.head.forward(firingRate(b.encoder.forward(v1))), b.head.forward(firingRate(b.encoder.forward(v2))));
        losses[1].push(loss.item());
        b.optimizer.zeroGrad();
        backward(loss);
        b.optimizer.step();
      }
      for (let i = 0; i < 3; i++) expect(losses[0][i]).toBeCloseTo(losses[1][i], 5);
      const sa = { ...a.encoder.stateDict(), ...a.head.stateDict() };
      const sb = { ...b.encoder.stateDict(), ...b.head.stateDict() };
      expect(Object.keys(sa)).toEqual(Object.keys(sb));
      for (const k of Object.keys(sa)) {
        const max = Math.max(...Array.from(sb[k].data, Math.abs), 1e-3);
        sa[k].data.forEach((v, i) => expect(Math.abs(v - sb[k].data[i]) / max).toBeLessThan(1e-5));
      }
    }
  });

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
