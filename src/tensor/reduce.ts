/**
 * Reductions over any set of axes, with keepdim. Sums accumulate in double precision.
 * Each reduction views the tensor as [outer, R, inner] where R spans the reduced axes;
 * axes that are not one contiguous block are first moved to the end with a permute.
 */
import { ShapeError, fmtShape } from '../errors';
import { normAxes, sizeOf } from './shape';
import { permute } from './layout';
import { Tensor } from './tensor';

/** Axes to reduce: one axis, a list, or undefined for all. */
export type Axes = number | readonly number[] | undefined;

interface Plan {
  src: Float32Array;
  outer: number;
  r: number;
  inner: number;
  outShape: number[];
}

function plan(a: Tensor, axes: Axes, keepdim: boolean, op: string): Plan {
  const ax = normAxes(axes, a.ndim, op);
  const outShape: number[] = [];
  for (let d = 0; d < a.ndim; d++) {
    if (ax.includes(d)) {
      if (keepdim) outShape.push(1);
    } else outShape.push(a.shape[d]);
  }
  if (ax.length === 0) return { src: a.data, outer: a.size, r: 1, inner: 1, outShape };
  const contiguous = ax[ax.length - 1] - ax[0] === ax.length - 1;
  if (contiguous) {
    const outer = sizeOf(a.shape.slice(0, ax[0]));
    const r = sizeOf(a.shape.slice(ax[0], ax[ax.length - 1] + 1));
    const inner = sizeOf(a.shape.slice(ax[ax.length - 1] + 1));
    return { src: a.data, outer, r, inner, outShape };
  }
  const kept = [...Array(a.ndim).keys()].filter((d) => !ax.includes(d));
  const moved = permute(a, [...kept, ...ax]);
  const outer = sizeOf(kept.map((d) => a.shape[d]));
  return { src: moved.data, outer, r: sizeOf(ax.map((d) => a.shape[d])), inner: 1, outShape };
}

/** Sum over `axes` (all by default). */
export function sum(a: Tensor, axes?: Axes, keepdim = false): Tensor {
  const { src, outer, r, inner, outShape } = plan(a, axes, keepdim, 'sum');
  const out = new Float32Array(outer * inner);
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      let s = 0;
      const base = o * r;
      for (let k = 0; k < r; k++) s += src[base + k];
      out[o] = s;
    }
  } else {
    const acc = new Float64Array(inner);
    for (let o = 0; o < outer; o++) {
      acc.fill(0);
      const base = o * r * inner;
      for (let k = 0; k < r; k++) {
        const row = base + k * inner;
        for (let i = 0; i < inner; i++) acc[i] += src[row + i];
      }
      const ob = o * inner;
      for (let i = 0; i < inner; i++) out[ob + i] = acc[i];
    }
  }
  return new Tensor(out, outShape);
}

/** Mean over `axes` (all by default). The mean over zero elements is NaN, as in NumPy. */
export function mean(a: Tensor, axes?: Axes, keepdim = false): Tensor {
  const s = sum(a, axes, keepdim);
  const count = s.size === 0 ? 0 : a.size / s.size;
  const d = s.data;
  for (let i = 0; i < d.length; i++) d[i] = d[i] / count;
  return s;
}

/**
 * Variance over `axes` with `correction` subtracted from the count in the denominator
 * (1 = unbiased, as PyTorch's default; 0 = biased). Two passes, in double precision.
 */
export function variance(a: Tensor, axes?: Axes, keepdim = false, correction = 1): Tensor {
  const { src, outer, r, inner, outShape } = plan(a, axes, keepdim, 'variance');
  const out = new Float32Array(outer * inner);
  const denom = r - correction;
  const m = new Float64Array(inner);
  const v = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    m.fill(0);
    v.fill(0);
    const base = o * r * inner;
    for (let k = 0; k < r; k++) for (let i = 0; i < inner; i++) m[i] += src[base + k * inner + i];
    for (let i = 0; i < inner; i++) m[i] /= r;
    for (let k = 0; k < r; k++) {
      for (let i = 0; i < inner; i++) {
        const d = src[base + k * inner + i] - m[i];
        v[i] += d * d;
      }
    }
    for (let i = 0; i < inner; i++) out[o * inner + i] = denom > 0 ? v[i] / denom : NaN;
  }
  return new Tensor(out, outShape);
}

/**
 * Maximum (or minimum with `sign = −1`) and the flat index of the first extreme element
 * within the reduced block, per output element. NaN propagates (the first NaN wins).
 */
