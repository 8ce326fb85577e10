/**
 * Elementwise kernels: binary ops with NumPy broadcasting, unary maps, comparisons and
 * `where`. No autograd here; every kernel returns a new tensor unless its name ends in
 * `InPlace`.
 */
import { ShapeError, fmtShape } from '../errors';
import { type Shape, broadcastShapes, shapesEqual, sizeOf, stridesOf } from './shape';
import { Tensor } from './tensor';

/**
 * One row of a binary op: out[o + i] = f(a[ia + i·sa], b[ib + i·sb]) for i < n.
 * Strides are 0 (broadcast) or 1.
 */
type BinaryRow = (out: Float32Array, o: number, a: Float32Array, ia: number, sa: number, b: Float32Array, ib: number, sb: number, n: number) => void;

/**
 * The strides of `shape` seen from a broadcast result of rank `ndim`: 0 where the
 * dimension is broadcast (size 1 or missing).
 */
function broadcastStrides(shape: Shape, out: Shape): number[] {
  const own = stridesOf(shape);
  const lead = out.length - shape.length;
  const s = new Array<number>(out.length).fill(0);
  for (let i = 0; i < shape.length; i++) s[lead + i] = shape[i] === 1 ? 0 : own[i];
  return s;
}

/**
 * Collapses adjacent dimensions that are contiguous for every operand, so a broadcast
 * op runs as few, long inner rows.
 */
function collapse(dims: number[], strides: number[][]): { dims: number[]; strides: number[][] } {
  const outDims: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let i = 0; i < dims.length; i++) {
    if (dims[i] === 1) continue;
    const k = outDims.length - 1;
    const mergeable = k >= 0 && strides.every((s, j) => outStrides[j][k] === s[i] * dims[i]);
    if (mergeable) {
      outDims[k] *= dims[i];
      for (let j = 0; j < strides.length; j++) outStrides[j][k] = strides[j][i];
    } else {
      outDims.push(dims[i]);
      for (let j = 0; j < strides.length; j++) outStrides[j].push(strides[j][i]);
    }
  }
  if (outDims.length === 0) {
    outDims.push(1);
    for (const s of outStrides) s.push(0);
  }
  return { dims: outDims, strides: outStrides };
}

function binary(a: Tensor, b: Tensor, op: string, row: BinaryRow): Tensor {
  const outShape = shapesEqual(a.shape, b.shape) ? a.shape.slice() : broadcastShapes(a.shape, b.shape, op);
  const n = sizeOf(outShape);
  const out = new Float32Array(n);
  if (n === 0) return new Tensor(out, outShape);
  const { dims, strides } = collapse(outShape, [broadcastStrides(a.shape, outShape), broadcastStrides(b.shape, outShape)]);
  const nd = dims.length;
  const inner = dims[nd - 1];
  const sa = strides[0][nd - 1];
  const sb = strides[1][nd - 1];
  const ad = a.data;
  const bd = b.data;
  if (nd === 1) {
    row(out, 0, ad, 0, sa, bd, 0, sb, inner);
    return new Tensor(out, outShape);
  }
  // Odometer over the outer dimensions.
  const idx = new Array<number>(nd - 1).fill(0);
  let ia = 0;
  let ib = 0;
  for (let o = 0; o < n; o += inner) {
    row(out, o, ad, ia, sa, bd, ib, sb, inner);
    for (let d = nd - 2; d >= 0; d--) {
      ia += strides[0][d];
      ib += strides[1][d];
      if (++idx[d] < dims[d]) break;
      ia -= strides[0][d] * dims[d];
      ib -= strides[1][d] * dims[d];
      idx[d] = 0;
    }
  }
  return new Tensor(out, outShape);
}

