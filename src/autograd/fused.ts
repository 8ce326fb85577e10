/**
 * The fused ops: each is ONE autograd node over a raw kernel that a benchmark justifies
 * (bench/results.json "layers": batchNorm 6.1 against 27.7 ms composed; the event-driven
 * linear; the multi-step LIF). `FUSED` has the shape of the primitive table in ./ops.ts —
 * typed over `FusedSpecs`, so an op without a backward rule does not compile — and its
 * kernels live in ../tensor (linear.ts, convolve.ts, conv.ts, norm.ts, lif.ts). The
 * functions users call (`linear`, `conv2d`, `lif`, …) validate their arguments and then
 * {@link applyFused}.
 */
import type { WindowGeometry } from '../tensor/conv';
import { avgPool2dPlanes, avgPool2dPlanesBackward, maxPool2dPlanes, maxPool2dPlanesBackward } from '../tensor/conv';
import { type ConvPlan, convBackward, convForward, planConv } from '../tensor/convolve';
import { type LifKernel, type ResetMechanism, lifBackward, lifForward, scratchMembranes } from '../tensor/lif';
import { type InputEvents, columnSums, inputEvents, linearForward, linearInputGrad, linearWeightGrad } from '../tensor/linear';
import { type BatchStats, batchNormInputGrad, channelGradSums, channelMeanAndSquares, scaleShift, updateRunningStats } from '../tensor/norm';
import { sizeOf } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { isGradEnabled } from './engine';
import { type Rule, applyRule } from './ops';

/** Attributes of the fused `batchNorm`: inputs are [x, weight?, bias?] as `affine` says. */
export interface BatchNormAttrs {
  /** The channel axis (non-negative). */
  axis: number;
  hasWeight: boolean;
  hasBias: boolean;
  training: boolean;
  momentum: number;
  eps: number;
  /** Updated in place in training mode; the statistics used in eval mode. */
  runningMean: Tensor | null;
  runningVar: Tensor | null;
  /** Training mode: receives the batch's statistics (see `BatchNormOptions.batchStats`). */
  batchStats: BatchStats | null;
}

/** Attributes of the fused `lif`: inputs are [x, β, θ, α?, U₀?, I₀?] as the flags say. */
export interface LifAttrs {
  reset: ResetMechanism;
  derivative: (x: number) => number;
  /** Output [2, T, ...] (spikes, then membranes) instead of the spikes [T, ...]. */
  returnMem: boolean;
  hasAlpha: boolean;
  hasMem0: boolean;
  hasSyn0: boolean;
  /** Receives the state after the last step: membrane [N] (and synaptic current [N]). */
  final: { mem: Float32Array; syn: Float32Array | null };
}

/** Each fused op's attributes (`attrs`) and what its forward saves for backward (`saved`). */
export interface FusedSpecs {
  linear: { attrs: null; saved: InputEvents | null };
  conv2d: { attrs: { geo: WindowGeometry }; saved: ConvPlan };
  maxPool2d: { attrs: { geo: WindowGeometry; planes: number }; saved: Int32Array };
  avgPool2d: { attrs: { geo: WindowGeometry; planes: number; countIncludePad: boolean }; saved: null };
  batchNorm: { attrs: BatchNormAttrs; saved: { mean: Float64Array; invstd: Float64Array; scale: Float64Array } };
  lif: { attrs: LifAttrs; saved: { U: Float32Array; I: Float32Array | null } };
}

export type FusedName = keyof FusedSpecs;

/** [outer, c, inner] of x with channels on `axis`. */
function channelView(x: Tensor, axis: number): [number, number, number] {
  return [sizeOf(x.shape.slice(0, axis)), x.shape[axis], sizeOf(x.shape.slice(axis + 1))];
}

/** The LIF's tensors picked out of its input list by the flags of {@link LifAttrs}. */
function lifInputs(x: readonly Tensor[], a: LifAttrs) {
  let k = 3;
  const alpha = a.hasAlpha ? x[k++] : null;
  const mem0 = a.hasMem0 ? x[k++] : null;
  const syn0 = a.hasSyn0 ? x[k++] : null;
  const T = x[0].shape[0];
  const rest = x[0].shape.slice(1);
  const layer: LifKernel = {
    T,
    N: T === 0 ? sizeOf(rest) : x[0].size / T,
    beta: x[1].data,
    FB: x[1].size,
    alpha: alpha?.data ?? null,
    FA: alpha?.size ?? 1,
    theta: x[2].data[0],
    reset: a.reset,
  };
  return { layer, rest, alpha, mem0, syn0 };
}

