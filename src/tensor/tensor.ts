/** The `Tensor`: a contiguous row-major Float32Array and its shape, plus the fields autograd fills in. */
import { ShapeError, fmtShape } from '../errors';
import type { Rng } from '../rng';
import { type Shape, allocate, checkShape, sizeOf } from './shape';

/**
 * The autograd node that produced a tensor. Declared here so a tensor can point at it;
 * `src/autograd` implements it.
 */
export interface GradNode {
  /** The op's name, for error messages and debugging. */
  readonly name: string;
}

/** Nested arrays of numbers, as accepted by {@link tensor}. */
export type NestedArray = number | readonly NestedArray[];

/** Options every creation function accepts. */
export interface TensorOptions {
  /** Track gradients for this tensor (a leaf of the graph). Default false. */
  requiresGrad?: boolean;
}

/**
 * A dense tensor: a contiguous row-major `Float32Array` and its shape.
 *
 * The data buffer belongs to the tensor; ops never write into their inputs, except the
 * explicitly named in-place kernels. `binary` marks tensors whose every element is 0 or 1
 * (spike trains), so kernels may take an event-driven path.
 */
export class Tensor {
  readonly data: Float32Array;
  readonly shape: Shape;
  /** True when every element is known to be 0 or 1 (set by encoders and spiking layers). */
  binary: boolean;
  /** Whether gradients flow to this tensor. Leaves set it; op outputs inherit it from their inputs. */
  requiresGrad: boolean;
  /** The accumulated gradient of a leaf after `backward()`, else null. */
  grad: Tensor | null = null;
  /** The node that produced this tensor, or null for a leaf. */
  gradFn: GradNode | null = null;

  /** Wraps `data` (not copied) as a tensor of `shape`. The sizes must agree. */
  constructor(data: Float32Array, shape: Shape, options: TensorOptions & { binary?: boolean } = {}) {
    checkShape(shape, 'Tensor');
    const n = sizeOf(shape);
    if (data.length !== n) {
      throw new ShapeError(`Tensor: shape ${fmtShape(shape)} holds ${n} elements but the data has ${data.length}`);
    }
    this.data = data;
    this.shape = Object.freeze(shape.slice());
    this.requiresGrad = options.requiresGrad ?? false;
    this.binary = options.binary ?? false;
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /** Number of elements. */
  get size(): number {
    return this.data.length;
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.data.length !== 1) {
      throw new ShapeError(`item: expected a tensor with one element, got shape ${fmtShape(this.shape)}`);
    }
    return this.data[0];
  }

