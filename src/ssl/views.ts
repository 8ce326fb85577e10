/**
 * The seam through which {@link SSLTrainer} runs its encoder: on a training step's two views,
 * and on batches of images for features. {@link localViews}, the default, runs everything on
 * the calling thread as one graph with one backward pass; `threadedViews()` from
 * `spikessl/node` runs the second view (and every second feature batch) on a worker thread.
 * A runner must give the same bits as `localViews`, so the trainer never needs to know which
 * one it has.
 */
import { backward, noGrad } from '../autograd/engine';
import { firingRate } from '../neurons/functional';
import type { Tensor } from '../tensor/tensor';
import type { SpikingEncoder } from './models';

/** The encoder's pass over a training step's two views. */
export interface TrainViews {
  /** The output spikes of each spiking layer for view 1, first to last. */
  readonly layers1: readonly Tensor[];
  /** Firing rates [B, F] of the last layer for view 1 and view 2: what the loss sees. */
  readonly rate1: Tensor;
  readonly rate2: Tensor;
  /** Back-propagates from the scalar `loss` into the gradients of every parameter, through both views. */
  backward(loss: Tensor): void;
}

/** Runs an encoder on the views of a training step and on batches of features. */
export interface ViewsRunner {
  /** The training-mode forward pass over both views (BatchNorm statistics counted view 1 first). */
  train(encoder: SpikingEncoder, view1: Tensor, view2: Tensor): TrainViews;
  /** The last layer's firing rates [B, F] (row-major) for each of `inputs`, in eval mode without a graph. */
  rates(encoder: SpikingEncoder, inputs: readonly Tensor[]): Float32Array[];
}

/** The last layer's firing rates for `x`. */
function lastRates(encoder: SpikingEncoder, x: Tensor): Tensor {
  return firingRate(encoder.forward(x));
}

/**
 * Both views on this thread, in one graph: the loss's backward runs once, and each parameter's
 * gradient is the sum of its two views' contributions.
 */
export const localViews: ViewsRunner = {
  train(encoder, view1, view2) {
    const layers1 = encoder.forwardLayers(view1);
    const rate1 = firingRate(layers1[layers1.length - 1]);
    const rate2 = lastRates(encoder, view2);
    return { layers1, rate1, rate2, backward: (loss) => backward(loss) };
  },
  rates(encoder, inputs) {
    const wasTraining = encoder.training;
    encoder.eval();
    try {
      return inputs.map((x) => noGrad(() => lastRates(encoder, x)).data);
    } finally {
      encoder.train(wasTraining);
    }
  },
};
