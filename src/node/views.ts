/**
 * View-parallel training on worker threads: {@link threadedViews} is a `ViewsRunner` that runs
 * a training step's second view (and every second batch of features) on worker 0 while the
 * calling thread runs the first. Both halves live here: the runner on the calling thread, and
 * the replica on the worker ({@link runViewJob}, called by ./worker.ts).
 *
 * The results are the bits of `localViews`:
 * - the replica is rebuilt from the encoder's `spec()` and sent every weight and buffer before
 *   each pass, so it computes what the encoder would;
 * - its BatchNorm layers defer their statistics (`deferStatistics`); the runner applies them to
 *   the encoder's own layers after view 1's, in view order, as one thread would;
 * - the loss's backward stops at the two views' rates (leaves standing for each view's graph);
 *   the worker back-propagates view 2's while this thread does view 1's, and hands back its
 *   parameter gradients, which are added to view 1's — one addition per element, as where two
 *   views' gradients meet in one graph (a + b = b + a exactly in floating point).
 */
import { accumulateGrad, backward, noGrad } from '../autograd/engine';
import { SpikesslError } from '../errors';
import { firingRate } from '../neurons/functional';
import type { BatchStats } from '../nn/functional';
import { batchNormLayers } from '../nn/norm';
import { Rng } from '../rng';
import type { EncoderConfig } from '../ssl/config';
import { type SpikingEncoder, encoderFromConfig } from '../ssl/models';
import { type TrainViews, type ViewsRunner, localViews } from '../ssl/views';
import { Tensor } from '../tensor/tensor';
import type { WasmKernelKind } from '../tensor/wasm';
import { type WorkerPool, workerPool } from './threads';

