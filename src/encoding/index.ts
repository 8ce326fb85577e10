/**
 * Spike encoders: turn intensities into time-first spike trains [T, ...x.shape].
 * Every encoder is deterministic given its `Rng` (the Poisson encoder is the only random one).
 */
import { OptionError, ShapeError, fmtShape } from '../errors';
import type { Rng } from '../rng';
import { allocate } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';

const TWO_POW_32 = 4294967296;

function checkSteps(steps: number, op: string): void {
  if (!Number.isInteger(steps) || steps < 1) throw new OptionError(`${op}: steps must be a positive integer, got ${typeof steps === 'string' ? `'${steps}'` : steps}`);
}

function checkInput(x: Tensor, op: string): void {
  if (!(x instanceof Tensor)) throw new OptionError(`${op}: expected a Tensor of intensities, got ${x === null ? 'null' : typeof x}`);
}

/** Options of {@link poisson}. */
export interface PoissonOptions {
  /** Number of time steps T. Required for a static input; for a time-varying one it may be given and must equal x.shape[0]. */
  steps?: number;
  /** Source of randomness. */
  rng: Rng;
  /** The firing probability per step is p = clamp(gain·x + offset, 0, 1). Default 1. */
  gain?: number;
  /** See `gain`. Default 0. */
  offset?: number;
  /**
   * No spikes before this step. Static input: steps 0 … firstSpikeTime − 1 are silent (it must be
   * below T). Time-varying input: that many silent steps are prepended. Default 0 (snnTorch's
   * `first_spike_time`).
   */
  firstSpikeTime?: number;
  /**
   * `x` is already time-first, [T, ...], one probability per step (snnTorch's `time_var_input`).
   * Default false: x is one intensity per element, the same at every step.
   */
  timeVarying?: boolean;
  /** Accept values of x outside [0, 1] (p is clipped to [0, 1] as always, snnTorch's behaviour); by default they are an error. */
  clamp?: boolean;
}

/** Reads x[start … start + n) as probabilities p = clamp(gain·x + offset, 0, 1) into the lists of certain and uncertain elements. */
class Draws {
  readonly uncertain: Int32Array;
  readonly thresholds: Float64Array;
  readonly certain: Int32Array;
  nu = 0;
  nc = 0;
  constructor(n: number) {
    this.uncertain = new Int32Array(n);
    this.thresholds = new Float64Array(n);
    this.certain = new Int32Array(n);
  }

  classify(src: Float32Array, start: number, n: number, gain: number, offset: number, clamp: boolean): void {
    this.nu = 0;
    this.nc = 0;
    for (let i = 0; i < n; i++) {
      const v = src[start + i];
      if (!(v >= 0 && v <= 1) && !clamp) {
        throw new OptionError(`poisson: values must lie in [0, 1] (pass clamp: true to clamp them), got ${v} at flat index ${start + i}`);
      }
      // A NaN with clamp: true is neither ≥ 1 nor > 0, so it never fires.
      const p = gain * v + offset;
      if (p >= 1) this.certain[this.nc++] = i;
      else if (p > 0) {
        this.uncertain[this.nu] = i;
        this.thresholds[this.nu++] = p * TWO_POW_32;
      }
    }
  }

  /** Writes one step's spikes into out[base … base + n). */
  draw(out: Float32Array, base: number, rng: Rng): void {
    for (let k = 0; k < this.nc; k++) out[base + this.certain[k]] = 1;
    // +(u < p) rather than a branch: for grey pixels the outcome is a coin flip.
    for (let k = 0; k < this.nu; k++) out[base + this.uncertain[k]] = +(rng.nextU32() < this.thresholds[k]);
  }
}

/**
 * Rate (Poisson) coding: S[t, i] ~ Bernoulli(p_i) with p = clamp(gain·x + offset, 0, 1),
 * independently for every element and step, and S = 0 before `firstSpikeTime`. With
 * `timeVarying`, x is [T, ...] and step t uses x[t]'s probabilities. The draws run step by
 * step, element by element in row-major order, one 32-bit output of `rng` each:
 * S = [u32 < p·2³²]. Elements whose p is exactly 0 or 1 are certain and draw nothing (on MNIST,
 * four pixels in five are 0, so this saves most of the draws), nor do silent steps. The output is
 * marked binary.
 *
 * Values of x outside [0, 1] are an error unless `clamp` is set (snnTorch clamps silently); p
 * itself is clipped to [0, 1] after the gain and offset, as snnTorch does. Unlike snnTorch, the
 * gain and offset also apply to a time-varying input.
 *
 * Two calls on the same batch give two independent encodings: the two "views" of
 * self-supervised learning. An `OptionError` for a missing `rng`, steps that are not a positive
 * integer and values outside [0, 1]; a `ShapeError` when T × x.size is more than a tensor holds.
 *
 * @example
 * ```ts
 * const rng = new Rng(0);
 * const view1 = poisson(images, { steps: 8, rng }); // [8, B, 784]
 * const view2 = poisson(images, { steps: 8, rng }); // an independent draw
 * const late = poisson(images, { steps: 8, rng, firstSpikeTime: 2 }); // steps 0 and 1 silent
 * const movie = poisson(frames, { rng, timeVarying: true }); // frames [T, B, 784] → [T, B, 784]
 * ```
 */
