/**
 * The seam through which {@link SSLTrainer} runs its encoder: on a training step's two views,
 * and on batches of images for features. {@link localViews}, the default, runs everything on
 * the calling thread as one graph with one backward pass; `threadedViews()` from
 * `spikessl/node` runs the second view (and every second feature batch) on a worker thread.
 * A runner must give the same bits as `localViews`, so the trainer never needs to know which
 * one it has.
 */
import { backward, noGrad } from '../autograd/engine';
import { OptionError } from '../errors';
import { firingRate } from '../neurons/functional';
import { Tensor } from '../tensor/tensor';
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

/**
 * Floats of the largest activation one forward pass of features may hold, per thread (16 MiB).
 * Whole batches of 500 images at 16 steps held the conv encoder's first convolution,
 * 8000 × 16 × 28 × 28 floats (401 MB), and its neighbours at once, on each of two threads: the
 * evaluation of the 30-minute conv recipe peaked at 2.5 GiB (bench/memory.mjs). Slices are also
 * faster: features of 3000 MNIST test images at 16 steps through that encoder on 2 threads took
 * 19.6 s in whole batches, 14.5 s in slices of 83 images, 7.3 s in slices of 20 (this bound) and
 * 9.0 s in slices of 5; the MLP's at 4 and 8 steps, within the noise of whole batches.
 */
export const FEATURE_CHUNK_FLOATS = 1 << 22;

/**
 * Images per forward pass of features for `encoder` on `steps`-step encodings of `dim` inputs:
 * as many as keep its widest layer's input current under {@link FEATURE_CHUNK_FLOATS}. The
 * widths come from a one-step pass on one blank image in eval mode; the current is counted as
 * 4 times the widest spiking layer, as before a 2 × 2 max pooling.
 */
export function featureChunk(encoder: SpikingEncoder, dim: number, steps: number): number {
  const wasTraining = encoder.training;
  encoder.eval();
  try {
    const layers = noGrad(() => encoder.forwardLayers(new Tensor(new Float32Array(dim), [1, 1, dim])));
    const widest = Math.max(dim, ...layers.map((l) => l.size));
    return Math.max(1, Math.floor(FEATURE_CHUNK_FLOATS / (4 * widest * steps)));
  } finally {
    encoder.train(wasTraining);
  }
}

/** `chunk` if it is a whole number ≥ 1 or undefined; an OptionError otherwise. */
export function checkChunk(chunk: number | undefined): number | undefined {
  if (chunk !== undefined && !(Number.isSafeInteger(chunk) && chunk >= 1)) throw new OptionError(`features: chunk must be a whole number of images ≥ 1, got ${chunk}`);
  return chunk;
}

/**
 * Time-first spikes x [T, B, ...] as consecutive slices of at most `n` images, [T, b, ...] each,
 * as even as can be (500 images in slices of at most 334: 250 and 250); x itself when B ≤ n.
 * Binary as x is; an image's encoding is the same bits in its slice.
 */
export function splitImages(x: Tensor, n: number): Tensor[] {
  const [T, B] = x.shape;
  if (B <= n) return [x];
  const per = x.size / (T * B);
  const size = Math.ceil(B / Math.ceil(B / n));
  const out: Tensor[] = [];
  for (let i0 = 0; i0 < B; i0 += size) {
    const b = Math.min(size, B - i0);
    const data = new Float32Array(T * b * per);
    for (let t = 0; t < T; t++) data.set(x.data.subarray((t * B + i0) * per, (t * B + i0 + b) * per), t * b * per);
    out.push(new Tensor(data, [T, b, ...x.shape.slice(2)], { binary: x.binary }));
  }
  return out;
}
