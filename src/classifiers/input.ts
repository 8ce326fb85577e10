/**
 * Input validation shared by the classifiers: feature matrices, label vectors and options.
 * Everything here throws early with what was expected and what came.
 */
import { OptionError, ShapeError, fmtShape } from '../errors';
import { Tensor } from '../tensor/tensor';

/**
 * A feature matrix: a `Tensor` of shape [N, F], a row-major `Float32Array` with its shape, or plain
 * rows of numbers (`number[][]`, all of one length; copied to float32, as everything here computes
 * in float32).
 */
export type MatrixInput = Tensor | { readonly data: Float32Array; readonly shape: readonly number[] } | ReadonlyArray<ReadonlyArray<number>>;

/** Labels, one per row of X: non-negative integers as an `Int32Array` or a plain `number[]`. */
export type LabelInput = Int32Array | ReadonlyArray<number>;

/** A validated feature matrix: row-major float32 data, N rows of F features. */
export interface Matrix {
  readonly data: Float32Array;
  readonly rows: number;
  readonly cols: number;
}

/**
 * Checks that `X` is a 2-D [N, F] matrix whose data length matches and whose entries are
 * finite (scikit-learn rejects NaN and ±Infinity with a ValueError; here an OptionError
 * names the first offending row and column). A tensor's data is not copied; plain rows are
 * copied to float32.
 */
export function toMatrix(input: MatrixInput, op: string, what = 'X'): Matrix {
  // Array.isArray does not narrow a ReadonlyArray out of a union.
  if (Array.isArray(input)) return fromRows(input as ReadonlyArray<ReadonlyArray<number>>, op, what);
  const X = input as Exclude<MatrixInput, ReadonlyArray<ReadonlyArray<number>>>;
  if (X === null || typeof X !== 'object' || !(X.data instanceof Float32Array) || !Array.isArray(X.shape)) {
    throw new ShapeError(`${op}: expected ${what} as a Tensor [N, F], {data: Float32Array, shape: [N, F]} or number[][], got ${describe(X)}`);
  }
  const shape = X.shape;
  if (shape.length !== 2 || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ShapeError(`${op}: expected ${what} of shape [N, F], got ${fmtShape(shape)}`);
  }
  const [rows, cols] = shape;
  if (X.data.length !== rows * cols) {
    throw new ShapeError(`${op}: ${what} of shape ${fmtShape(shape)} needs ${rows * cols} values, its data has ${X.data.length}`);
  }
  const d = X.data;
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    // v − v is 0 for finite v and NaN for NaN and ±Infinity.
    if (v - v !== 0) {
      const r = Math.floor(i / cols);
      throw new OptionError(`${op}: ${what} must be finite, got ${v} at row ${r}, column ${i - r * cols}`);
    }
  }
  return { data: d, rows, cols };
}

/**
 * Copies plain rows into a float32 matrix. Every row must be an array of the first row's length
 * (ragged rows are refused, never padded or cut) holding numbers; non-finite values are refused
 * by the caller's check.
 */
function fromRows(X: ReadonlyArray<ReadonlyArray<number>>, op: string, what: string): Matrix {
  const rows = X.length;
  const first = X[0];
  if (rows > 0 && !Array.isArray(first)) throw new ShapeError(`${op}: expected ${what} as rows of numbers (number[][]), got ${describe(first)} as row 0`);
  const cols = rows === 0 ? 0 : first.length;
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const row = X[r];
    if (!Array.isArray(row) || row.length !== cols) {
      throw new ShapeError(`${op}: ${what} rows must all have ${cols} values (the length of row 0), row ${r} is ${Array.isArray(row) ? `of length ${row.length}` : describe(row)}`);
    }
    for (let c = 0; c < cols; c++) {
      const v = row[c];
      if (typeof v !== 'number' || v - v !== 0) throw new OptionError(`${op}: ${what} must hold finite numbers, got ${typeof v === 'number' ? v : describe(v)} at row ${r}, column ${c}`);
      data[r * cols + c] = v;
    }
  }
  return { data, rows, cols };
}

/**
 * Labels as an Int32Array: an Int32Array as it is, a `number[]` checked (integers in the int32
 * range) and copied.
 */