/** A forward or backward pass of the replica on worker 0; operands in shared memory. */
export type ViewJob = {
  kind: 'view';
  /** Int32 word: 0 while running, 1 done, 2 failed (message in `errors` at `slot`). */
  flag: SharedArrayBuffer;
  errors: SharedArrayBuffer;
  slot: number;
  /** The caller's kernels (see WorkerJob.kernels). */
  kernels: WasmKernelKind;
} & (
  | {
      op: 'forward';
      spec: EncoderConfig;
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

/** A view job without the fields the pool fills in. */
export type ViewJobBody = ViewJob extends infer J ? (J extends unknown ? Omit<J, 'kind' | 'flag' | 'errors' | 'slot' | 'kernels'> : never) : never;

// ------------------------------------------------------------------------------ calling thread

/** A growable shared buffer. */
class Shared {
  buffer = new SharedArrayBuffer(0);
  private grow(bytes: number): void {
    if (this.buffer.byteLength < bytes) this.buffer = new SharedArrayBuffer(Math.max(bytes, 2 * this.buffer.byteLength));
  }
  floats(n: number): Float32Array {
    this.grow(4 * n);
    return new Float32Array(this.buffer, 0, n);
  }
  ints(n: number): Int32Array {
    this.grow(4 * n);
    return new Int32Array(this.buffer, 0, n);
  }
  doubles(n: number): Float64Array {
    this.grow(8 * n);
    return new Float64Array(this.buffer, 0, n);
  }
}

/** The shared buffers of one pool's view jobs. */
interface Buffers {
  state: Shared;
  input: Shared;
  rates: Shared;
  stats: Shared;
  grad: Shared;
  grads: Shared;
  flowed: Shared;
}

const buffersOf = new WeakMap<WorkerPool, Buffers>();

function buffers(pool: WorkerPool): Buffers {
  let b = buffersOf.get(pool);
  if (!b) {
    b = { state: new Shared(), input: new Shared(), rates: new Shared(), stats: new Shared(), grad: new Shared(), grads: new Shared(), flowed: new Shared() };
    buffersOf.set(pool, b);
  }
  return b;
}

/** The pass started on worker 0: wait for its rates (and batch statistics), then optionally run its backward. */
interface RemoteView {
  rates(): Float32Array;
  batchStats(): BatchStats[];
  backward(grad: Float32Array): void;
  grads(): Array<Float32Array | null>;
}

/**
 * Starts `encoder`'s forward pass on `view` on worker 0 of `pool`, a replica with this
 * encoder's weights and buffers; null when the encoder has no spec (a custom encoder or
 * surrogate), which then runs here.
 */
function startRemote(pool: WorkerPool, encoder: SpikingEncoder, view: Tensor, train: boolean): RemoteView | null {
  const spec = encoder.spec?.() ?? null;
  if (spec === null || !pool.hasSideWorker) return null;
  pool.awaitSide();
  const buf = buffers(pool);
  const named = [...encoder.namedParameters(), ...encoder.namedBuffers()];
  const sizes = named.map(([, t]) => t.size);
  const state = buf.state.floats(sizes.reduce((a, b) => a + b, 0));
  let off = 0;
  for (const [, t] of named) {
    state.set(t.data, off);
    off += t.size;
  }
  buf.input.floats(view.size).set(view.data);
  const norms = batchNormLayers(encoder);
  const statsSize = norms.reduce((a, m) => a + 2 * m.numFeatures, 0);
  buf.stats.doubles(statsSize);
  const params = encoder.parameters();
  const rateCount = view.shape[1] * encoder.features;
  buf.rates.floats(rateCount);
  pool.postSide(
    {
      op: 'forward', spec, names: named.map(([n]) => n), sizes,
      state: buf.state.buffer, input: buf.input.buffer, shape: [...view.shape], binary: view.binary,
      train, rates: buf.rates.buffer, stats: buf.stats.buffer,
    },
    train ? 'forward pass of a view' : 'forward pass of a batch of features',
  );
  return {
    rates: () => {
      pool.awaitSide();
      return buf.rates.floats(rateCount).slice();
    },
    batchStats: () => {
      pool.awaitSide();
      const stats = new Float64Array(buf.stats.buffer, 0, statsSize);
      let o = 0;
      return norms.map((m) => {
        const c = m.numFeatures;
        const s = { mean: stats.slice(o, o + c), variance: stats.slice(o + c, o + 2 * c) };
        o += 2 * c;
        return s;
      });
    },
    backward: (grad) => {
      buf.grad.floats(grad.length).set(grad);
      buf.grads.floats(params.reduce((a, p) => a + p.size, 0));
      buf.flowed.ints(params.length);
      pool.postSide({ op: 'backward', grad: buf.grad.buffer, grads: buf.grads.buffer, flowed: buf.flowed.buffer }, 'backward pass of a view');
    },
    grads: () => {
      pool.awaitSide();
      const all = new Float32Array(buf.grads.buffer);
      const flowed = new Int32Array(buf.flowed.buffer, 0, params.length);
      let o = 0;
      return params.map((p, i) => {
        const g = flowed[i] === 1 ? all.slice(o, o + p.size) : null;
        o += p.size;
        return g;
      });
    },
  };
}

/**
 * Both views with the second on worker 0; see the module comment for why the bits match
 * {@link localViews}. View 1's rates are a leaf too, standing for its graph, so that the worker's
 * backward (posted as soon as the loss's backward reaches view 2's rates) runs while this
 * thread back-propagates view 1.
 */
function trainRemote(pool: WorkerPool, encoder: SpikingEncoder, view1: Tensor, view2: Tensor): TrainViews | null {
  const remote = startRemote(pool, encoder, view2, true);
  if (remote === null) return null;
  const layers1 = encoder.forwardLayers(view1);
  const graph1 = firingRate(layers1[layers1.length - 1]);
  const rates2 = remote.rates();
  const norms = batchNormLayers(encoder);
  const stats = remote.batchStats();
  if (stats.length !== norms.length) throw new SpikesslError(`threadedViews: the worker's encoder reported ${stats.length} BatchNorm layers, this one has ${norms.length}`);
  norms.forEach((bn, i) => bn.trackBatch(stats[i]));
  const rate1 = new Tensor(graph1.data, graph1.shape, { requiresGrad: true });
  const rate2 = new Tensor(rates2, graph1.shape, { requiresGrad: true });
  const gradOf = (t: Tensor) => t.grad ?? new Tensor(new Float32Array(t.size), t.shape);
  return {
    layers1,
    rate1,
    rate2,
    backward(loss) {
      backward(loss);
      remote.backward(gradOf(rate2).data);
      if (graph1.requiresGrad) backward(graph1, gradOf(rate1));
      const grads = remote.grads();
      encoder.parameters().forEach((p, i) => {
        const g = grads[i];
        if (g) accumulateGrad(p, new Tensor(g, p.shape));
      });
    },
  };
}

/**
 * A `ViewsRunner` for `SSLTrainer` (option `views`) and `datasetFeatures` that runs the second
 * view of each training step, and every second batch of features, on a worker thread while
 * this thread runs the first — when threads are enabled ({@link enableThreads} with 2 or more)
 * and the encoder is a built-in one (its `spec()` describes it). Otherwise it runs as
 * `localViews`. Same bits either way.
 *
 * @example
 * ```ts
 * import { enableThreads, threadedViews } from 'spikessl/node';
 * enableThreads(2);
 * const trainer = new SSLTrainer({ encoder, projector: head, loss: 'barlow', optimizer, rng, views: threadedViews() });
 * ```
 */
export function threadedViews(): ViewsRunner {
  return {
    train(encoder, view1, view2) {
      const pool = workerPool();
      return (pool && trainRemote(pool, encoder, view1, view2)) ?? localViews.train(encoder, view1, view2);
    },
    rates(encoder, inputs) {
      const pool = workerPool();
      if (pool === null || inputs.length < 2) return localViews.rates(encoder, inputs);
      const out: Float32Array[] = [];
      for (let k = 0; k < inputs.length; k += 2) {
        const remote = k + 1 < inputs.length ? startRemote(pool, encoder, inputs[k + 1], false) : null;
        out.push(localViews.rates(encoder, [inputs[k]])[0]);
        if (k + 1 < inputs.length) out.push(remote ? remote.rates() : localViews.rates(encoder, [inputs[k + 1]])[0]);
      }
      return out;
    },
  };
}

// ------------------------------------------------------------------------------ worker 0

type Replica = { key: string; encoder: SpikingEncoder; state: Tensor[] };

let replica: Replica | null = null;
/** The rates of the last forward pass, with their graph, until its backward. */
let pending: Tensor | null = null;

function build(job: Extract<ViewJob, { op: 'forward' }>, key: string): Replica {
  // The weights drawn here are overwritten by the ones sent with every job.
  const encoder = encoderFromConfig(job.spec, new Rng(0));
  const named = [...encoder.namedParameters(), ...encoder.namedBuffers()];
  const names = named.map(([n]) => n);
  if (names.join(',') !== job.names.join(',') || named.some(([, t], i) => t.size !== job.sizes[i])) {
    throw new SpikesslError(`view replica: the encoder rebuilt from its spec has tensors ${names.join(', ')}; the trainer's has ${job.names.join(', ')}`);
  }
  for (const m of batchNormLayers(encoder)) m.deferStatistics = true;
  return { key, encoder, state: named.map(([, t]) => t) };
}

/** The firing rates of the encoder's last layer for `input`. */
function lastRates(encoder: SpikingEncoder, input: Tensor): Tensor {
  const layers = encoder.forwardLayers(input);
  return firingRate(layers[layers.length - 1]);
}

/** Runs one view job on the worker; throws on failure (the caller flags it). */
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
    const encoder = replica.encoder;
    const norms = batchNormLayers(encoder);
    for (const m of norms) m.deferredStats.length = 0;
    encoder.train(job.train);
    const rates = job.train ? lastRates(encoder, input) : noGrad(() => lastRates(encoder, input));
    new Float32Array(job.rates, 0, rates.size).set(rates.data);
    const out = new Float64Array(job.stats);
    off = 0;
    for (const m of norms) {
      for (const s of m.deferredStats.splice(0)) {
        out.set(s.mean, off);
        out.set(s.variance, off + s.mean.length);
        off += 2 * s.mean.length;
      }
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
