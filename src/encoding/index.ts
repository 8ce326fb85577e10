/**
 * Spike encoders: turn intensities into time-first spike trains [T, ...x.shape].
 * Every encoder is deterministic given its `Rng` (the Poisson encoder is the only random one).
 */
import { OptionError, ShapeError, fmtShape } from '../errors';
import type { Rng } from '../rng';
import { Tensor } from '../tensor/tensor';

const TWO_POW_32 = 4294967296;

function checkSteps(steps: number, op: string): void {
  if (!Number.isInteger(steps) || steps < 1) throw new OptionError(`${op}: steps must be a positive integer, got ${steps}`);
}

/** Options of {@link poisson}. */
export interface PoissonOptions {
  /** Number of time steps T. */
  steps: number;
  /** Source of randomness. */
  rng: Rng;
  /** Firing probability per step is clamp(gain·x, 0, 1). Default 1. */
  gain?: number;
  /** Accept values outside [0, 1] by clamping them; by default they are an error. */
  clamp?: boolean;
}

/**
 * Rate (Poisson) coding: S[t, i] ~ Bernoulli(clamp(gain·x[i], 0, 1)), independently for
 * every element and step. The draws run step by step, element by element in row-major
 * order, one 32-bit output of `rng` each: S = [u32 < p·2³²]. Elements whose p is exactly 0
 * or 1 are certain and draw nothing (on MNIST, four pixels in five are 0, so this saves most
 * of the draws). The output is marked binary.
 *
 * Two calls on the same batch give two independent encodings: the two "views" of
 * self-supervised learning.
 *
 * @example
 * ```ts
 * const rng = new Rng(0);
 * const view1 = poisson(images, { steps: 8, rng }); // [8, B, 784]
 * const view2 = poisson(images, { steps: 8, rng }); // an independent draw
 * ```
 */
export function poisson(x: Tensor, options: PoissonOptions): Tensor {
  const { steps, rng } = options;
  checkSteps(steps, 'poisson');
  const gain = options.gain ?? 1;
  if (!Number.isFinite(gain) || gain < 0) throw new OptionError(`poisson: gain must be a non-negative finite number, got ${gain}`);
  const n = x.size;
  const src = x.data;
  // The uncertain elements (0 < p < 1) with their thresholds p·2³², and the certain ones (p = 1).
  const uncertain = new Int32Array(n);
  const thresholds = new Float64Array(n);
  const certain = new Int32Array(n);
  let nu = 0;
  let nc = 0;
  for (let i = 0; i < n; i++) {
    const v = src[i];
    if (!(v >= 0 && v <= 1) && !options.clamp) {
      throw new OptionError(`poisson: values must lie in [0, 1] (pass clamp: true to clamp them), got ${v} at flat index ${i}`);
    }
    const p = gain * v;
    if (p >= 1) certain[nc++] = i;
    else if (p > 0) {
      uncertain[nu] = i;
      thresholds[nu++] = p * TWO_POW_32;
    }
  }
  const out = new Float32Array(steps * n);
  for (let t = 0; t < steps; t++) {
    const base = t * n;
    for (let k = 0; k < nc; k++) out[base + certain[k]] = 1;
    // +(u < p) rather than a branch: for grey pixels the outcome is a coin flip.
    for (let k = 0; k < nu; k++) out[base + uncertain[k]] = +(rng.nextU32() < thresholds[k]);
  }
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
  const { steps } = options;
  checkSteps(steps, 'latency');
  const linear = options.linear ?? false;
  const tau = options.tau ?? (linear ? steps - 1 : 1);
  const threshold = options.threshold ?? 0.01;
  if (!(tau >= 0) || !Number.isFinite(tau)) throw new OptionError(`latency: tau must be a non-negative finite number, got ${tau}`);
  if (!(threshold >= 0 && threshold < 1)) throw new OptionError(`latency: threshold must lie in [0, 1), got ${threshold}`);
  const n = x.size;
  const out = new Float32Array(steps * n);
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