const addRow: BinaryRow = (out, o, a, ia, sa, b, ib, sb, n) => {
  for (let i = 0; i < n; i++) out[o + i] = a[ia + i * sa] + b[ib + i * sb];
};
const subRow: BinaryRow = (out, o, a, ia, sa, b, ib, sb, n) => {
  for (let i = 0; i < n; i++) out[o + i] = a[ia + i * sa] - b[ib + i * sb];
};
const mulRow: BinaryRow = (out, o, a, ia, sa, b, ib, sb, n) => {
  for (let i = 0; i < n; i++) out[o + i] = a[ia + i * sa] * b[ib + i * sb];
};
const divRow: BinaryRow = (out, o, a, ia, sa, b, ib, sb, n) => {
  for (let i = 0; i < n; i++) out[o + i] = a[ia + i * sa] / b[ib + i * sb];
};
const maximumRow: BinaryRow = (out, o, a, ia, sa, b, ib, sb, n) => {
  for (let i = 0; i < n; i++) {
    const x = a[ia + i * sa];
    const y = b[ib + i * sb];
    out[o + i] = x >= y || x !== x ? x : y;
  }
};
const minimumRow: BinaryRow = (out, o, a, ia, sa, b, ib, sb, n) => {
  for (let i = 0; i < n; i++) {
    const x = a[ia + i * sa];
    const y = b[ib + i * sb];
    out[o + i] = x <= y || x !== x ? x : y;
  }
};
const gtRow: BinaryRow = (out, o, a, ia, sa, b, ib, sb, n) => {
  for (let i = 0; i < n; i++) out[o + i] = +(a[ia + i * sa] > b[ib + i * sb]);
};
const geRow: BinaryRow = (out, o, a, ia, sa, b, ib, sb, n) => {
  for (let i = 0; i < n; i++) out[o + i] = +(a[ia + i * sa] >= b[ib + i * sb]);
};
const eqRow: BinaryRow = (out, o, a, ia, sa, b, ib, sb, n) => {
  for (let i = 0; i < n; i++) out[o + i] = +(a[ia + i * sa] === b[ib + i * sb]);
};

/** a + b, broadcasting. */
export const add = (a: Tensor, b: Tensor): Tensor => binary(a, b, 'add', addRow);
/** a − b, broadcasting. */
export const sub = (a: Tensor, b: Tensor): Tensor => binary(a, b, 'sub', subRow);
/** a · b, broadcasting. */
export const mul = (a: Tensor, b: Tensor): Tensor => binary(a, b, 'mul', mulRow);
/** a / b, broadcasting. */
export const div = (a: Tensor, b: Tensor): Tensor => binary(a, b, 'div', divRow);
/** Elementwise maximum, broadcasting; NaN propagates. */
export const maximum = (a: Tensor, b: Tensor): Tensor => binary(a, b, 'maximum', maximumRow);
/** Elementwise minimum, broadcasting; NaN propagates. */
export const minimum = (a: Tensor, b: Tensor): Tensor => binary(a, b, 'minimum', minimumRow);
/** 1 where a > b else 0, broadcasting; the result is marked binary. */
export const gt = (a: Tensor, b: Tensor): Tensor => markBinary(binary(a, b, 'gt', gtRow));
/** 1 where a ≥ b else 0, broadcasting; the result is marked binary. */
export const ge = (a: Tensor, b: Tensor): Tensor => markBinary(binary(a, b, 'ge', geRow));
/** 1 where a = b else 0, broadcasting; the result is marked binary. */
export const eq = (a: Tensor, b: Tensor): Tensor => markBinary(binary(a, b, 'eq', eqRow));

function markBinary(t: Tensor): Tensor {
  t.binary = true;
  return t;
}

/** Elementwise choice: `cond ≠ 0 ? a : b`, all three broadcast together. */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  const outShape = broadcastShapes(broadcastShapes(cond.shape, a.shape, 'where'), b.shape, 'where');
  const n = sizeOf(outShape);
  const out = new Float32Array(n);
  const sc = broadcastStrides(cond.shape, outShape);
  const sa = broadcastStrides(a.shape, outShape);
  const sb = broadcastStrides(b.shape, outShape);
  const nd = outShape.length;
  const idx = new Array<number>(nd).fill(0);
  let ic = 0;
  let ia = 0;
  let ib = 0;
  for (let o = 0; o < n; o++) {
    out[o] = cond.data[ic] !== 0 ? a.data[ia] : b.data[ib];
    for (let d = nd - 1; d >= 0; d--) {
      ic += sc[d];
      ia += sa[d];
      ib += sb[d];
      if (++idx[d] < outShape[d]) break;
      ic -= sc[d] * outShape[d];
      ia -= sa[d] * outShape[d];
      ib -= sb[d] * outShape[d];
      idx[d] = 0;
    }
  }
  return new Tensor(out, outShape);
}

// ---------------------------------------------------------------- unary maps

function unaryOut(a: Tensor): Float32Array {
  return new Float32Array(a.size);
}

export function neg(a: Tensor): Tensor {
  const x = a.data;
  const y = unaryOut(a);
  for (let i = 0; i < x.length; i++) y[i] = -x[i];
  return new Tensor(y, a.shape);
}

