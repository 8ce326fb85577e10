/**
 * The fused multi-step leaky integrate-and-fire kernel behind `Leaky`, `IF` and
 * `Synaptic`: one autograd node for all T steps, with hand-written forward and
 * backward-through-time loops and no allocation inside the time loop.
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
import { OptionError, ShapeError, fmtShape } from '../errors';
import { isGradEnabled, record } from '../autograd/engine';
import { reshape as reshapeOp, slice as sliceOp } from '../autograd/functional';
import { Tensor } from '../tensor/tensor';
import type { Surrogate } from './surrogate';

/** How the membrane is reset after a spike. */
export type ResetMechanism = 'subtract' | 'zero' | 'none';

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
  const T = x.shape[0];
  const rest = x.shape.slice(1);
  const N = T === 0 ? rest.reduce((a, b) => a * b, 1) : x.size / T;
  const FB = featureSize(p.beta, rest, 'beta');
  const alphaT = p.alpha ?? null;
  const FA = alphaT ? featureSize(alphaT, rest, 'alpha') : 1;
  const u0T = stateTensor(init.mem, rest, 'membrane');
  const i0T = alphaT ? stateTensor(init.syn, rest, 'synaptic current') : null;
  if (init.syn && !alphaT) throw new OptionError('lif: a synaptic current state was given to a first-order neuron (no alpha)');

  const theta = p.threshold.data[0];
  const beta = p.beta.data;
  const alpha = alphaT ? alphaT.data : null;
  const inputs: Tensor[] = [x, p.beta, p.threshold];
  if (alphaT) inputs.push(alphaT);
  if (u0T) inputs.push(u0T);
  if (i0T) inputs.push(i0T);
  // Without a graph to keep them for, the membranes go to a scratch buffer reused across calls.
  const recording = isGradEnabled() && inputs.some((t) => t.requiresGrad);
  const U = recording ? new Float32Array(T * N) : scratchMembranes(T * N);
  const S = new Float32Array(T * N);
  const I = alpha ? new Float32Array(T * N) : null;
  const u = u0T ? u0T.data.slice() : new Float32Array(N);
  const syn = alpha ? (i0T ? i0T.data.slice() : new Float32Array(N)) : null;
  const mode = p.reset === 'subtract' ? 0 : p.reset === 'zero' ? 1 : 2;
  forwardKernel(T, N, x.data, beta, FB, alpha, FA, theta, mode, u, syn, U, S, I);

  const returnMem = options.returnMem ?? false;
  const out = returnMem ? new Tensor(concatHalves(S, U), [2, ...x.shape]) : new Tensor(S, x.shape, { binary: true });
  const u0 = u0T ? u0T.data : new Float32Array(N);
  const i0 = i0T ? i0T.data : new Float32Array(N);
  const derivative = p.surrogate.derivative;

  record(alphaT ? 'synaptic' : 'leaky', out, inputs, (g, retained) => {
    // Step t reads U_t and U_{t−1} before writing ∂L/∂X_t, and later steps never read U_t
    // again: so when the graph is freed after this backward, dX is written over U.
    const dX = retained ? new Float32Array(T * N) : U;
    const dBeta = new Float64Array(FB);
    const dAlpha = new Float64Array(FA);
    const carry = new Float32Array(N);
    const carryI = alpha ? new Float32Array(N) : null;
    const dTheta = backwardKernel(T, N, g.data, returnMem, U, u0, beta, FB, alpha, FA, I, i0, theta, mode, derivative, dX, dBeta, dAlpha, carry, carryI);
    const grads: (Tensor | null)[] = [
      new Tensor(dX, x.shape),
      new Tensor(Float32Array.from(dBeta), p.beta.shape),
      new Tensor(Float32Array.of(dTheta), []),
    ];
    if (alphaT) grads.push(new Tensor(Float32Array.from(dAlpha), alphaT.shape));
    // ∂L/∂U_0 and ∂L/∂I_0 are the carries left after the first step (zero when T = 0).
    if (u0T) grads.push(new Tensor(carry, rest));
    if (i0T && carryI) grads.push(new Tensor(carryI, rest));
    return grads;
  });

  const state: LifState = { mem: new Tensor(u, rest) };
  if (syn) state.syn = new Tensor(syn, rest);
  if (!returnMem) return { spikes: out, state };
  const spikes = sliceOp(out, [[0, 1]]);
  const mem = sliceOp(out, [[1, 2]]);
  const spikesT = reshapeOp(spikes, x.shape);
  spikesT.binary = true;
  return { spikes: spikesT, mem: reshapeOp(mem, x.shape), state };
}

