/** Re-estimating an encoder's BatchNorm running statistics from data, without training it. */
import { noGrad } from '../autograd/engine';
import { batches } from '../data/dataset';
import type { Dataset } from '../data/dataset';
import { poisson } from '../encoding/index';
import { batchNormLayers } from '../nn/norm';
import type { Rng } from '../rng';
import type { SpikingEncoder } from './models';

/** Options of {@link calibrateBatchNorm}. */
export interface CalibrateOptions {
  steps: number;
  gain?: number;
  rng: Rng;
  /** Batches averaged. Default 20. */
  batches?: number;
  /** Default 256. */
  batchSize?: number;
}

/**
 * Re-estimates the running statistics of every BatchNorm layer of `encoder` from Poisson
 * encodings of `data` — their cumulative average over the first batches, in training mode
 * without a graph and without changing any weight. An encoder that was never trained still
 * holds the initial statistics (mean 0, variance 1), which would mis-scale its currents in
 * eval mode; calibrating first makes the random-init baseline a fair one.
 */
export function calibrateBatchNorm(encoder: SpikingEncoder, data: Dataset, options: CalibrateOptions): void {
  const norms = batchNormLayers(encoder);
  if (norms.length === 0) return;
  const saved = norms.map((m) => m.momentum);
  const wasTraining = encoder.training;
  norms.forEach((m) => {
    m.resetRunningStats();
    m.momentum = null;
  });
  encoder.train();
  try {
    let b = 0;
    const limit = options.batches ?? 20;
    for (const batch of batches(data, { batchSize: options.batchSize ?? 256, shuffle: false })) {
      if (b++ >= limit) break;
      noGrad(() => encoder.forward(poisson(batch.x, { steps: options.steps, gain: options.gain ?? 1, rng: options.rng })));
    }
  } finally {
    norms.forEach((m, i) => (m.momentum = saved[i]));
    encoder.train(wasTraining);
  }
}
