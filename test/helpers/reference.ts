/** Straightforward reference loops over multi-indices, independent of the kernels' strategies. */
import { Rng, Tensor } from '../../src/index';

export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Multi-index of flat position i in a row-major shape. */
export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array(shape.length).fill(0);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}

export function ravel(idx: readonly number[], shape: readonly number[]): number {
  let i = 0;
  for (let d = 0; d < shape.length; d++) i = i * shape[d] + idx[d];
  return i;
}

/** Reads a[idx] with NumPy broadcasting against a result of rank idx.length. */
export function readBroadcast(a: Tensor, idx: readonly number[]): number {
  const lead = idx.length - a.ndim;
  const own = a.shape.map((d, i) => (d === 1 ? 0 : idx[lead + i]));
  return a.data[ravel(own, a.shape)];
}

export function randomTensor(shape: readonly number[], seed: number, lo = -2, hi = 2): Tensor {
  const rng = new Rng(seed);
  return new Tensor(Float32Array.from({ length: size(shape) }, () => rng.uniformRange(lo, hi)), shape);
}

/** |a − b| ≤ atol + rtol·|b| elementwise; returns the first failing index or −1. */
export function firstMismatch(a: ArrayLike<number>, b: ArrayLike<number>, rtol = 1e-5, atol = 1e-6): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i] || (Number.isNaN(a[i]) && Number.isNaN(b[i]))) continue;
    if (!(Math.abs(a[i] - b[i]) <= atol + rtol * Math.abs(b[i]))) return i;
  }
  return -1;
}
