/**
 * Spiking neuron layers as modules: `Leaky` (LIF), `IF` and `Synaptic`. Each holds its
 * parameters and runs the fused multi-step kernel of ./lif over a time-first input
 * [T, B, ...features], returning spikes [T, B, ...features] marked binary.
 *
 * As in snnTorch, β, α and θ appear in the state dict under the names `beta`, `alpha` and
 * `threshold`: as parameters when learnable, else as buffers.
 */
import { noGrad } from '../autograd/engine';
import { add, clamp, concat, mul, reshape, slice, sub } from '../autograd/functional';
import { OptionError, ShapeError, fmtShape } from '../errors';
import { Module, Parameter } from '../nn/module';
import { Tensor, tensor } from '../tensor/tensor';
import { type LifState, type ResetMechanism, lif } from './lif';
import { spike } from './functional';
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
  /**
   * Reset in the step that fires rather than at the next one (snnTorch's `reset_delay=False`):
   * with P_t the update above, V_t = P_t − (S_t − R_t)·θ (subtract) or P_t − (S_t − R_t)·P_t
   * (zero), where R_t = [V_{t−1} > θ] and the stored membrane is V. As in snnTorch the gradient
   * flows through S_t in that reset. Runs a composed step-by-step form: slower than the fused
   * kernel of the default (true). Not for `Synaptic`.
   */
  resetDelay?: boolean;
  /**
   * Output spikes are S_t·g (snnTorch's `graded_spikes_factor`; the reset still uses S_t).
   * Giving it registers `graded_spikes_factor` in the state dict. Default: none (g = 1).
   */
  gradedSpikesFactor?: number;
  /** Train g. Default false. */
  learnGradedSpikesFactor?: boolean;
}

/** One time step of a neuron layer: what {@link Leaky.step} returns. */
export interface LeakyStep {
  /** Spikes S_t [B, ...] (times g when graded). */
  spk: Tensor;
  /** Membrane U_t [B, ...] (differentiable). */
  mem: Tensor;
  /** The state to pass to the next step: not detached, so gradients flow across steps. */
  state: LifState;
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
  /** Whether the reset happens at the next step (default) or in the firing one. */
  readonly resetDelay: boolean;
  /** The graded-spikes factor g (a Parameter when learnable), or null for plain spikes. */
  readonly gradedSpikesFactor: Tensor | null;
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
    this.resetDelay = options.resetDelay ?? true;
    const g = options.gradedSpikesFactor ?? (options.learnGradedSpikesFactor ? 1 : undefined);
    if (g !== undefined && !Number.isFinite(g)) throw new OptionError(`Leaky: gradedSpikesFactor must be finite, got ${g}`);
    this.gradedSpikesFactor = g === undefined ? null : this.register('graded_spikes_factor', tensor(g), options.learnGradedSpikesFactor ?? false);
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

  /**
   * One time step for users who drive time themselves (snnTorch's `spk, mem = lif(x, mem)`):
   * x [B, ...] and the previous step's state (none: U_0 = 0) give this step's spikes, membrane
   * and state. The state is not detached, so calling step T times and backpropagating through
   * them gives the gradients of the fused T-step {@link forward}; detach it yourself for
   * truncated BPTT. Ignores `stateful`.
   *
   * @example
   * ```ts
   * const leaky = new Leaky({ beta: 0.9 });
   * let state: LifState | undefined;
   * for (let t = 0; t < T; t++) ({ spk, state } = leaky.step(currents[t], state));
   * ```
   */
  step(x: Tensor, state?: LifState): LeakyStep {
    if (this.alphaTensor()) throw new OptionError(`${this.constructor.name}: step() is available for Leaky and IF, not for second-order neurons`);
    if (state?.mem && (state.mem.ndim !== x.ndim || state.mem.shape.some((d, i) => d !== x.shape[i]))) {
      throw new ShapeError(`Leaky.step: state.mem has shape ${fmtShape(state.mem.shape)}, expected the input's ${fmtShape(x.shape)}`);
    }
    let spk: Tensor;
    let mem: Tensor;
    if (this.resetDelay) {
      const beta = clamp(this.beta, 0, 1);
      const r = lif(reshape(x, [1, ...x.shape]), { beta, threshold: this.threshold, reset: this.reset, surrogate: this.surrogate }, state?.mem ? { mem: state.mem } : {}, { returnMem: true });
      spk = reshape(r.spikes, x.shape);
      spk.binary = true;
      mem = reshape(r.mem!, x.shape);
    } else {
      ({ spk, mem } = this.immediateStep(x, state?.mem ?? new Tensor(new Float32Array(x.size), x.shape)));
    }
    return { spk: this.graded(spk), mem, state: { mem } };
  }

