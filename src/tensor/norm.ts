/**
 * The kernels behind the fused `batchNorm` op, over x viewed as [outer, c, inner] (channels on
 * the middle axis): per-channel sums in double precision, the affine map y = x·scale + shift,
 * and the sums and map of its backward. Raw loops only; the autograd rule that calls them is
 * `batchNorm` in ../autograd/fused.ts.
 */
import { ShapeError } from '../errors';
import type { Tensor } from './tensor';

/** One batch's per-channel statistics, as the running statistics see them. */
export interface BatchStats {
  mean: Float64Array;
  /** The unbiased variance σ²·n/(n − 1). */
  variance: Float64Array;
}

/**
 * Moves running statistics towards one batch's: r ← (1 − m)·r + m·s, per channel, computed in
 * double precision and stored as float32.
 */
export function updateRunningStats(runningMean: Tensor, runningVar: Tensor, stats: BatchStats, momentum: number): void {
  const c = runningMean.size;
  if (runningVar.size !== c || stats.mean.length !== c || stats.variance.length !== c) {
    throw new ShapeError(`updateRunningStats: expected ${c} channels everywhere, got running_var ${runningVar.size}, mean ${stats.mean.length}, variance ${stats.variance.length}`);
  }
  for (let ch = 0; ch < c; ch++) {
    runningMean.data[ch] = (1 - momentum) * runningMean.data[ch] + momentum * stats.mean[ch];
    runningVar.data[ch] = (1 - momentum) * runningVar.data[ch] + momentum * stats.variance[ch];
  }
}

/** mean[ch] = Σ x / n and sq[ch] = Σ (x − mean)² over x viewed as [outer, c, inner]. */
export function channelMeanAndSquares(xd: Float32Array, outer: number, c: number, inner: number, mean: Float64Array, sq: Float64Array): void {
  const n = outer * inner;
  if (inner === 1) {
    // Channels last ([rows, c], BatchNorm1d and time-folded currents): plain row sweeps.
    for (let o = 0; o < outer; o++) {
      const base = o * c;
      for (let ch = 0; ch < c; ch++) mean[ch] += xd[base + ch];
    }
    for (let ch = 0; ch < c; ch++) mean[ch] /= n;
    for (let o = 0; o < outer; o++) {
      const base = o * c;
      for (let ch = 0; ch < c; ch++) {
        const d = xd[base + ch] - mean[ch];
        sq[ch] += d * d;
      }
    }
    return;
  }
  for (let o = 0; o < outer; o++) {
    for (let ch = 0; ch < c; ch++) {
      const base = (o * c + ch) * inner;
      let s = 0;
      for (let i = 0; i < inner; i++) s += xd[base + i];
      mean[ch] += s;
    }
  }
  for (let ch = 0; ch < c; ch++) mean[ch] /= n;
  for (let o = 0; o < outer; o++) {
    for (let ch = 0; ch < c; ch++) {
      const base = (o * c + ch) * inner;
      const m = mean[ch];
      let s = 0;
      for (let i = 0; i < inner; i++) {
        const d = xd[base + i] - m;
        s += d * d;
      }
      sq[ch] += s;
    }
  }
}

/** y = x·scale[ch] + shift[ch] over x viewed as [outer, c, inner]. */
export function scaleShift(xd: Float32Array, y: Float32Array, outer: number, c: number, inner: number, scale: Float64Array, shift: Float64Array): void {
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      const base = o * c;
      for (let ch = 0; ch < c; ch++) y[base + ch] = xd[base + ch] * scale[ch] + shift[ch];
    }
    return;
  }
  for (let o = 0; o < outer; o++) {
    for (let ch = 0; ch < c; ch++) {
      const base = (o * c + ch) * inner;
      const sc = scale[ch];
      const sh = shift[ch];
      for (let i = 0; i < inner; i++) y[base + i] = xd[base + i] * sc + sh;
    }
  }
}

/** sumG[ch] = Σ g and sumGX[ch] = Σ g·(x − mean[ch]) over [outer, c, inner]. */
export function channelGradSums(gd: Float32Array, xd: Float32Array, outer: number, c: number, inner: number, mean: Float64Array, sumG: Float64Array, sumGX: Float64Array): void {
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      const base = o * c;
      for (let ch = 0; ch < c; ch++) {
        const gi = gd[base + ch];
        sumG[ch] += gi;
        sumGX[ch] += gi * (xd[base + ch] - mean[ch]);
      }
    }
    return;
  }
  for (let o = 0; o < outer; o++) {
    for (let ch = 0; ch < c; ch++) {
      const base = (o * c + ch) * inner;
      const m = mean[ch];
      let sg = 0;
      let sgx = 0;
      for (let i = 0; i < inner; i++) {
        const gi = gd[base + i];
        sg += gi;
        sgx += gi * (xd[base + i] - m);
      }
      sumG[ch] += sg;
      sumGX[ch] += sgx;
    }
  }
}

/** d = g·scale[ch] + (x − mean[ch])·a[ch] + b[ch] over [outer, c, inner]. */
export function batchNormInputGrad(
  gd: Float32Array, xd: Float32Array, d: Float32Array, outer: number, c: number, inner: number,
  scale: Float64Array, mean: Float64Array, a: Float64Array, b: Float64Array,
): void {
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      const base = o * c;
      for (let ch = 0; ch < c; ch++) d[base + ch] = gd[base + ch] * scale[ch] + (xd[base + ch] - mean[ch]) * a[ch] + b[ch];
    }
    return;
  }
  for (let o = 0; o < outer; o++) {
    for (let ch = 0; ch < c; ch++) {
      const base = (o * c + ch) * inner;
      const sc = scale[ch];
      const m = mean[ch];
      const ac = a[ch];
      const bc = b[ch];
      for (let i = 0; i < inner; i++) d[base + i] = gd[base + i] * sc + (xd[base + i] - m) * ac + bc;
    }
  }
}
