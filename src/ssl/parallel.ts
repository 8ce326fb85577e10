/**
 * The hook through which {@link SSLTrainer} runs its second view's encoder on another thread,
 * and `datasetFeatures` every second batch (an eval-mode pass without a graph). The browser-safe core only defines the interface and a registry; in Node, `enableThreads()`
 * from `spikessl/node` installs a worker-thread implementation. With nothing installed (the
 * default, and always in a browser) both views run on the caller's thread.
 *
 * The contract keeps results independent of where a view ran: the other thread runs the same
 * code on a replica holding the same weights and buffers, reports the batch statistics of its
 * BatchNorm layers instead of applying them (the trainer applies them in view order), and
 * hands back its parameter gradients, which the trainer adds to the first view's — one
 * addition per element, as when both views' gradients meet in one graph.
 */
import type { BatchStats } from '../nn/functional';
import type { Tensor } from '../tensor/tensor';
import type { SpikingEncoder } from './models';

/** An encoder pass on one view running elsewhere; each call waits for the previous step to finish. */
export interface RemoteView {
  /**
   * Waits for the forward pass: the last layer's firing rates [B, F] (row-major) and the batch
   * statistics of each BatchNorm layer, in `encoder.modules()` order.
   */
  result(): { rates: Float32Array; batchStats: BatchStats[] };
  /** Starts the backward pass from the gradient of the rates [B, F]. */
  backward(grad: Float32Array): void;
  /** Waits for the backward pass: the gradient of each parameter (`encoder.parameters()` order), null where none flowed. */
  grads(): Array<Float32Array | null>;
}

/** Runs an encoder's forward and backward pass on one view elsewhere. */
export interface ViewParallel {
  /**
   * Starts `encoder.forwardLayers(view)` with the encoder's current weights and buffers on
   * another thread; null to decline (the caller then runs it itself). In 'train' mode the pass
   * builds a graph for `backward`; in 'eval' mode it runs without one, BatchNorm using its
   * running statistics, and only `result().rates` is meaningful (no batch statistics).
   */
  start(encoder: SpikingEncoder, view: Tensor, mode: 'train' | 'eval'): RemoteView | null;
}

let current: ViewParallel | null = null;

/** Installs (or with null removes) the view-parallel runner. */
export function setViewParallel(p: ViewParallel | null): void {
  current = p;
}

/** The installed view-parallel runner, or null. */
export function viewParallel(): ViewParallel | null {
  return current;
}
