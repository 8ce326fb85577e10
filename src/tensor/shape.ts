/** Shape arithmetic: validation, sizes, strides, broadcasting, axis normalisation. */
import { ShapeError, fmtShape } from '../errors';

export type Shape = readonly number[];

/** Throws a ShapeError unless every dimension is a non-negative integer. */
export function checkShape(shape: Shape, op: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ShapeError(`${op}: dimensions must be non-negative integers, got ${fmtShape(shape)}`);
    }
  }
}

/** The most elements one tensor may hold: 2^32, the longest Float32Array V8 (Node.js, Chromium) allows. */
export const MAX_ELEMENTS = 2 ** 32;

/**
 * The element count of `shape`, after checking it: a ShapeError naming `op` unless every
 * dimension is a non-negative integer and the count is at most {@link MAX_ELEMENTS}.
 */
export function checkSize(shape: Shape, op: string): number {
  checkShape(shape, op);
  const n = sizeOf(shape); // a double: past 2^53 inexact, past 1.8e308 Infinity, either way > MAX_ELEMENTS
  if (n > MAX_ELEMENTS) throw new ShapeError(`${op}: shape ${fmtShape(shape)} holds ${n} elements, more than the ${MAX_ELEMENTS} (2^32) a tensor can hold`);
  return n;
}

/**
 * A zeroed Float32Array of `shape`'s element count. A ShapeError naming `op` (not a RangeError)
 * when the shape is invalid, holds more than {@link MAX_ELEMENTS}, or memory runs out.
 */
export function allocate(shape: Shape, op: string): Float32Array {
  const n = checkSize(shape, op);
  try {
    return new Float32Array(n);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new ShapeError(`${op}: cannot allocate shape ${fmtShape(shape)} (${n} float32 values, ${((4 * n) / 2 ** 30).toFixed(1)} GiB): out of memory`);
  }
}

/** Number of elements of a shape (1 for a scalar `[]`). */
export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a contiguous tensor of this shape. */
export function stridesOf(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** NumPy broadcasting of two shapes; a ShapeError naming `op` and both shapes when they do not broadcast. */
export function broadcastShapes(a: Shape, b: Shape, op: string): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = i < n - a.length ? 1 : a[i - (n - a.length)];
    const db = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (da === db || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else throw new ShapeError(`${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} do not broadcast (dimension ${i} of the result: ${da} vs ${db})`);
  }
  return out;
}

/** Maps a possibly negative axis into [0, ndim); a ShapeError if it is out of range. */
export function normAxis(axis: number, ndim: number, op: string): number {
  if (!Number.isInteger(axis) || axis < -ndim || axis >= ndim) {
    throw new ShapeError(`${op}: axis ${axis} is out of range for a tensor of ${ndim} dimension${ndim === 1 ? '' : 's'}`);
  }
  return axis < 0 ? axis + ndim : axis;
}

/**
 * Normalises an axis list (undefined = all axes) into sorted unique non-negative axes.
 * Duplicates are an error, as in PyTorch.
 */
export function normAxes(axes: number | readonly number[] | undefined, ndim: number, op: string): number[] {
  if (axes === undefined) return Array.from({ length: ndim }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  const out = list.map((a) => normAxis(a, ndim, op));
  out.sort((x, y) => x - y);
  for (let i = 1; i < out.length; i++) {
    if (out[i] === out[i - 1]) throw new ShapeError(`${op}: axis ${out[i]} appears twice in [${list.join(', ')}]`);
  }
  return out;
}