export function poisson(x: Tensor, options: PoissonOptions): Tensor {
  checkInput(x, 'poisson');
  if (options === null || typeof options !== 'object') throw new OptionError('poisson: options { steps, rng } are required, e.g. poisson(x, { steps: 8, rng: new Rng(0) })');
  const { rng } = options;
  if (rng === null || typeof rng !== 'object' || typeof (rng as Partial<Rng>).nextU32 !== 'function') {
    throw new OptionError(`poisson: rng must be an Rng (every random function takes one), got ${rng === null ? 'null' : typeof rng}`);
  }
  const timeVarying = options.timeVarying ?? false;
  const gain = options.gain ?? 1;
  const offset = options.offset ?? 0;
  const first = options.firstSpikeTime ?? 0;
  const clamp = options.clamp ?? false;
  if (!Number.isFinite(gain) || gain < 0) throw new OptionError(`poisson: gain must be a non-negative finite number, got ${gain}`);
  if (!Number.isFinite(offset)) throw new OptionError(`poisson: offset must be a finite number, got ${offset}`);
  if (!Number.isInteger(first) || first < 0) throw new OptionError(`poisson: firstSpikeTime must be a non-negative integer, got ${first}`);
  if (timeVarying) {
    if (x.ndim < 1 || x.shape[0] < 1) throw new ShapeError(`poisson: a time-varying input must be [T, ...] with T ≥ 1, got ${fmtShape(x.shape)}`);
    const T = x.shape[0];
    if (options.steps !== undefined && options.steps !== T) throw new OptionError(`poisson: steps ${options.steps} disagrees with the time-varying input's ${T} steps (omit steps)`);
    const out = allocate([first + T, ...x.shape.slice(1)], 'poisson'); // before any work: T·size may be too large
    const n = x.size / T;
    const draws = new Draws(n);
    for (let t = 0; t < T; t++) {
      draws.classify(x.data, t * n, n, gain, offset, clamp);
      draws.draw(out, (first + t) * n, rng);
    }
    return new Tensor(out, [first + T, ...x.shape.slice(1)], { binary: true });
  }
  const steps = options.steps as number;
  checkSteps(steps, 'poisson');
  if (first >= steps) throw new OptionError(`poisson: firstSpikeTime must be below steps (${steps}), got ${first}`);
  const out = allocate([steps, ...x.shape], 'poisson'); // before any work: T·size may be too large
  const n = x.size;
  const draws = new Draws(n);
  draws.classify(x.data, 0, n, gain, offset, clamp);
  for (let t = first; t < steps; t++) draws.draw(out, t * n, rng);
  return new Tensor(out, [steps, ...x.shape], { binary: true });
}

/** Options of {@link latency}. */
export interface LatencyOptions {
  /** Number of time steps T. */
  steps: number;
  /** Time constant τ in steps. Default: T − 1 for linear coding, 1 for RC coding. */
  tau?: number;
  /** Inputs at or below this value never spike. Default 0.01. */
  threshold?: number;
  /** Linear coding instead of the RC (logarithmic) model. Default false. */
  linear?: boolean;
}

/**
 * Latency (time-to-first-spike) coding: each element spikes at most once, earlier for
 * stronger inputs. For x > threshold the spike time is
 *   linear: t = round(τ·(1 − x))
 *   RC:     t = round(τ·ln(x / (x − threshold)))   (the charging time of an RC circuit)
 * and elements with x ≤ threshold, or whose time is ≥ T, stay silent. Inputs in [0, 1].
 */
export function latency(x: Tensor, options: LatencyOptions): Tensor {
  checkInput(x, 'latency');
  if (options === null || typeof options !== 'object') throw new OptionError('latency: options { steps } are required');
  const { steps } = options;
  checkSteps(steps, 'latency');
  const linear = options.linear ?? false;
  const tau = options.tau ?? (linear ? steps - 1 : 1);
  const threshold = options.threshold ?? 0.01;
  if (!(tau >= 0) || !Number.isFinite(tau)) throw new OptionError(`latency: tau must be a non-negative finite number, got ${tau}`);
  if (!(threshold >= 0 && threshold < 1)) throw new OptionError(`latency: threshold must lie in [0, 1), got ${threshold}`);
  const out = allocate([steps, ...x.shape], 'latency');
  const n = x.size;
  for (let i = 0; i < n; i++) {
    const v = x.data[i];
    if (!(v >= 0 && v <= 1)) throw new OptionError(`latency: values must lie in [0, 1], got ${v} at flat index ${i}`);
    if (v <= threshold) continue;
    const t = Math.round(linear ? tau * (1 - v) : tau * Math.log(v / (v - threshold)));
    if (t < steps) out[t * n + i] = 1;
  }
  return new Tensor(out, [steps, ...x.shape], { binary: true });
}

/** Options of {@link delta}. */
export interface DeltaOptions {
  /** Minimum change between consecutive steps that makes a spike. Default 0.1. */
  threshold?: number;
  /** Also emit −1 for decreases of at least `threshold`. Default false (then the output is binary). */
  off?: boolean;
}

/**
 * Delta modulation of a sequence x [T, ...]: S_t = 1 where x_t − x_{t−1} ≥ threshold (with
 * x_0 compared against 0), and, with `off`, −1 where x_t − x_{t−1} ≤ −threshold.
 */
export function delta(x: Tensor, options: DeltaOptions = {}): Tensor {
  if (x.ndim < 1) throw new ShapeError(`delta: expected a sequence [T, ...], got ${fmtShape(x.shape)}`);
  const threshold = options.threshold ?? 0.1;
  if (!(threshold > 0)) throw new OptionError(`delta: threshold must be positive, got ${threshold}`);
  const off = options.off ?? false;
  const T = x.shape[0];
  const n = T === 0 ? 0 : x.size / T;
  const out = new Float32Array(x.size);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < n; i++) {
      const d = x.data[t * n + i] - (t > 0 ? x.data[(t - 1) * n + i] : 0);
      if (d >= threshold) out[t * n + i] = 1;
      else if (off && d <= -threshold) out[t * n + i] = -1;
    }
  }
  return new Tensor(out, x.shape, { binary: !off });
}
