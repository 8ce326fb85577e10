/** Layout kernels: reshape, permute, concat, slice, index select, gather, broadcast, sumTo. */
import { ShapeError, fmtShape } from '../errors';
import { type Shape, broadcastShapes, normAxis, shapesEqual, sizeOf, stridesOf } from './shape';
import { Tensor } from './tensor';

/**
 * The same data seen with another shape (no copy). One dimension may be −1 and is then
 * inferred; the element counts must agree.
 */
export function reshape(a: Tensor, shape: Shape): Tensor {
  return new Tensor(a.data, resolveShape(a.shape, shape), { binary: a.binary });
}

/** Resolves a target shape with at most one −1 against a source shape. */
export function resolveShape(from: Shape, shape: Shape): number[] {
  const n = sizeOf(from);
  let infer = -1;
  let known = 1;
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (d === -1) {
      if (infer >= 0) throw new ShapeError(`reshape: only one dimension may be -1, got ${fmtShape(shape)}`);
      infer = i;
    } else if (!Number.isInteger(d) || d < 0) {
      throw new ShapeError(`reshape: dimensions must be non-negative integers or -1, got ${fmtShape(shape)}`);
    } else known *= d;
  }
  const out = shape.slice();
  if (infer >= 0) {
    if (known === 0 || n % known !== 0) {
      throw new ShapeError(`reshape: cannot infer -1 in ${fmtShape(shape)} from ${n} elements of ${fmtShape(from)}`);
    }
    out[infer] = n / known;
  } else if (known !== n) {
    throw new ShapeError(`reshape: cannot reshape ${fmtShape(from)} (${n} elements) to ${fmtShape(shape)} (${known} elements)`);
  }
  return out;
}

/** Reorders the axes: output axis i is input axis `order[i]`. Copies the data. */
export function permute(a: Tensor, order: readonly number[]): Tensor {
  const nd = a.ndim;
  if (order.length !== nd) throw new ShapeError(`permute: order [${order.join(', ')}] does not list the ${nd} axes of ${fmtShape(a.shape)}`);
  const ord = order.map((d) => normAxis(d, nd, 'permute'));
  if (new Set(ord).size !== nd) throw new ShapeError(`permute: order [${order.join(', ')}] repeats an axis`);
  const outShape = ord.map((d) => a.shape[d]);
  const n = a.size;
  const out = new Float32Array(n);
  if (ord.every((d, i) => d === i)) {
    out.set(a.data);
    return new Tensor(out, outShape, { binary: a.binary });
  }
  const inStrides = stridesOf(a.shape);
  const src = a.data;
  if (nd === 2) {
    transposeInto(src, a.shape[0], a.shape[1], out);
    return new Tensor(out, outShape, { binary: a.binary });
  }
  const s = ord.map((d) => inStrides[d]);
  const inner = outShape[nd - 1];
  const si = s[nd - 1];
  const idx = new Array<number>(nd).fill(0);
  let ia = 0;
  for (let o = 0; o < n; o += inner) {
    for (let i = 0; i < inner; i++) out[o + i] = src[ia + i * si];
    for (let d = nd - 2; d >= 0; d--) {
      ia += s[d];
      if (++idx[d] < outShape[d]) break;
      ia -= s[d] * outShape[d];
      idx[d] = 0;
    }
  }
  return new Tensor(out, outShape, { binary: a.binary });
}

/** Cache-blocked transpose of a row-major rows×cols matrix into `out` (cols×rows). */
export function transposeInto(src: Float32Array, rows: number, cols: number, out: Float32Array): void {
  const B = 32;
  for (let i0 = 0; i0 < rows; i0 += B) {
    const i1 = Math.min(rows, i0 + B);
    for (let j0 = 0; j0 < cols; j0 += B) {
      const j1 = Math.min(cols, j0 + B);
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) out[j * rows + i] = src[i * cols + j];
    }
  }
}

/** Swaps two axes (default: the last two). */
export function transpose(a: Tensor, dim0 = -2, dim1 = -1): Tensor {
  const nd = a.ndim;
  const d0 = normAxis(dim0, nd, 'transpose');
  const d1 = normAxis(dim1, nd, 'transpose');
  const order = [...Array(nd).keys()];
  order[d0] = d1;
  order[d1] = d0;
  return permute(a, order);
}

/** Joins tensors along `axis`; all other dimensions must agree. */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new ShapeError('concat: expected at least one tensor, got none');
  const first = tensors[0].shape;
  const ax = normAxis(axis, first.length, 'concat');
  let total = 0;
  for (const t of tensors) {
    if (t.ndim !== first.length || t.shape.some((d, i) => i !== ax && d !== first[i])) {
      throw new ShapeError(`concat: shapes ${fmtShape(first)} and ${fmtShape(t.shape)} differ outside axis ${ax}`);
    }
    total += t.shape[ax];
  }
  const outShape = first.slice();
  outShape[ax] = total;
  const outer = sizeOf(first.slice(0, ax));
  const inner = sizeOf(first.slice(ax + 1));
  const out = new Float32Array(sizeOf(outShape));
  const rowOut = total * inner;
  let off = 0;
  for (const t of tensors) {
    const rowIn = t.shape[ax] * inner;
    for (let o = 0; o < outer; o++) out.set(t.data.subarray(o * rowIn, (o + 1) * rowIn), o * rowOut + off);
    off += rowIn;
  }
  return new Tensor(out, outShape, { binary: tensors.every((t) => t.binary) });
}