export const FUSED: { [P in FusedName]: Rule<FusedSpecs[P]> } = {
  linear: {
    // y = x·Wᵀ + b over all leading axes of x as rows; dX = G·W, dW = Gᵀ·X, db = Σ_rows G.
    forward: ([x, w, b], _, save) => {
      const [outF, inF] = w.shape;
      const rows = sizeOf(x.shape.slice(0, -1));
      const y = new Float32Array(rows * outF);
      // A binary input (spikes) goes event-driven when sparse enough; the index also serves backward.
      const events = inputEvents(x, rows, inF);
      linearForward(x.data, w.data, b?.data ?? null, rows, inF, outF, y, events);
      save(events);
      return new Tensor(y, [...x.shape.slice(0, -1), outF]);
    },
    backward: (g, { x: [x, w, b], saved: events }) => {
      const [outF, inF] = w.shape;
      const rows = sizeOf(x.shape.slice(0, -1));
      return [
        x.requiresGrad ? new Tensor(linearInputGrad(g.data, w.data, rows, inF, outF), x.shape) : null,
        w.requiresGrad ? new Tensor(linearWeightGrad(g.data, x.data, rows, inF, outF, events), w.shape) : null,
        b?.requiresGrad ? new Tensor(columnSums(g.data, rows, outF), b.shape) : null,
      ];
    },
  },
  conv2d: {
    // Cross-correlation by im2col + GEMM (or events); dW = G·colᵀ, dX = col2im(Wᵀ·G), db = Σ G.
    forward: ([x, w, b], { geo }, save) => {
      const lead = x.shape.slice(0, -3);
      const outC = w.shape[0];
      const p = planConv(x.data, sizeOf(lead), geo, outC);
      const y = new Float32Array(p.nImg * outC * p.l);
      convForward(x.data, w.data, b?.data ?? null, p, y);
      save(p);
      return new Tensor(y, [...lead, outC, geo.oh, geo.ow]);
    },
    backward: (g, { x: [x, w, b], saved: p }) => {
      const d = convBackward(g.data, x.data, w.data, p, { x: x.requiresGrad, w: w.requiresGrad, b: b?.requiresGrad ?? false });
      return [d.dx && new Tensor(d.dx, x.shape), d.dw && new Tensor(d.dw, w.shape), d.db && b ? new Tensor(d.db, b.shape) : null];
    },
  },
  maxPool2d: {
    // The whole gradient of a window goes to its first maximal element (row-major), as in PyTorch.
    forward: ([x], { geo, planes }, save) => {
      const n = planes * geo.oh * geo.ow;
      const y = new Float32Array(n);
      const argmax = new Int32Array(n);
      maxPool2dPlanes(x.data, planes, geo, y, argmax);
      save(argmax);
      return new Tensor(y, [...x.shape.slice(0, -2), geo.oh, geo.ow]);
    },
    backward: (g, { x: [x], saved: argmax }) => {
      const dx = new Float32Array(x.size);
      maxPool2dPlanesBackward(g.data, argmax, dx);
      return [new Tensor(dx, x.shape)];
    },
  },
  avgPool2d: {
    // Each output's gradient is spread evenly over its window.
    forward: ([x], { geo, planes, countIncludePad }) => {
      const y = new Float32Array(planes * geo.oh * geo.ow);
      avgPool2dPlanes(x.data, planes, geo, y, countIncludePad);
      return new Tensor(y, [...x.shape.slice(0, -2), geo.oh, geo.ow]);
    },
    backward: (g, { x: [x], attrs: { geo, planes, countIncludePad } }) => {
      const dx = new Float32Array(x.size);
      avgPool2dPlanesBackward(g.data, planes, geo, dx, countIncludePad);
      return [new Tensor(dx, x.shape)];
    },
  },
  batchNorm: {
    // y = γ·(x − μ)/√(σ² + ε) + β = x·scale + shift per channel; in training mode
    // dx = scale·(g − mean(g) − x̂·mean(g·x̂)), and in both modes dγ = Σ g·x̂, dβ = Σ g.
    forward: ([x, ...affine], a, save) => {
      const [outer, c, inner] = channelView(x, a.axis);
      const n = outer * inner;
      const weight = a.hasWeight ? affine[0] : null;
      const bias = a.hasBias ? affine[a.hasWeight ? 1 : 0] : null;
      const mean = new Float64Array(c);
      const invstd = new Float64Array(c);
      if (a.training) {
        const sq = new Float64Array(c);
        channelMeanAndSquares(x.data, outer, c, inner, mean, sq);
        for (let ch = 0; ch < c; ch++) invstd[ch] = 1 / Math.sqrt(sq[ch] / n + a.eps);
        const stats = a.batchStats ?? (a.runningMean !== null ? { mean: new Float64Array(c), variance: new Float64Array(c) } : null);
        if (stats !== null) {
          stats.mean.set(mean);
          for (let ch = 0; ch < c; ch++) stats.variance[ch] = sq[ch] / (n - 1);
          if (a.runningMean !== null && a.runningVar !== null) updateRunningStats(a.runningMean, a.runningVar, stats, a.momentum);
        }
      } else if (a.runningMean !== null && a.runningVar !== null) {
        for (let ch = 0; ch < c; ch++) {
          mean[ch] = a.runningMean.data[ch];
          invstd[ch] = 1 / Math.sqrt(a.runningVar.data[ch] + a.eps);
        }
      }
      // y = x·scale + shift with scale = γ/√(σ² + ε), shift = β − μ·scale.
      const scale = new Float64Array(c);
      const shift = new Float64Array(c);
      for (let ch = 0; ch < c; ch++) {
        scale[ch] = (weight !== null ? weight.data[ch] : 1) * invstd[ch];
        shift[ch] = (bias !== null ? bias.data[ch] : 0) - mean[ch] * scale[ch];
      }
      const y = new Float32Array(x.size);
      scaleShift(x.data, y, outer, c, inner, scale, shift);
      save({ mean, invstd, scale });
      return new Tensor(y, x.shape);
    },
    backward: (g, { x: [x, ...affine], attrs: a, saved: { mean, invstd, scale } }) => {
      const [outer, c, inner] = channelView(x, a.axis);
      const n = outer * inner;
      const gd = g.data;
      // Σ g and Σ g·x̂ per channel, x̂ = (x − μ)·invstd.
      const sumG = new Float64Array(c);
      const sumGX = new Float64Array(c);
      channelGradSums(gd, x.data, outer, c, inner, mean, sumG, sumGX);
      for (let ch = 0; ch < c; ch++) sumGX[ch] *= invstd[ch];
      let dx: Tensor | null = null;
      if (x.requiresGrad) {
        const d = new Float32Array(x.size);
        if (a.training) {
          // dx = scale·(g − mean(g) − (x − μ)·invstd·mean(g·x̂)) = g·scale + (x − μ)·p + q per channel.
          const p = new Float64Array(c);
          const q = new Float64Array(c);
          for (let ch = 0; ch < c; ch++) {
            p[ch] = (-scale[ch] * invstd[ch] * sumGX[ch]) / n;
            q[ch] = (-scale[ch] * sumG[ch]) / n;
          }
          batchNormInputGrad(gd, x.data, d, outer, c, inner, scale, mean, p, q);
        } else {
          scaleShift(gd, d, outer, c, inner, scale, new Float64Array(c));
        }
        dx = new Tensor(d, x.shape);
      }
      const grads: (Tensor | null)[] = [dx];
      const weight = a.hasWeight ? affine[0] : null;
      const bias = a.hasBias ? affine[a.hasWeight ? 1 : 0] : null;
      if (weight !== null) grads.push(weight.requiresGrad ? new Tensor(Float32Array.from(sumGX), weight.shape) : null);
      if (bias !== null) grads.push(bias.requiresGrad ? new Tensor(Float32Array.from(sumG), bias.shape) : null);
      return grads;
    },
  },
  lif: {
    // The recurrence and BPTT equations are in ../neurons/lif.ts; the kernels in ../tensor/lif.ts.
    forward: (x, a, save) => {
      const { layer, alpha } = lifInputs(x, a);
      const size = layer.T * layer.N;
      // Without a graph to keep them for, the membranes go to a scratch buffer reused across calls.
      const recording = isGradEnabled() && x.some((t) => t.requiresGrad);
      const U = recording ? new Float32Array(size) : scratchMembranes(size);
      const S = new Float32Array(size);
      const I = alpha ? new Float32Array(size) : null;
      lifForward(layer, { X: x[0].data, u: a.final.mem, syn: a.final.syn, U, S, I });
      save({ U, I });
      if (!a.returnMem) return new Tensor(S, x[0].shape, { binary: true });
      const both = new Float32Array(2 * size);
      both.set(S);
      both.set(U, size);
      return new Tensor(both, [2, ...x[0].shape]);
    },
    backward: (g, { x, attrs: a, saved: { U, I }, retained }) => {
      const { layer, rest, alpha, mem0, syn0 } = lifInputs(x, a);
      const { T, N, FB, FA } = layer;
      // Step t reads U_t and U_{t−1} before writing ∂L/∂X_t, and later steps never read U_t
      // again: so when the graph is freed after this backward, dX is written over U.
      const dX = retained ? new Float32Array(T * N) : U;
      const dBeta = new Float64Array(FB);
      const dAlpha = new Float64Array(FA);
      const carry = new Float32Array(N);
      const carryI = alpha ? new Float32Array(N) : null;
      const dTheta = lifBackward(layer, {
        G: g.data,
        withMem: a.returnMem,
        U,
        u0: mem0?.data ?? new Float32Array(N),
        I,
        i0: syn0?.data ?? new Float32Array(N),
        derivative: a.derivative,
        dX,
        dBeta,
        dAlpha,
        carry,
        carryI,
      });
      const grads: (Tensor | null)[] = [new Tensor(dX, x[0].shape), new Tensor(Float32Array.from(dBeta), x[1].shape), new Tensor(Float32Array.of(dTheta), [])];
      if (alpha) grads.push(new Tensor(Float32Array.from(dAlpha), alpha.shape));
      // ∂L/∂U_0 and ∂L/∂I_0 are the carries left after the first step (zero when T = 0).
      if (mem0) grads.push(new Tensor(carry, rest));
      if (syn0 && carryI) grads.push(new Tensor(carryI, rest));
      return grads;
    },
  },
};

/** Runs fused op `op` on `inputs` (already validated by its caller) and records it on the graph. */
export function applyFused<P extends FusedName>(op: P, inputs: readonly Tensor[], attrs: FusedSpecs[P]['attrs']): Tensor {
  return applyRule(op, FUSED[op] as Rule<FusedSpecs[P]>, inputs, attrs);
}
