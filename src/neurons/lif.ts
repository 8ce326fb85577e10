/**
 * The fused multi-step leaky integrate-and-fire op behind `Leaky`, `IF` and `Synaptic`: one
 * autograd node for all T steps (the `lif` rule of ../autograd/fused.ts), whose hand-written
 * forward and backward-through-time loops (../tensor/lif.ts) allocate nothing inside the time
 * loop. This file states the equations and validates the call.
 *
 * Inputs are time-first, X [T, ...rest]; the per-feature parameters (β, α) have the
 * shape of the trailing feature axes of `rest` (or are scalars) and broadcast over the
 * batch. With x = U − θ and H(x) = [x > 0], for t = 1..T:
 *
 *   I_t = α·I_{t−1} + X_t                      (Synaptic only; otherwise I_t = X_t)
 *   R_t = H(U_{t−1} − θ)                       (the previous step's spike; constant in backward)
 *   subtract: U_t = β·U_{t−1} + I_t − θ·R_t
 *   zero:     U_t = β·(1 − R_t)·U_{t−1} + I_t
 *   none:     U_t = β·U_{t−1} + I_t
 *   S_t = H(U_t − θ)
 *
 * Backward, with G_t = ∂L/∂S_t and σ′ the surrogate derivative:
 *   δ_t = G_t·σ′(U_t − θ) + δ_{t+1}·β            (subtract, none)
 *   δ_t = G_t·σ′(U_t − θ) + δ_{t+1}·β·(1 − R_{t+1})  (zero)
 *   ε_t = δ_t + α·ε_{t+1}   (Synaptic: ∂L/∂I_t),   ∂L/∂X_t = ε_t (δ_t without synapse)
 *   ∂L/∂β = Σ_t δ_t·U_{t−1}   (zero: δ_t·(1 − R_t)·U_{t−1}),   ∂L/∂α = Σ_t ε_t·I_{t−1}
 *   ∂L/∂θ = −Σ_t (G_t·σ′(U_t − θ) + δ_t·R_t)     (the R_t term only with subtract)
 * summed over whatever the parameter is shared across.
 */
import { applyFused } from '../autograd/fused';
import { reshape as reshapeOp, slice as sliceOp } from '../autograd/functional';
import { OptionError, ShapeError, fmtShape } from '../errors';
import type { ResetMechanism } from '../tensor/lif';
import { sizeOf } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import type { Surrogate } from './surrogate';

/** How the membrane is reset after a spike. */
export type { ResetMechanism } from '../tensor/lif';

/** Parameters of one multi-step LIF call. Parameter tensors may require gradients. */
export interface LifParameters {
  /** Membrane decay β, a scalar `[]` or per feature; the caller clamps it to [0, 1]. */
  beta: Tensor;
  /** Firing threshold θ, a scalar `[]`. */
  threshold: Tensor;
  /** Synaptic decay α (scalar or per feature) for the second-order `Synaptic` neuron; omit for first order. */
  alpha?: Tensor;
  reset: ResetMechanism;
  surrogate: Surrogate;
}

/** Neuron state at a time step: membrane U (and synaptic current I), each [...rest]. */
export interface LifState {
  mem: Tensor;
  syn?: Tensor;
}

export interface LifResult {
  /** Spikes S [T, ...rest], marked binary. */
  spikes: Tensor;
  /** Membrane traces U [T, ...rest] when `returnMem` was asked for (differentiable). */
  mem?: Tensor;
  /** The state after the last step, detached (carry it into the next call for truncated BPTT). */
  state: LifState;
}

function featureSize(p: Tensor, rest: readonly number[], name: string): number {
  if (p.ndim === 0) return 1;
  const tail = rest.slice(rest.length - p.ndim);
  if (p.ndim > rest.length || tail.some((d, i) => d !== p.shape[i])) {
    throw new ShapeError(`lif: ${name} of shape ${fmtShape(p.shape)} must be a scalar or match the trailing feature axes of the input's ${fmtShape(rest)}`);
  }
  return p.size;
}

function stateTensor(s: Tensor | undefined, rest: readonly number[], name: string): Tensor | null {
  if (!s) return null;
  if (s.ndim !== rest.length || s.shape.some((d, i) => d !== rest[i])) {
    throw new ShapeError(`lif: initial ${name} has shape ${fmtShape(s.shape)}, expected one step of the input, ${fmtShape(rest)}`);
  }
  return s;
}

/**
 * Runs a LIF layer over all T steps of `x` [T, ...rest] as one autograd node.
 *
 * @example
 * ```ts
 * const { spikes } = lif(currents, { beta: tensor(0.9), threshold: tensor(1), reset: 'subtract', surrogate: atan() });
 * ```
 */
export function lif(x: Tensor, p: LifParameters, init: Partial<LifState> = {}, options: { returnMem?: boolean } = {}): LifResult {
  if (x.ndim < 1) throw new ShapeError(`lif: expected time-first input [T, ...], got ${fmtShape(x.shape)}`);
  if (p.threshold.ndim !== 0) throw new ShapeError(`lif: threshold must be a scalar, got ${fmtShape(p.threshold.shape)}`);
  if (!['subtract', 'zero', 'none'].includes(p.reset)) throw new OptionError(`lif: reset must be 'subtract', 'zero' or 'none', got '${p.reset}'`);
  const rest = x.shape.slice(1);
  featureSize(p.beta, rest, 'beta');
  const alpha = p.alpha ?? null;
  if (alpha) featureSize(alpha, rest, 'alpha');
  const mem0 = stateTensor(init.mem, rest, 'membrane');
  const syn0 = alpha ? stateTensor(init.syn, rest, 'synaptic current') : null;
  if (init.syn && !alpha) throw new OptionError('lif: a synaptic current state was given to a first-order neuron (no alpha)');

  const inputs: Tensor[] = [x, p.beta, p.threshold];
  if (alpha) inputs.push(alpha);
  if (mem0) inputs.push(mem0);
  if (syn0) inputs.push(syn0);
  const n = sizeOf(rest);
  const final = { mem: mem0 ? mem0.data.slice() : new Float32Array(n), syn: alpha ? (syn0 ? syn0.data.slice() : new Float32Array(n)) : null };
  const returnMem = options.returnMem ?? false;
  const out = applyFused('lif', inputs, {
    reset: p.reset,
    derivative: p.surrogate.derivative,
    returnMem,
    hasAlpha: alpha !== null,
    hasMem0: mem0 !== null,
    hasSyn0: syn0 !== null,
    final,
  });
  const state: LifState = { mem: new Tensor(final.mem, rest) };
  if (final.syn) state.syn = new Tensor(final.syn, rest);
  if (!returnMem) return { spikes: out, state };
  const spikes = sliceOp(out, [[0, 1]]);
  const mem = sliceOp(out, [[1, 2]]);
  const spikesT = reshapeOp(spikes, x.shape);
  spikesT.binary = true;
  return { spikes: spikesT, mem: reshapeOp(mem, x.shape), state };
}
