import { describe, expect, it } from 'vitest';
import { makeDataset } from '../../src/data/dataset';
import { poisson } from '../../src/encoding';
import { Rng } from '../../src/rng';
import { SpikingMlp } from '../../src/ssl/models';
import { calibrateBatchNorm } from '../../src/ssl/calibrate';
import { noGrad } from '../../src/autograd/engine';
import { Tensor } from '../../src/tensor/tensor';

describe('calibrateBatchNorm', () => {
  it('sets the first layer running mean to the average of the batch means of its input currents, weights untouched', () => {
    const rng = new Rng(4);
    const images = Float32Array.from({ length: 6 * 20 }, () => rng.uniform());
    const data = makeDataset(images, new Int32Array(6), [20]);
    const enc = new SpikingMlp({ inputs: 20, hidden: [5, 3], batchNorm: true, rng });
    const before = enc.parameters().map((p) => Array.from(p.data));
    calibrateBatchNorm(enc, data, { steps: 2, rng: new Rng(9), batchSize: 3, batches: 2 });
    // Replay the two batches' encodings and average each fc1 current's batch mean (over T × B).
    const replay = new Rng(9);
    const fc1 = enc.namedChildren().find(([name]) => name === 'fc1')![1] as unknown as { forward(x: Tensor): Tensor };
    const means = new Float64Array(5);
    for (let b = 0; b < 2; b++) {
      const x = new Tensor(images.slice(b * 60, b * 60 + 60), [3, 20]);
      const current = noGrad(() => fc1.forward(poisson(x, { steps: 2, rng: replay })));
      // the second layer's encoding draws nothing from the rng, so the replay stays in step
      for (let i = 0; i < current.size; i++) means[i % 5] += current.data[i] / 6 / 2;
    }
    const bn1 = enc.stateDict()['bn1.running_mean'];
    bn1.data.forEach((v, i) => expect(v).toBeCloseTo(means[i], 5));
    expect(enc.stateDict()['bn1.num_batches_tracked'].item()).toBe(2);
    expect(enc.parameters().map((p) => Array.from(p.data))).toEqual(before);
  });
});
