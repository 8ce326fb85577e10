/**
 * The worker side of view-parallel training: a replica of the trainer's encoder, rebuilt from
 * its spec, that takes the weights and buffers it is sent, runs the forward pass on one view
 * (reporting its BatchNorm statistics instead of applying them) and, later, the backward pass
 * from the gradient of the rates, handing back the parameter gradients. For feature extraction
 * the same forward pass runs in eval mode without a graph, and no backward pass follows.
 */
import { backward, noGrad } from '../autograd/engine';
import { SpikesslError } from '../errors';
import { firingRate } from '../neurons/functional';
import type { BatchStats } from '../nn/functional';
import { batchNormLayers } from '../nn/norm';
import { type EncoderSpec, type SpikingEncoder, encoderFromSpec } from '../ssl/models';
import { Tensor } from '../tensor/tensor';

/** A forward or backward pass of the replica; operands in shared memory. */
export type ViewJob = {
  kind: 'view';
  /** Int32 word: 0 while running, 1 done, 2 failed (message in `errors` at `slot`). */
  flag: SharedArrayBuffer;
  errors: SharedArrayBuffer;
  slot: number;
} & (
  | {
      op: 'forward';
      spec: EncoderSpec;
      /** The encoder's parameters then buffers, by name, and their sizes, in the order of `state`. */
      names: string[];
      sizes: number[];
      state: SharedArrayBuffer;
      input: SharedArrayBuffer;
      shape: number[];
      binary: boolean;
      /** Training mode with a graph, or eval mode without one (features: no backward follows). */
      train: boolean;
      /** Out: the rates [B, F]. */
      rates: SharedArrayBuffer;
      /** Out: each BatchNorm's mean then unbiased variance, float64, in modules() order. */
      stats: SharedArrayBuffer;
    }
  | {
      op: 'backward';
      /** The gradient of the rates [B, F]. */
      grad: SharedArrayBuffer;
      /** Out: each parameter's gradient, float32, concatenated in parameters() order. */
      grads: SharedArrayBuffer;
      /** Out: Int32 per parameter, 1 where a gradient flowed. */
      flowed: SharedArrayBuffer;
    }
);

type Replica = { key: string; encoder: SpikingEncoder; state: Tensor[]; stats: BatchStats[] };

let replica: Replica | null = null;
/** The rates of the last forward pass, with their graph, until its backward. */
let pending: Tensor | null = null;

function build(job: Extract<ViewJob, { op: 'forward' }>, key: string): Replica {
  const encoder = encoderFromSpec(job.spec);
  const named = [...encoder.namedParameters(), ...encoder.namedBuffers()];
  const names = named.map(([n]) => n);
  if (names.join(',') !== job.names.join(',') || named.some(([, t], i) => t.size !== job.sizes[i])) {
    throw new SpikesslError(`view replica: the encoder rebuilt from its spec has tensors ${names.join(', ')}; the trainer's has ${job.names.join(', ')}`);
  }
  const stats: BatchStats[] = [];
  for (const m of batchNormLayers(encoder)) m.statsSink = (s) => stats.push(s);
  return { key, encoder, state: named.map(([, t]) => t), stats };
}

/** The firing rates of the encoder's last layer for `input`. */
function lastRates(encoder: SpikingEncoder, input: Tensor): Tensor {
  const layers = encoder.forwardLayers(input);
  return firingRate(layers[layers.length - 1]);
}

/** Runs one view job; throws on failure (the caller flags it). */
export function runViewJob(job: ViewJob): void {
  if (job.op === 'forward') {
    const key = JSON.stringify([job.spec, job.names, job.sizes]);
    if (replica === null || replica.key !== key) replica = build(job, key);
    pending = null;
    const state = new Float32Array(job.state);
    let off = 0;
    for (const t of replica.state) {
      t.data.set(state.subarray(off, off + t.size));
      off += t.size;
    }
    const size = job.shape.reduce((a, b) => a * b, 1);
    const input = new Tensor(new Float32Array(job.input, 0, size), job.shape, { binary: job.binary });
    replica.stats.length = 0;
    const encoder = replica.encoder;
    encoder.train(job.train);
    const rates = job.train ? lastRates(encoder, input) : noGrad(() => lastRates(encoder, input));
    new Float32Array(job.rates, 0, rates.size).set(rates.data);
    const out = new Float64Array(job.stats);
    off = 0;
    for (const s of replica.stats) {
      out.set(s.mean, off);
      out.set(s.variance, off + s.mean.length);
      off += 2 * s.mean.length;
    }
    pending = job.train ? rates : null;
    return;
  }
  if (replica === null || pending === null) throw new SpikesslError('view replica: a backward pass without a forward pass');
  const rates = pending;
  pending = null;
  const params = replica.encoder.parameters();
  for (const p of params) p.grad = null;
  if (rates.requiresGrad) backward(rates, new Tensor(new Float32Array(job.grad, 0, rates.size).slice(), rates.shape));
  const grads = new Float32Array(job.grads);
  const flowed = new Int32Array(job.flowed);
  let off = 0;
  params.forEach((p, i) => {
    flowed[i] = p.grad ? 1 : 0;
    if (p.grad) grads.set(p.grad.data, off);
    off += p.size;
    p.grad = null;
  });
}