/** A per-axis range `[start, end)`; negative values count from the end; null keeps the whole axis. */
/** [start, end?, step?] on one axis (negative start/end count from the end; step ≥ 1), or null/undefined for the whole axis. */
export type SliceRange = readonly [number, number?, number?] | null | undefined;

/**
 * Where a slice starts in `shape`'s flat data (`base`), its shape, and per axis the distance in
 * that data between consecutive selected elements (the axis stride times its step).
 */
function slicePlan(shape: Shape, ranges: readonly SliceRange[], op: string): { base: number; outShape: number[]; hops: number[] } {
  const nd = shape.length;
  if (ranges.length > nd) throw new ShapeError(`${op}: ${ranges.length} ranges for a tensor of shape ${fmtShape(shape)}`);
  const st = stridesOf(shape);
  const outShape = new Array<number>(nd);
  const hops = new Array<number>(nd);
  let base = 0;
  for (let d = 0; d < nd; d++) {
    const dim = shape[d];
    const r = ranges[d];
    if (r === null || r === undefined) {
      outShape[d] = dim;
      hops[d] = st[d];
      continue;
    }
    let s = r[0];
    let e = r[1] ?? dim;
    const step = r[2] ?? 1;
    if (!Number.isInteger(s) || !Number.isInteger(e)) throw new ShapeError(`${op}: range [${r.join(', ')}] on axis ${d} is not integer`);
    if (!Number.isInteger(step) || step < 1) throw new ShapeError(`${op}: step ${step} on axis ${d} must be an integer ≥ 1`);
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    if (s < 0 || e > dim || s > e) {
      throw new ShapeError(`${op}: range [${r.join(', ')}] is outside axis ${d} of size ${dim} (shape ${fmtShape(shape)})`);
    }
    base += s * st[d];
    // Elements s, s + step, … below e: ⌈(e − s)/step⌉ of them.
    outShape[d] = Math.ceil((e - s) / step);
    hops[d] = st[d] * step;
  }
  return { base, outShape, hops };
}

/**
 * Visits the slice's rows: calls `row(o, ia)` for each run of `inner` output elements starting
 * at output offset o and input offset ia (consecutive input elements `hop` apart).
 */
function walkSlice(outShape: readonly number[], hops: readonly number[], base: number, row: (o: number, ia: number) => void): void {
  const nd = outShape.length;
  const n = sizeOf(outShape);
  const inner = outShape[nd - 1];
  const idx = new Array<number>(nd).fill(0);
  let ia = base;
  for (let o = 0; o < n; o += inner) {
    row(o, ia);
    for (let d = nd - 2; d >= 0; d--) {
      ia += hops[d];
      if (++idx[d] < outShape[d]) break;
      ia -= hops[d] * outShape[d];
      idx[d] = 0;
    }
  }
}

/**
 * Copies the sub-tensor selected by one range per leading axis (missing trailing ranges
 * keep their axes whole), as `a[s:e:step]` in NumPy and PyTorch with a positive step. Ranges
 * must lie inside the tensor: nothing is clamped.
 */
export function slice(a: Tensor, ranges: readonly SliceRange[]): Tensor {
  const { base, outShape, hops } = slicePlan(a.shape, ranges, 'slice');
  const nd = a.ndim;
  const n = sizeOf(outShape);
  const out = new Float32Array(n);
  if (n === 0) return new Tensor(out, outShape, { binary: a.binary });
  if (nd === 0) {
    out[0] = a.data[0];
    return new Tensor(out, outShape, { binary: a.binary });
  }
  const src = a.data;
  const inner = outShape[nd - 1];
  const hop = hops[nd - 1];
  if (hop === 1) walkSlice(outShape, hops, base, (o, ia) => out.set(src.subarray(ia, ia + inner), o));
  else walkSlice(outShape, hops, base, (o, ia) => {
    for (let k = 0; k < inner; k++) out[o + k] = src[ia + k * hop];
  });
  return new Tensor(out, outShape, { binary: a.binary });
}

/**
 * The adjoint of {@link slice}: a zero tensor of `shape` with `g` written at the slice's
 * position (used by slice's backward rule).
 */
