/**
 * The differentiable API. Primitives call `apply` (see ./ops); softmax, logSoftmax, var,
 * std, mse and friends are composed from them, so they need no backward rule of their own.
 */
import { ShapeError, fmtShape } from '../errors';
import * as K from '../tensor';
import type { Axes } from '../tensor/reduce';
import type { SliceRange } from '../tensor/layout';
import { Tensor } from '../tensor/tensor';
import { RULES, apply, applyRule, checkCrossEntropy } from './ops';

/** A tensor or a plain number (taken as a scalar tensor that needs no gradient). */
export type TensorLike = Tensor | number;

const lift = (x: TensorLike): Tensor => (typeof x === 'number' ? new Tensor(Float32Array.of(x), []) : x);

/** a + b with NumPy broadcasting. */
export const add = (a: TensorLike, b: TensorLike): Tensor => apply('add', [lift(a), lift(b)], null);
/** a − b with NumPy broadcasting. */
export const sub = (a: TensorLike, b: TensorLike): Tensor => apply('sub', [lift(a), lift(b)], null);
/** a · b (elementwise) with NumPy broadcasting. */
export const mul = (a: TensorLike, b: TensorLike): Tensor => apply('mul', [lift(a), lift(b)], null);
/** a / b (elementwise) with NumPy broadcasting. */
export const div = (a: TensorLike, b: TensorLike): Tensor => apply('div', [lift(a), lift(b)], null);
/** −a. */
export const neg = (a: Tensor): Tensor => apply('neg', [a], null);
/** aᵖ for a scalar exponent p. */
export const pow = (a: Tensor, exponent: number): Tensor => apply('pow', [a], { exponent });
/** a². */
export const square = (a: Tensor): Tensor => apply('pow', [a], { exponent: 2 });
export const exp = (a: Tensor): Tensor => apply('exp', [a], null);
/** Natural logarithm. */
export const log = (a: Tensor): Tensor => apply('log', [a], null);
export const sqrt = (a: Tensor): Tensor => apply('sqrt', [a], null);
/** |a|, with gradient 0 at 0. */
export const abs = (a: Tensor): Tensor => apply('abs', [a], null);
/** max(a, 0), with gradient 0 at 0. */
export const relu = (a: Tensor): Tensor => apply('relu', [a], null);
export const sigmoid = (a: Tensor): Tensor => apply('sigmoid', [a], null);
export const tanh = (a: Tensor): Tensor => apply('tanh', [a], null);
/** min(max(a, min), max); the gradient passes where min ≤ a ≤ max. */
export const clamp = (a: Tensor, min = -Infinity, max = Infinity): Tensor => apply('clamp', [a], { min, max });

/**
 * op(a)·op(b) over the last two axes, batch axes broadcast.
 * @example
 * ```ts
 * const y = matmul(x, weight, { transB: true }); // x·Wᵀ
 * ```
 */
export const matmul = (a: Tensor, b: Tensor, options: K.MatmulOptions = {}): Tensor =>
  apply('matmul', [a, b], { transA: options.transA ?? false, transB: options.transB ?? false });

/** Sum over `axes` (all by default). */
export const sum = (a: Tensor, axes?: Axes, keepdim = false): Tensor => apply('sum', [a], { axes, keepdim });
/** Mean over `axes` (all by default). */
export const mean = (a: Tensor, axes?: Axes, keepdim = false): Tensor => apply('mean', [a], { axes, keepdim });
/** Maximum over `axes` (all by default); ties send the whole gradient to the first maximal element. */
export const max = (a: Tensor, axes?: Axes, keepdim = false): Tensor => apply('max', [a], { axes, keepdim });

/**
 * {@link max} that also returns where each maximum is: `indices[j]` is the position of the
 * first maximal element of output j's block, counted over the reduced axes in row-major order
 * (for one axis, its index along that axis, as `torch.max(x, dim)` returns). One pass: the
 * indices are the ones the backward rule keeps.
 *
 * @example
 * ```ts
 * const { values, indices } = maxWithIndices(tensor([[1, 5, 2], [7, 0, 7]]), 1); // [5, 7], Int32Array [1, 0]
 * ```
 */