function extreme(a: Tensor, axes: Axes, keepdim: boolean, op: string, sign: 1 | -1): { values: Tensor; index: Int32Array } {
  const { src, outer, r, inner, outShape } = plan(a, axes, keepdim, op);
  if (r === 0 && outer * inner > 0) {
    throw new ShapeError(`${op}: cannot reduce over an empty dimension of shape ${fmtShape(a.shape)}`);
  }
  const out = new Float32Array(outer * inner);
  const index = new Int32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * r * inner + i;
      let best = src[base];
      let bi = 0;
      if (best === best) {
        for (let k = 1; k < r; k++) {
          const x = src[base + k * inner];
          if (x !== x) {
            best = x;
            bi = k;
            break;
          }
          if (sign * x > sign * best) {
            best = x;
            bi = k;
          }
        }
      }
      out[o * inner + i] = best;
      index[o * inner + i] = bi;
    }
  }
  return { values: new Tensor(out, outShape), index };
}

/** Maximum over `axes` (all by default); NaN propagates. */
export function max(a: Tensor, axes?: Axes, keepdim = false): Tensor {
  return extreme(a, axes, keepdim, 'max', 1).values;
}

/** Minimum over `axes` (all by default); NaN propagates. */
export function min(a: Tensor, axes?: Axes, keepdim = false): Tensor {
  return extreme(a, axes, keepdim, 'min', -1).values;
}

/**
 * Maximum over `axes` with, per output element, the position of the first maximal element
 * inside the reduced block (a flat index over the reduced axes in row-major order).
 */
export function maxWithIndex(a: Tensor, axes?: Axes, keepdim = false): { values: Tensor; index: Int32Array } {
  return extreme(a, axes, keepdim, 'max', 1);
}

/** Index of the first maximum along one axis, as an Int32Array over the remaining axes. */
export function argmax(a: Tensor, axis: number): Int32Array {
  return extreme(a, [axis], false, 'argmax', 1).index;
}

/**
 * The adjoint of {@link maxWithIndex}: a tensor of `shape` that is zero except at each
 * block's chosen element, which receives the matching element of `g` (the shape of the
 * reduction's output, with or without keepdim).
 */
export function scatterToIndex(shape: readonly number[], axes: Axes, index: Int32Array, g: Tensor): Tensor {
  const ax = normAxes(axes, shape.length, 'scatterToIndex');
  const outer = index.length;
  if (g.size !== outer) throw new ShapeError(`scatterToIndex: expected ${outer} gradient values, got shape ${fmtShape(g.shape)}`);
  const contiguous = ax.length === 0 || ax[ax.length - 1] - ax[0] === ax.length - 1;
  if (contiguous) {
    const r = ax.length === 0 ? 1 : sizeOf(shape.slice(ax[0], ax[ax.length - 1] + 1));
    const inner = ax.length === 0 ? 1 : sizeOf(shape.slice(ax[ax.length - 1] + 1));
    const out = new Float32Array(sizeOf(shape));
    for (let j = 0; j < outer; j++) {
      const o = Math.floor(j / inner);
      const i = j - o * inner;
      out[o * r * inner + index[j] * inner + i] = g.data[j];
    }
    return new Tensor(out, shape);
  }
  const kept = [...Array(shape.length).keys()].filter((d) => !ax.includes(d));
  const order = [...kept, ...ax];
  const r = sizeOf(ax.map((d) => shape[d]));
  const moved = new Float32Array(sizeOf(shape));
  for (let j = 0; j < outer; j++) moved[j * r + index[j]] = g.data[j];
  const inverse = new Array<number>(order.length);
  order.forEach((d, i) => (inverse[d] = i));
  return permute(new Tensor(moved, order.map((d) => shape[d])), inverse);
}

/**
 * Sums `g` down to `shape`, the shape it was broadcast from (the gradient rule of every
 * broadcasting op). Leading extra axes and axes where `shape` has size 1 are summed.
 */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (g.ndim === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.ndim - shape.length;
  if (lead < 0) throw new ShapeError(`sumTo: cannot sum ${fmtShape(g.shape)} down to the larger rank of ${fmtShape(shape)}`);
  const axes: number[] = [];
  for (let d = 0; d < g.ndim; d++) {
    if (d < lead) axes.push(d);
    else if (shape[d - lead] === 1 && g.shape[d] !== 1) axes.push(d);
    else if (shape[d - lead] !== g.shape[d]) throw new ShapeError(`sumTo: ${fmtShape(g.shape)} was not broadcast from ${fmtShape(shape)}`);
  }
  const s = sum(g, axes, false);
  return new Tensor(s.data, shape);
}