export function unslice(shape: Shape, ranges: readonly SliceRange[], g: Tensor): Tensor {
  const { base, outShape, hops } = slicePlan(shape, ranges, 'unslice');
  const nd = shape.length;
  const out = new Float32Array(sizeOf(shape));
  if (g.size === 0) return new Tensor(out, shape);
  if (nd === 0) {
    out[0] = g.data[0];
    return new Tensor(out, shape);
  }
  const gd = g.data;
  const inner = outShape[nd - 1];
  const hop = hops[nd - 1];
  if (hop === 1) walkSlice(outShape, hops, base, (o, ia) => out.set(gd.subarray(o, o + inner), ia));
  else walkSlice(outShape, hops, base, (o, ia) => {
    for (let k = 0; k < inner; k++) out[ia + k * hop] = gd[o + k];
  });
  return new Tensor(out, shape);
}

function checkIndex(i: number, dim: number, op: string): number {
  if (!Number.isInteger(i) || i < -dim || i >= dim) throw new ShapeError(`${op}: index ${i} is out of range for a dimension of size ${dim}`);
  return i < 0 ? i + dim : i;
}

/** Picks the entries `indices` along `axis` (torch.index_select); negative indices count from the end. */
export function indexSelect(a: Tensor, axis: number, indices: ArrayLike<number>): Tensor {
  const ax = normAxis(axis, a.ndim, 'indexSelect');
  const dim = a.shape[ax];
  const outer = sizeOf(a.shape.slice(0, ax));
  const inner = sizeOf(a.shape.slice(ax + 1));
  const m = indices.length;
  const idx = new Int32Array(m);
  for (let j = 0; j < m; j++) idx[j] = checkIndex(indices[j], dim, 'indexSelect');
  const outShape = a.shape.slice();
  outShape[ax] = m;
  const out = new Float32Array(outer * m * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      const src = (o * dim + idx[j]) * inner;
      out.set(a.data.subarray(src, src + inner), (o * m + j) * inner);
    }
  }
  return new Tensor(out, outShape, { binary: a.binary });
}

/**
 * torch.gather: out[i…, j, k…] = a[i…, index[i…, j, k…], k…] along `axis`. `index` has
 * the same rank as `a` and, outside `axis`, the same sizes.
 */
export function gather(a: Tensor, axis: number, index: Int32Array, indexShape: Shape): Tensor {
  const ax = normAxis(axis, a.ndim, 'gather');
  if (indexShape.length !== a.ndim || indexShape.some((d, i) => i !== ax && d !== a.shape[i])) {
    throw new ShapeError(`gather: index shape ${fmtShape(indexShape)} must match ${fmtShape(a.shape)} outside axis ${ax}`);
  }
  if (index.length !== sizeOf(indexShape)) throw new ShapeError(`gather: index has ${index.length} entries for shape ${fmtShape(indexShape)}`);
  const dim = a.shape[ax];
  const m = indexShape[ax];
  const outer = sizeOf(a.shape.slice(0, ax));
  const inner = sizeOf(a.shape.slice(ax + 1));
  const out = new Float32Array(index.length);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < m; j++) {
      for (let i = 0; i < inner; i++) {
        const p = (o * m + j) * inner + i;
        out[p] = a.data[(o * dim + checkIndex(index[p], dim, 'gather')) * inner + i];
      }
    }
  }
  return new Tensor(out, indexShape);
}

/** Copies `a` broadcast to `shape` (NumPy rules; the shape must be what `a` broadcasts to). */
export function broadcastTo(a: Tensor, shape: Shape): Tensor {
  const target = broadcastShapes(a.shape, shape, 'broadcastTo');
  if (!shapesEqual(target, shape)) throw new ShapeError(`broadcastTo: ${fmtShape(a.shape)} cannot be broadcast to ${fmtShape(shape)}`);
  const n = sizeOf(shape);
  const out = new Float32Array(n);
  const nd = shape.length;
  const own = stridesOf(a.shape);
  const lead = nd - a.ndim;
  const s = new Array<number>(nd).fill(0);
  for (let i = 0; i < a.ndim; i++) s[lead + i] = a.shape[i] === 1 ? 0 : own[i];
  // Trailing axes that a holds in full are copied as one contiguous block per position of
  // the outer axes; failing that, trailing axes a broadcasts are filled with one value.
  let outer = nd;
  let block = 1;
  while (outer > lead && a.shape[outer - 1 - lead] === shape[outer - 1]) block *= shape[--outer];
  let fill = 1;
  if (block === 1) while (outer > 0 && (outer - 1 < lead || a.shape[outer - 1 - lead] === 1)) fill *= shape[--outer];
  const step = block * fill;
  if (step === 0) return new Tensor(out, shape, { binary: a.binary });
  const idx = new Array<number>(outer).fill(0);
  let ia = 0;
  for (let o = 0; o < n; o += step) {
    if (fill > 1) out.fill(a.data[ia], o, o + fill);
    else out.set(a.data.subarray(ia, ia + block), o);
    for (let d = outer - 1; d >= 0; d--) {
      ia += s[d];
      if (++idx[d] < shape[d]) break;
      ia -= s[d] * shape[d];
      idx[d] = 0;
    }
  }
  return new Tensor(out, shape, { binary: a.binary });
}
