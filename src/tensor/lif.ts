/**
 * The multi-step leaky integrate-and-fire kernels behind the fused `lif` op: the forward
 * recurrence and backward through time over all T steps, with no allocation inside the time
 * loop. The equations are in ../neurons/lif.ts; the autograd rule that calls these is `lif`
 * in ../autograd/fused.ts.
 */

/** How the membrane is reset after a spike. */
export type ResetMechanism = 'subtract' | 'zero' | 'none';

/**
 * One LIF layer's sizes and parameters, as the kernels see them: T steps of N neurons, β with
 * FB features (1: scalar) and α with FA features (null: first order), threshold θ.
 */
export interface LifKernel {
  readonly T: number;
  readonly N: number;
  readonly beta: Float32Array;
  readonly FB: number;
  readonly alpha: Float32Array | null;
  readonly FA: number;
  readonly theta: number;
  readonly reset: ResetMechanism;
}

/** The buffers of the forward recurrence: inputs X [T, N]; state u, syn [N]; traces U, S, I [T, N]. */
export interface LifForwardBuffers {
  readonly X: Float32Array;
  /** The membrane on entry; the final membrane on exit. */
  readonly u: Float32Array;
  /** The synaptic current on entry and exit (second order only). */
  readonly syn: Float32Array | null;
  readonly U: Float32Array;
  readonly S: Float32Array;
  readonly I: Float32Array | null;
}

/** The buffers of backward through time; the gradient buffers are filled (dBeta, dAlpha accumulated). */
export interface LifBackwardBuffers {
  /** Spike gradients [T, N], followed by [T, N] membrane gradients when `withMem`. */
  readonly G: Float32Array;
  readonly withMem: boolean;
  readonly U: Float32Array;
  readonly u0: Float32Array;
  readonly I: Float32Array | null;
  readonly i0: Float32Array;
  readonly derivative: (x: number) => number;
  /** ∂L/∂X [T, N]; may be U itself (each step reads U_t and U_{t−1} before writing dX_t). */
  readonly dX: Float32Array;
  readonly dBeta: Float64Array;
  readonly dAlpha: Float64Array;
  /** Zero on entry; ∂L/∂U_0 on exit. */
  readonly carry: Float32Array;
  /** Zero on entry; ∂L/∂I_0 on exit (second order only). */
  readonly carryI: Float32Array | null;
}

let membraneScratch = new Float32Array(0);

/**
 * A membrane buffer of n floats reused across calls, for forward passes that keep no graph
 * (valid until the next call).
 */
export function scratchMembranes(n: number): Float32Array {
  if (membraneScratch.length < n) membraneScratch = new Float32Array(n);
  return membraneScratch.subarray(0, n);
}

/**
 * The forward recurrence over all steps. `u` (and `syn`) hold the state on entry and the
 * final state on exit; U, S (and I) receive every step. Each update is rounded to float32
 * after every operation, in the order snnTorch computes it — fl(fl(fl(β·U) + I) − R·θ) —
 * so the membrane matches a float32 framework bit for bit. The reset is branch-free:
 * k = 1 − z·R scales the old membrane (z = 1 only for 'zero') and c·θ·R is subtracted
 * (c = 1 only for 'subtract'); fl(x − 0) = x, so the unused terms change nothing.
 */
export function lifForward(layer: LifKernel, buffers: LifForwardBuffers): void {
  const { T, N, beta, FB, alpha, FA, theta, reset } = layer;
  const { X, u, syn, U, S, I } = buffers;
  const z = reset === 'zero' ? 1 : 0;
  const cth = reset === 'subtract' ? theta : 0;
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
    if (FB === 1 && reset === 'subtract') {
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
 */
export function lifBackward(layer: LifKernel, buffers: LifBackwardBuffers): number {
  const { T, N, beta, FB, alpha, FA, theta, reset } = layer;
  const { G, withMem, U, u0, I, i0, derivative, dX, dBeta, dAlpha, carry, carryI } = buffers;
  const z = reset === 'zero' ? 1 : 0;
  const c = reset === 'subtract' ? 1 : 0;
  // ∂L/∂θ and, for a scalar β, ∂L/∂β are summed in locals: accumulating into memory would
  // chain every element on a store-to-load round trip.
  const scalarBeta = FB === 1;
  const fastPath = scalarBeta && reset === 'subtract';
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
 * loop of {@link lifForward} with k = 1 and c = 1 folded in; same operations, same
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
 * {@link lifBackward} with k = 1 and c = 1. Leaves Σ_j (G·σ′ + δ·R) in sums[0] (for
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