  /** S·g when graded. */
  private graded(s: Tensor): Tensor {
    return this.gradedSpikesFactor ? mul(s, this.gradedSpikesFactor) : s;
  }

  /**
   * One step with the reset in the firing step (resetDelay false), composed from autograd ops
   * in the fused kernel's float32 order: P = fl(fl(β·V) + X) − θ·R (subtract) or
   * fl(β·(1 − R)·V) + X (zero), S = H(P − θ), then V′ = P − (S − R)·θ or P − (S − R)·P.
   */
  private immediateStep(x: Tensor, v: Tensor): { spk: Tensor; mem: Tensor } {
    const beta = clamp(this.beta, 0, 1);
    const theta = this.threshold;
    const r = noGrad(() => spike(sub(v, theta), this.surrogate));
    let p: Tensor;
    if (this.reset === 'subtract') p = sub(add(mul(beta, v), x), mul(theta, r));
    else if (this.reset === 'zero') p = add(mul(mul(beta, sub(1, r)), v), x);
    else p = add(mul(beta, v), x);
    const spk = spike(sub(p, theta), this.surrogate);
    if (this.reset === 'subtract') return { spk, mem: sub(p, mul(sub(spk, r), theta)) };
    if (this.reset === 'zero') return { spk, mem: sub(p, mul(sub(spk, r), p)) };
    return { spk, mem: p };
  }

  private run(x: Tensor, returnMem: boolean): { spikes: Tensor; mem?: Tensor } {
    const init: Partial<LifState> = this.stateful && this.state ? this.state : {};
    if (!this.resetDelay) {
      if (x.ndim < 1) throw new ShapeError(`Leaky: expected time-first input [T, ...], got ${fmtShape(x.shape)}`);
      const one = x.shape.slice(1);
      let v = init.mem ?? new Tensor(new Float32Array(one.reduce((a, b) => a * b, 1)), one);
      const spikes: Tensor[] = [];
      const mems: Tensor[] = [];
      for (let t = 0; t < x.shape[0]; t++) {
        const step = this.immediateStep(reshape(slice(x, [[t, t + 1]]), one), v);
        v = step.mem;
        spikes.push(reshape(step.spk, [1, ...one]));
        mems.push(reshape(v, [1, ...one]));
      }
      this.state = { mem: new Tensor(v.data.slice(), one) };
      const s = x.shape[0] === 0 ? new Tensor(new Float32Array(0), x.shape) : concat(spikes, 0);
      s.binary = true;
      return { spikes: this.graded(s), mem: returnMem ? (x.shape[0] === 0 ? new Tensor(new Float32Array(0), x.shape) : concat(mems, 0)) : undefined };
    }
    const beta = clamp(this.beta, 0, 1);
    const alpha = this.alphaTensor();
    const r = lif(x, { beta, threshold: this.threshold, alpha, reset: this.reset, surrogate: this.surrogate }, init, { returnMem });
    this.state = r.state;
    return { spikes: this.graded(r.spikes), mem: r.mem };
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
    if (options?.resetDelay === false) throw new OptionError('Synaptic: resetDelay: false is not supported (only Leaky and IF)');
    super(options);
    if (options.alpha === undefined) throw new OptionError('Synaptic: alpha is required, e.g. new Synaptic({ alpha: 0.8, beta: 0.9 })');
    this.alpha = this.register('alpha', decayTensor(options.alpha, 'Synaptic: alpha'), options.learnAlpha ?? false);
  }

  protected override alphaTensor(): Tensor {
    return clamp(this.alpha, 0, 1);
  }
}
