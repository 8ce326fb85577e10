/**
 * Spiking neuron layers as modules: `Leaky` (LIF), `IF` and `Synaptic`. Each holds its
 * parameters and runs the fused multi-step kernel of ./lif over a time-first input
 * [T, B, ...features], returning spikes [T, B, ...features] marked binary.
 *
 * As in snnTorch, β, α and θ appear in the state dict under the names `beta`, `alpha` and
 * `threshold`: as parameters when learnable, else as buffers.
 */
import { clamp } from '../autograd/functional';
import { OptionError } from '../errors';
import { Module, Parameter } from '../nn/module';
import { Tensor, tensor } from '../tensor/tensor';
import { type LifState, type ResetMechanism, lif } from './lif';
import { type Surrogate, atan } from './surrogate';

/** A decay given as a number (shared by all neurons), per-feature numbers, or a tensor. */
export type Decay = number | readonly number[] | Tensor;

/** Options of {@link Leaky}. */
export interface LeakyOptions {
  /** Membrane decay β ∈ [0, 1] (clamped in the forward pass, as snnTorch does). Required. */
  beta: Decay;
  /** Firing threshold θ > 0. Default 1. */
  threshold?: number;
  /** Train β. Default false. */
  learnBeta?: boolean;
  /** Train θ. Default false. */
  learnThreshold?: boolean;
  /** Reset after a spike. Default 'subtract'. */
  reset?: ResetMechanism;
  /** Surrogate gradient. Default `atan({ alpha: 2 })`. */
  surrogate?: Surrogate;
  /**
   * Carry the final state into the next call (truncated BPTT: the carried state is detached,
   * so gradients do not cross calls). Default false: every call starts from U₀ = 0.
   */
  stateful?: boolean;
}

/** How a value that is not the expected type reads in a message: its type, and strings quoted. */
function kindOf(v: unknown): string {
  if (typeof v === 'string') return `the string '${v.length > 20 ? `${v.slice(0, 17)}...` : v}'`;
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array of non-numbers';
  return typeof v === 'object' ? `a ${(v as object).constructor?.name ?? 'null-prototype object'}` : `a ${typeof v}`;
}

function decayTensor(d: Decay, name: string): Tensor {
  const isNumbers = Array.isArray(d) && d.every((v) => typeof v === 'number');
  if (!(d instanceof Tensor) && typeof d !== 'number' && !isNumbers) throw new OptionError(`${name} must be a number in [0, 1], an array of them or a Tensor, got ${kindOf(d)}`);
  const t = d instanceof Tensor ? d.clone() : typeof d === 'number' ? tensor(d) : tensor(d as number[]);
  for (const v of t.data) {
    if (!(v >= 0 && v <= 1)) throw new OptionError(`${name} must lie in [0, 1], got ${v}`);
  }
  return t;
}

/**
 * Leaky integrate-and-fire neuron (snnTorch's `Leaky`). With x = U − θ, H(x) = [x > 0]
 * and R_t = H(U_{t−1} − θ) (no gradient through the reset), for t = 1..T:
 *
 *   subtract (default): U_t = β·U_{t−1} + X_t − θ·R_t
 *   zero:               U_t = β·(1 − R_t)·U_{t−1} + X_t
 *   none:               U_t = β·U_{t−1} + X_t
 *   S_t = H(U_t − θ)
 *
 * with U_0 = 0 (or the carried state when `stateful`). Backward uses the surrogate's σ′
 * in place of H′; see ./lif for the backward equations. β is clamped to [0, 1].
 *
 * @example
 * ```ts
 * const lif = new Leaky({ beta: 0.9 });          // θ = 1, subtract reset, atan(2)
 * const spikes = lif.forward(currents);          // [T, B, F] → [T, B, F]
 * const { spikes: s, mem } = lif.forwardWithMem(currents);
 * ```
 */
export class Leaky extends Module {
  readonly reset: ResetMechanism;
  readonly surrogate: Surrogate;
  readonly stateful: boolean;
  /** β: a Parameter when learnable, else a buffer. */
  readonly beta: Tensor;
  /** θ: a Parameter when learnable, else a buffer. */
  readonly threshold: Tensor;
  private state: LifState | null = null;