let membraneScratch = new Float32Array(0);

function scratchMembranes(n: number): Float32Array {
  if (membraneScratch.length < n) membraneScratch = new Float32Array(n);
  return membraneScratch.subarray(0, n);
}

function concatHalves(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * The forward recurrence over all steps. `u` (and `syn`) hold the state on entry and the
 * final state on exit; U, S (and I) receive every step. Each update is rounded to float32
 * after every operation, in the order snnTorch computes it — fl(fl(fl(β·U) + I) − R·θ) —
 * so the membrane matches a float32 framework bit for bit. The reset is branch-free:
 * k = 1 − z·R scales the old membrane (z = 1 only for 'zero') and c·θ·R is subtracted
 * (c = 1 only for 'subtract'); fl(x − 0) = x, so the unused terms change nothing.
 */
function forwardKernel(
  T: number, N: number, X: Float32Array, beta: Float32Array, FB: number, alpha: Float32Array | null, FA: number,
  theta: number, mode: number, u: Float32Array, syn: Float32Array | null, U: Float32Array, S: Float32Array, I: Float32Array | null,
): void {
  const z = mode === 1 ? 1 : 0;
  const cth = mode === 0 ? theta : 0;
  for (let t = 0; t < T; t++) {
    const base = t * N;
    if (alpha !== null && syn !== null && I !== null) {
      // I_t = α·I_{t−1} + X_t, written into I and used as this step's input.
      let fa = 0;
      for (let j = 0; j < N; j++) {
        const i = Math.fround(Math.fround(alpha[fa] * syn[j]) + X[base + j]);
        syn[j] = i;
        I[base + j] = i;
        if (++fa === FA) fa = 0;
      }
    }
    const inp = I !== null ? I : X;
    if (FB === 1 && mode === 0) {
      subtractStep(N, inp, base, beta[0], theta, u, U, S);
      continue;
    }
    // fb: the feature index of element j for β (j mod F, without a division).
    let fb = 0;
    for (let j = 0; j < N; j++) {
      const prev = u[j];
      const r = +(prev > theta);
      const v = Math.fround(Math.fround(Math.fround(beta[fb] * (1 - z * r) * prev) + inp[base + j]) - cth * r);
      if (++fb === FB) fb = 0;
      u[j] = v;
      U[base + j] = v;
      S[base + j] = +(v > theta);
    }
  }
}

/**
 * Backward through time; fills dX, dBeta, dAlpha and leaves ∂L/∂U_0 in `carry` (∂L/∂I_0
 * in `carryI`); returns ∂L/∂θ. `carry` holds δ_{t+1}·∂U_{t+1}/∂U_t while step t runs.
 * G is [T, N] (spike gradients), followed by [T, N] membrane gradients when `withMem`.
 */
function backwardKernel(
  T: number, N: number, G: Float32Array, withMem: boolean, U: Float32Array, u0: Float32Array, beta: Float32Array, FB: number,
  alpha: Float32Array | null, FA: number, I: Float32Array | null, i0: Float32Array, theta: number, mode: number,
  derivative: (x: number) => number, dX: Float32Array, dBeta: Float64Array, dAlpha: Float64Array, carry: Float32Array, carryI: Float32Array | null,
): number {
  const z = mode === 1 ? 1 : 0;
  const c = mode === 0 ? 1 : 0;
  // ∂L/∂θ and, for a scalar β, ∂L/∂β are summed in locals: accumulating into memory would
  // chain every element on a store-to-load round trip.
  const scalarBeta = FB === 1;
  const fastPath = scalarBeta && mode === 0;
  const sums = new Float64Array(2);
  let dTheta = 0;
  let dBetaScalar = 0;
  for (let t = T - 1; t >= 0; t--) {
    const base = t * N;
    // A membrane output's gradient enters δ_t directly: fold it into the carry first.
    if (withMem) for (let j = 0; j < N; j++) carry[j] += G[T * N + base + j];
    const prevU = t > 0 ? U : u0;
    const prevOff = t > 0 ? base - N : 0;
    if (fastPath) {
      subtractStepBackward(N, G, base, U, prevU, prevOff, beta[0], theta, derivative, carry, dX, sums);
      dTheta -= sums[0];
      dBetaScalar += sums[1];
    } else {
      let fb = 0;
      for (let j = 0; j < N; j++) {
        const gs = G[base + j] * derivative(Math.fround(U[base + j] - theta));
        const d = gs + carry[j];
        const prev = prevU[prevOff + j];
        const r = +(prev > theta);
        const k = 1 - z * r;
        if (scalarBeta) dBetaScalar += d * k * prev;
        else dBeta[fb] += d * k * prev;
        carry[j] = d * beta[fb] * k;
        if (++fb === FB) fb = 0;
        dTheta -= gs + c * d * r;
        dX[base + j] = d;
      }
    }
    if (alpha !== null && carryI !== null && I !== null) {
      // ε_t = δ_t + α·ε_{t+1} = ∂L/∂I_t, the gradient of X_t; ∂L/∂α = Σ ε_t·I_{t−1}.
      const prevI = t > 0 ? I : i0;
      let fa = 0;
      for (let j = 0; j < N; j++) {
        const e = dX[base + j] + carryI[j];
        dAlpha[fa] += e * prevI[prevOff + j];
        carryI[j] = alpha[fa] * e;
        if (++fa === FA) fa = 0;
        dX[base + j] = e;
      }
    }
  }
  if (scalarBeta) dBeta[0] += dBetaScalar;
  return dTheta;
}

/**
 * One forward step with subtract reset and a scalar β (every LIF layer of R1): the generic
 * loop of {@link forwardKernel} with k = 1 and c = 1 folded in; same operations, same
 * rounding. A function of its own so that V8 optimises this hot loop on its own feedback.
 */
function subtractStep(N: number, inp: Float32Array, base: number, b: number, theta: number, u: Float32Array, U: Float32Array, S: Float32Array): void {
  for (let j = 0; j < N; j++) {
    const prev = u[j];
    // +(a > b) compiles to a flag read, not a branch: spikes are too random to predict.
    const v = Math.fround(Math.fround(Math.fround(b * prev) + inp[base + j]) - theta * +(prev > theta));
    u[j] = v;
    U[base + j] = v;
    S[base + j] = +(v > theta);
  }
}

/**
 * One backward step with subtract reset and a scalar β: the generic loop of
 * {@link backwardKernel} with k = 1 and c = 1. Leaves Σ_j (G·σ′ + δ·R) in sums[0] (for
 * ∂L/∂θ) and Σ_j δ·U_{t−1} in sums[1] (for ∂L/∂β).
 */
function subtractStepBackward(
  N: number, G: Float32Array, base: number, U: Float32Array, prevU: Float32Array, prevOff: number, b: number, theta: number,
  derivative: (x: number) => number, carry: Float32Array, dX: Float32Array, sums: Float64Array,
): void {
  let dT = 0;
  let dB = 0;
  for (let j = 0; j < N; j++) {
    const gs = G[base + j] * derivative(Math.fround(U[base + j] - theta));
    const d = gs + carry[j];
    const prev = prevU[prevOff + j];
    dB += d * prev;
    carry[j] = d * b;
    dT += gs + d * +(prev > theta);
    dX[base + j] = d;
  }
  sums[0] = dT;
  sums[1] = dB;
}