  /** The values as nested arrays (a number for a scalar). */
  toArray(): NestedArray {
    const build = (dim: number, offset: number): NestedArray => {
      if (dim === this.shape.length) return this.data[offset];
      const n = this.shape[dim];
      let stride = 1;
      for (let i = dim + 1; i < this.shape.length; i++) stride *= this.shape[i];
      const out: NestedArray[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = build(dim + 1, offset + i * stride);
      return out;
    };
    return build(0, 0);
  }

  /** A tensor sharing this data but cut from the graph: no gradFn, no requiresGrad. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape, { binary: this.binary });
  }

  /** A copy of the data in a new tensor (not attached to the graph). */
  clone(): Tensor {
    return new Tensor(this.data.slice(), this.shape, { binary: this.binary });
  }

  toString(): string {
    return `Tensor(shape=${fmtShape(this.shape)}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }
}

function inferShape(value: NestedArray): number[] {
  const shape: number[] = [];
  let v: NestedArray = value;
  while (Array.isArray(v)) {
    shape.push(v.length);
    if (v.length === 0) break;
    v = v[0];
  }
  return shape;
}

/**
 * Creates a tensor from nested arrays or from a typed/plain array of numbers with a shape.
 * Ragged nested arrays and data whose length does not match the shape throw a ShapeError.
 *
 * @example
 * ```ts
 * const a = tensor([[1, 2], [3, 4]]);           // shape [2, 2]
 * const b = tensor(new Float32Array(6), [2, 3]); // wraps a copy of the data
 * const s = tensor(3.5);                          // a scalar, shape []
 * ```
 */
export function tensor(
  values: NestedArray | Float32Array | Float64Array | Int32Array | Uint8Array | readonly number[],
  shape?: Shape,
  options: TensorOptions = {},
): Tensor {
  if (ArrayBuffer.isView(values)) {
    const data = Float32Array.from(values as ArrayLike<number>);
    return new Tensor(data, shape ?? [data.length], options);
  }
  if (typeof values === 'number') {
    return new Tensor(Float32Array.of(values), shape ?? [], options);
  }
  const inferred = inferShape(values);
  const n = sizeOf(inferred);
  const data = new Float32Array(n);
  let k = 0;
  const fill = (v: NestedArray, dim: number): void => {
    if (dim === inferred.length) {
      if (typeof v !== 'number') throw new ShapeError(`tensor: ragged nested array, expected a number at depth ${dim}`);
      data[k++] = v;
      return;
    }
    if (!Array.isArray(v) || v.length !== inferred[dim]) {
      throw new ShapeError(`tensor: ragged nested array, expected length ${inferred[dim]} at depth ${dim}, got ${Array.isArray(v) ? v.length : typeof v}`);
    }
    for (const x of v) fill(x, dim + 1);
  };
  fill(values, 0);
  if (shape === undefined) return new Tensor(data, inferred, options);
  return new Tensor(data, shape, options);
}

/** A tensor of zeros. */
export function zeros(shape: Shape, options: TensorOptions = {}): Tensor {
  return new Tensor(allocate(shape, 'zeros'), shape, options);
}

/** A tensor of ones. */
export function ones(shape: Shape, options: TensorOptions = {}): Tensor {
  return full(shape, 1, options);
}

/** A tensor filled with `value`. */
export function full(shape: Shape, value: number, options: TensorOptions = {}): Tensor {
  return new Tensor(allocate(shape, 'full').fill(value), shape, options);
}

/** A zero tensor of another tensor's shape. */
export function zerosLike(t: Tensor): Tensor {
  return new Tensor(new Float32Array(t.size), t.shape);
}

/** Values start, start+step, … below stop (`arange(n)` is 0..n−1), as in NumPy. */
export function arange(start: number, stop?: number, step = 1): Tensor {
  if (stop === undefined) {
    stop = start;
    start = 0;
  }
  if (step === 0 || !Number.isFinite(step)) throw new ShapeError(`arange: step must be finite and non-zero, got ${step}`);
  if (!Number.isFinite(start) || !Number.isFinite(stop)) throw new ShapeError(`arange: start and stop must be finite numbers, got ${start} and ${stop}`);
  const n = Math.max(0, Math.ceil((stop - start) / step));
  const data = allocate([n], 'arange');
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return new Tensor(data, [n]);
}

/** An n×m identity matrix (m defaults to n). */
export function eye(n: number, m = n): Tensor {
  const data = allocate([n, m], 'eye');
  for (let i = 0; i < Math.min(n, m); i++) data[i * m + i] = 1;
  return new Tensor(data, [n, m]);
}

/** Uniform values in [low, high) drawn from `rng`. */
export function rand(shape: Shape, rng: Rng, options: TensorOptions & { low?: number; high?: number } = {}): Tensor {
  const data = allocate(shape, 'rand');
  const low = options.low ?? 0;
  const span = (options.high ?? 1) - low;
  for (let i = 0; i < data.length; i++) data[i] = low + span * rng.uniform();
  return new Tensor(data, shape, options);
}

/** Normal values with mean `mean` (0) and standard deviation `std` (1) drawn from `rng`. */
export function randn(shape: Shape, rng: Rng, options: TensorOptions & { mean?: number; std?: number } = {}): Tensor {
  const data = allocate(shape, 'randn');
  const mean = options.mean ?? 0;
  const std = options.std ?? 1;
  for (let i = 0; i < data.length; i++) data[i] = mean + std * rng.normal();
  return new Tensor(data, shape, options);
}