  constructor(options: LeakyOptions) {
    super();
    if (options === undefined || options.beta === undefined) throw new OptionError('Leaky: beta is required, e.g. new Leaky({ beta: 0.9 })');
    this.reset = options.reset ?? 'subtract';
    if (!['subtract', 'zero', 'none'].includes(this.reset)) throw new OptionError(`Leaky: reset must be 'subtract', 'zero' or 'none', got '${this.reset}'`);
    this.surrogate = options.surrogate ?? atan();
    this.stateful = options.stateful ?? false;
    const th = options.threshold ?? 1;
    if (typeof th !== 'number') throw new OptionError(`Leaky: threshold must be a positive number, got ${kindOf(th)}`);
    // θ ≤ 0 fires a neuron whenever its membrane is above a non-positive level: nearly every step, whatever the input.
    if (!(th > 0) || !Number.isFinite(th)) throw new OptionError(`Leaky: threshold must be a positive finite number, got ${th}`);
    this.beta = this.register('beta', decayTensor(options.beta, 'Leaky: beta'), options.learnBeta ?? false);
    this.threshold = this.register('threshold', tensor(th), options.learnThreshold ?? false);
  }

  /** Registers `t` as a parameter (learnable) or a buffer. */
  protected register(name: string, t: Tensor, learnable: boolean): Tensor {
    return learnable ? this.registerParameter(name, Parameter.from(t)) : this.registerBuffer(name, t);
  }

  /** Spikes [T, ...] for input currents [T, ...]. */
  forward(x: Tensor): Tensor {
    return this.run(x, false).spikes;
  }

  /** Spikes and membrane traces, both [T, ...] and both differentiable. */
  forwardWithMem(x: Tensor): { spikes: Tensor; mem: Tensor } {
    const r = this.run(x, true);
    return { spikes: r.spikes, mem: r.mem! };
  }

  /** Forgets the carried state (only meaningful when `stateful`). */
  resetState(): void {
    this.state = null;
  }

  /** The state after the last call (detached), or null. */
  get lastState(): LifState | null {
    return this.state;
  }

  protected alphaTensor(): Tensor | undefined {
    return undefined;
  }

  private run(x: Tensor, returnMem: boolean) {
    const beta = clamp(this.beta, 0, 1);
    const alpha = this.alphaTensor();
    const init = this.stateful && this.state ? this.state : {};
    const r = lif(x, { beta, threshold: this.threshold, alpha, reset: this.reset, surrogate: this.surrogate }, init, { returnMem });
    this.state = r.state;
    return r;
  }
}

/** Options of {@link IF}: those of {@link Leaky} without β. */
export type IFOptions = Omit<LeakyOptions, 'beta' | 'learnBeta'>;

/**
 * Integrate-and-fire neuron: a {@link Leaky} with β = 1 (no leak):
 * U_t = U_{t−1} + X_t − θ·R_t (subtract reset), S_t = H(U_t − θ).
 */
export class IF extends Leaky {
  constructor(options: IFOptions = {}) {
    super({ ...options, beta: 1, learnBeta: false });
  }
}

/** Options of {@link Synaptic}. */
export interface SynapticOptions extends LeakyOptions {
  /** Synaptic current decay α ∈ [0, 1] (clamped in the forward pass). Required. */
  alpha: Decay;
  /** Train α. Default false. */
  learnAlpha?: boolean;
}

/**
 * Second-order LIF neuron (snnTorch's `Synaptic`): a synaptic current filters the input,
 *   I_t = α·I_{t−1} + X_t,
 * and drives the membrane exactly as in {@link Leaky} with I_t in place of X_t.
 */
export class Synaptic extends Leaky {
  /** α: a Parameter when learnable, else a buffer. */
  readonly alpha: Tensor;

  constructor(options: SynapticOptions) {
    super(options);
    if (options.alpha === undefined) throw new OptionError('Synaptic: alpha is required, e.g. new Synaptic({ alpha: 0.8, beta: 0.9 })');
    this.alpha = this.register('alpha', decayTensor(options.alpha, 'Synaptic: alpha'), options.learnAlpha ?? false);
  }

  protected override alphaTensor(): Tensor {
    return clamp(this.alpha, 0, 1);
  }
}