export function maxWithIndices(a: Tensor, axes?: Axes, keepdim = false): { values: Tensor; indices: Int32Array } {
  let indices: Int32Array = new Int32Array(0);
  const rule = RULES.max;
  const values = applyRule('max', {
    forward: (x, attrs, save) => rule.forward(x, attrs, (s) => {
      indices = s;
      save(s);
    }),
    backward: rule.backward,
  }, [a], { axes, keepdim });
  return { values, indices };
}

/** Options of {@link variance} and {@link std}. */
export interface VarOptions {
  keepdim?: boolean;
  /** Subtracted from the count in the denominator: 1 (default) is unbiased, 0 biased. */
  correction?: number;
}

/** Variance over `axes`: Σ(a − mean)² / (n − correction). */
export function variance(a: Tensor, axes?: Axes, options: VarOptions = {}): Tensor {
  const keepdim = options.keepdim ?? false;
  const correction = options.correction ?? 1;
  const centred = sub(a, mean(a, axes, true));
  const ss = sum(square(centred), axes, keepdim);
  const n = ss.size === 0 ? 0 : a.size / ss.size;
  return div(ss, n - correction);
}

/** Standard deviation over `axes`: √variance. */
export const std = (a: Tensor, axes?: Axes, options: VarOptions = {}): Tensor => sqrt(variance(a, axes, options));

/** The same data with another shape; one dimension may be −1. */
export const reshape = (a: Tensor, shape: readonly number[]): Tensor => apply('reshape', [a], { shape: K.resolveShape(a.shape, shape) });
/** Reorders axes: output axis i is input axis order[i]. */
export const permute = (a: Tensor, order: readonly number[]): Tensor => apply('permute', [a], { order });
/** Swaps two axes (default: the last two). */
export function transpose(a: Tensor, dim0 = -2, dim1 = -1): Tensor {
  const order = [...Array(a.ndim).keys()];
  const d0 = K.normAxis(dim0, a.ndim, 'transpose');
  const d1 = K.normAxis(dim1, a.ndim, 'transpose');
  order[d0] = d1;
  order[d1] = d0;
  return permute(a, order);
}
/** Joins tensors along `axis`. */
export const concat = (tensors: readonly Tensor[], axis = 0): Tensor => apply('concat', tensors, { axis });
/** The sub-tensor of one `[start, end, step?)` range per leading axis (null keeps an axis whole), as `a[s:e:step]` in PyTorch. */
export const slice = (a: Tensor, ranges: readonly SliceRange[]): Tensor => apply('slice', [a], { ranges });

/**
 * Softmax along `axis` (default last): exp(a − m) / Σ exp(a − m) with m the detached
 * maximum, which changes nothing mathematically and keeps exp from overflowing.
 */
export function softmax(a: Tensor, axis = -1): Tensor {
  const e = exp(sub(a, K.max(a, axis, true)));
  return div(e, sum(e, axis, true));
}

/** log softmax along `axis` (default last): a − m − log Σ exp(a − m), stable for large |a|. */
export function logSoftmax(a: Tensor, axis = -1): Tensor {
  const shifted = sub(a, K.max(a, axis, true));
  return sub(shifted, log(sum(exp(shifted), axis, true)));
}

/**
 * Mean cross-entropy of logits [N, C] against integer class targets, fused: one pass
 * computes a stable log-softmax, and the gradient is (softmax − onehot)/N.
 */
export function crossEntropy(logits: Tensor, targets: Int32Array): Tensor {
  checkCrossEntropy(logits, targets);
  return apply('crossEntropy', [logits], { targets });
}

/** Mean squared error mean((a − b)²); the shapes must be equal (no broadcasting). */
export function mse(a: Tensor, b: Tensor): Tensor {
  if (!K.shapesEqual(a.shape, b.shape)) {
    throw new ShapeError(`mse: expected equal shapes, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  return mean(square(sub(a, b)));
}