export function exp(a: Tensor): Tensor {
  const x = a.data;
  const y = unaryOut(a);
  for (let i = 0; i < x.length; i++) y[i] = Math.exp(x[i]);
  return new Tensor(y, a.shape);
}

export function log(a: Tensor): Tensor {
  const x = a.data;
  const y = unaryOut(a);
  for (let i = 0; i < x.length; i++) y[i] = Math.log(x[i]);
  return new Tensor(y, a.shape);
}

export function sqrt(a: Tensor): Tensor {
  const x = a.data;
  const y = unaryOut(a);
  for (let i = 0; i < x.length; i++) y[i] = Math.sqrt(x[i]);
  return new Tensor(y, a.shape);
}

export function abs(a: Tensor): Tensor {
  const x = a.data;
  const y = unaryOut(a);
  for (let i = 0; i < x.length; i++) y[i] = Math.abs(x[i]);
  return new Tensor(y, a.shape);
}

/** sign(x) ∈ {−1, 0, 1} (NaN stays NaN). */
export function sign(a: Tensor): Tensor {
  const x = a.data;
  const y = unaryOut(a);
  for (let i = 0; i < x.length; i++) y[i] = Math.sign(x[i]);
  return new Tensor(y, a.shape);
}

export function relu(a: Tensor): Tensor {
  const x = a.data;
  const y = unaryOut(a);
  for (let i = 0; i < x.length; i++) y[i] = x[i] > 0 ? x[i] : 0;
  return new Tensor(y, a.shape);
}

/** σ(x) = 1/(1+e^(−x)), evaluated without overflow for any x. */
export function sigmoid(a: Tensor): Tensor {
  const x = a.data;
  const y = unaryOut(a);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v >= 0) y[i] = 1 / (1 + Math.exp(-v));
    else {
      const e = Math.exp(v);
      y[i] = e / (1 + e);
    }
  }
  return new Tensor(y, a.shape);
}

export function tanh(a: Tensor): Tensor {
  const x = a.data;
  const y = unaryOut(a);
  for (let i = 0; i < x.length; i++) y[i] = Math.tanh(x[i]);
  return new Tensor(y, a.shape);
}

/** min(max(x, lo), hi); either bound may be omitted (±∞). */
export function clamp(a: Tensor, lo = -Infinity, hi = Infinity): Tensor {
  if (lo > hi) throw new ShapeError(`clamp: lower bound ${lo} is above upper bound ${hi}`);
  const x = a.data;
  const y = unaryOut(a);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    y[i] = v < lo ? lo : v > hi ? hi : v;
  }
  return new Tensor(y, a.shape);
}

/** x^p for a scalar exponent p. */
export function powScalar(a: Tensor, p: number): Tensor {
  const x = a.data;
  const y = unaryOut(a);
  if (p === 2) for (let i = 0; i < x.length; i++) y[i] = x[i] * x[i];
  else if (p === 1) y.set(x);
  else if (p === 0.5) for (let i = 0; i < x.length; i++) y[i] = Math.sqrt(x[i]);
  else for (let i = 0; i < x.length; i++) y[i] = Math.pow(x[i], p);
  return new Tensor(y, a.shape);
}

/** s · x. */
export function scale(a: Tensor, s: number): Tensor {
  const x = a.data;
  const y = unaryOut(a);
  for (let i = 0; i < x.length; i++) y[i] = s * x[i];
  return new Tensor(y, a.shape);
}

/** x + c for a scalar c. */
export function addScalar(a: Tensor, c: number): Tensor {
  const x = a.data;
  const y = unaryOut(a);
  for (let i = 0; i < x.length; i++) y[i] = x[i] + c;
  return new Tensor(y, a.shape);
}

// ---------------------------------------------------------------- in place

function checkSame(a: Tensor, b: Tensor, op: string): void {
  if (!shapesEqual(a.shape, b.shape)) throw new ShapeError(`${op}: expected equal shapes, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
}

/** a += b (same shape). Returns a. */
export function addInPlace(a: Tensor, b: Tensor): Tensor {
  checkSame(a, b, 'addInPlace');
  const x = a.data;
  const y = b.data;
  for (let i = 0; i < x.length; i++) x[i] += y[i];
  return a;
}

/** a += s · b (same shape). Returns a. */
export function axpyInPlace(a: Tensor, s: number, b: Tensor): Tensor {
  checkSame(a, b, 'axpyInPlace');
  const x = a.data;
  const y = b.data;
  for (let i = 0; i < x.length; i++) x[i] += s * y[i];
  return a;
}