export function toLabels(y: LabelInput, op: string): Int32Array {
  if (y instanceof Int32Array) return y;
  if (!Array.isArray(y)) throw new OptionError(`${op}: expected y as an Int32Array or number[] of labels, got ${describe(y)}`);
  const out = new Int32Array(y.length);
  for (let i = 0; i < y.length; i++) {
    const v: unknown = y[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
      throw new OptionError(`${op}: labels must be integers, got ${typeof v === 'number' ? v : describe(v)} at index ${i}`);
    }
    out[i] = v;
  }
  return out;
}

/** Checks that training data has at least one row and one feature (scikit-learn rejects both empties). */
export function checkTrainable(m: Matrix, op: string): void {
  if (m.rows < 1 || m.cols < 1) {
    throw new ShapeError(`${op}: expected at least one sample and one feature, got X of shape [${m.rows}, ${m.cols}]`);
  }
}

/** Checks that a fitted model's feature count matches `X`. */
export function checkCols(m: Matrix, expected: number, op: string, what = 'X'): void {
  if (m.cols !== expected) {
    throw new ShapeError(`${op}: the model was fitted on ${expected} features, ${what} has ${m.cols} (shape [${m.rows}, ${m.cols}])`);
  }
}

/** Labels encoded as indices into the sorted distinct labels `classes` (scikit-learn's `classes_`). */
export interface EncodedLabels {
  readonly classes: Int32Array;
  /** `index[i]` is the position of `y[i]` in `classes`. */
  readonly index: Int32Array;
}

/** Checks `y` (N non-negative integer labels) and encodes it; `minClasses` distinct labels are required. */
export function encodeLabels(labels: LabelInput, n: number, op: string, minClasses = 1): EncodedLabels {
  const y = toLabels(labels, op);
  if (y.length !== n) {
    throw new ShapeError(`${op}: X has ${n} rows but y has ${y.length} labels`);
  }
  let max = -1;
  for (let i = 0; i < n; i++) {
    const v = y[i];
    if (v < 0) throw new OptionError(`${op}: labels must be non-negative integers, got ${v} at index ${i}`);
    if (v > max) max = v;
  }
  // Labels are dense small integers in practice; a typed lookup table is used when it is small.
  let classes: Int32Array;
  const index = new Int32Array(n);
  if (max < 4 * n + 1024) {
    const seen = new Int32Array(max + 1).fill(-1);
    for (let i = 0; i < n; i++) seen[y[i]] = 0;
    let k = 0;
    for (let v = 0; v <= max; v++) if (seen[v] === 0) seen[v] = k++;
    classes = new Int32Array(k);
    for (let v = 0; v <= max; v++) if (seen[v] >= 0) classes[seen[v]] = v;
    for (let i = 0; i < n; i++) index[i] = seen[y[i]];
  } else {
    classes = Int32Array.from(new Set(y)).sort();
    const pos = new Map<number, number>();
    classes.forEach((c, i) => pos.set(c, i));
    for (let i = 0; i < n; i++) index[i] = pos.get(y[i])!;
  }
  if (classes.length < minClasses) {
    throw new OptionError(
      `${op}: needs samples of at least ${minClasses} classes, got ${classes.length} (labels: [${Array.from(classes).join(', ')}])`,
    );
  }
  return { classes, index };
}

/** Checks that labels passed to `score` are N integers; returns them as an Int32Array. */
export function checkLabelVector(labels: LabelInput, n: number, op: string): Int32Array {
  const y = toLabels(labels, op);
  if (y.length !== n) throw new ShapeError(`${op}: X has ${n} rows but y has ${y.length} labels`);
  return y;
}

/** Throws an OptionError unless `v` is a finite number > 0 (or ≥ 0 when `allowZero`). */
export function positive(v: number, name: string, op: string, allowZero = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    throw new OptionError(`${op}: ${name} must be a finite number ${allowZero ? '≥ 0' : '> 0'}, got ${String(v)}`);
  }
  return v;
}

/** Throws an OptionError unless `v` is an integer ≥ `min`. */
export function integer(v: number, name: string, op: string, min: number): number {
  if (!Number.isInteger(v) || v < min) throw new OptionError(`${op}: ${name} must be an integer ≥ ${min}, got ${String(v)}`);
  return v;
}

/** Throws a ShapeError naming `op` when the model has not been fitted yet. */
export function notFitted(op: string): never {
  throw new ShapeError(`${op}: the model is not fitted yet; call fit(X, y) first`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an Array of length ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  if (typeof v === 'object') return `an object with keys {${Object.keys(v as object).join(', ')}}`;
  return typeof v;
}
