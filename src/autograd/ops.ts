/**
 * The differentiable primitives. Each entry of `RULES` is an op's forward kernel and its
 * backward rule side by side; the table is typed over `OpSpecs`, so declaring an op
 * without a rule (or a rule without an op) does not compile. The few fused ops a benchmark
 * justifies have a table of the same shape in ./fused.ts; everything else in this folder is
 * composed from these primitives and has no backward rule of its own.
 */
import { ShapeError, fmtShape } from '../errors';
import * as K from '../tensor';
import type { SliceRange } from '../tensor/layout';
import { Tensor } from '../tensor/tensor';
import { record } from './engine';

/** Each op's attributes (`attrs`) and what its forward saves for backward (`saved`). */
export interface OpSpecs {
  add: { attrs: null; saved: null };
  sub: { attrs: null; saved: null };
  mul: { attrs: null; saved: null };
  div: { attrs: null; saved: null };
  neg: { attrs: null; saved: null };
  pow: { attrs: { exponent: number }; saved: null };
  exp: { attrs: null; saved: null };
  log: { attrs: null; saved: null };
  sqrt: { attrs: null; saved: null };
  abs: { attrs: null; saved: null };
  relu: { attrs: null; saved: null };
  sigmoid: { attrs: null; saved: null };
  tanh: { attrs: null; saved: null };
  clamp: { attrs: { min: number; max: number }; saved: null };
  matmul: { attrs: { transA: boolean; transB: boolean }; saved: null };
  sum: { attrs: { axes: K.Axes; keepdim: boolean }; saved: null };
  mean: { attrs: { axes: K.Axes; keepdim: boolean }; saved: null };
  max: { attrs: { axes: K.Axes; keepdim: boolean }; saved: Int32Array };
  reshape: { attrs: { shape: readonly number[] }; saved: null };
  permute: { attrs: { order: readonly number[] }; saved: null };
  concat: { attrs: { axis: number }; saved: null };
  slice: { attrs: { ranges: readonly SliceRange[] }; saved: null };
  crossEntropy: { attrs: { targets: Int32Array }; saved: Tensor };
  heaviside: { attrs: { derivative: (x: number) => number }; saved: null };
}

export type OpName = keyof OpSpecs;

/** An op's attributes (`attrs`) and what its forward saves for backward (`saved`). */
export interface OpSpec {
  attrs: unknown;
  saved: unknown;
}

/**
 * What a backward rule sees: the op's inputs, its output, attributes and saved values.
 * `retained` is false when this is the node's only backward (see `BackwardFn`): the rule may
 * then reuse the buffers it saved for its results.
 */
export interface Ctx<S extends OpSpec> {
  x: readonly Tensor[];
  out: Tensor;
  attrs: S['attrs'];
  saved: S['saved'];
  retained: boolean;
}

/** An op: forward kernel (calling `save` at most once) and backward rule. */
export interface Rule<S extends OpSpec> {
  forward(x: readonly Tensor[], attrs: S['attrs'], save: (s: S['saved']) => void): Tensor;
  backward(g: Tensor, ctx: Ctx<S>): readonly (Tensor | null)[];
}

const keepdimShape = (shape: readonly number[], axes: K.Axes): number[] => {
  const ax = K.normAxes(axes, shape.length, 'reduce');
  return shape.map((d, i) => (ax.includes(i) ? 1 : d));
};

/** d/dx of a reduction that broadcasts its output gradient back over the reduced axes. */
const unreduce = (g: Tensor, x: Tensor, axes: K.Axes): Tensor => K.broadcastTo(K.reshape(g, keepdimShape(x.shape, axes)), x.shape);

export const RULES: { [P in OpName]: Rule<OpSpecs[P]> } = {
  add: {
    forward: ([a, b]) => K.add(a, b),
    backward: (g, { x: [a, b] }) => [K.sumTo(g, a.shape), K.sumTo(g, b.shape)],
  },
  sub: {
    forward: ([a, b]) => K.sub(a, b),
    backward: (g, { x: [a, b] }) => [K.sumTo(g, a.shape), K.sumTo(K.neg(g), b.shape)],
  },
  mul: {
    forward: ([a, b]) => K.mul(a, b),
    backward: (g, { x: [a, b] }) => [
      a.requiresGrad ? K.sumTo(K.mul(g, b), a.shape) : null,
      b.requiresGrad ? K.sumTo(K.mul(g, a), b.shape) : null,
    ],
  },
  div: {
    // d(a/b)/db = −a/b² = −out/b
    forward: ([a, b]) => K.div(a, b),
    backward: (g, { x: [a, b], out }) => [
      a.requiresGrad ? K.sumTo(K.div(g, b), a.shape) : null,
      b.requiresGrad ? K.sumTo(K.neg(K.div(K.mul(g, out), b)), b.shape) : null,
    ],
  },
  neg: {
    forward: ([a]) => K.neg(a),
    backward: (g) => [K.neg(g)],
  },
  pow: {
    // d(xᵖ)/dx = p·xᵖ⁻¹
    forward: ([a], { exponent }) => K.powScalar(a, exponent),
    backward: (g, { x: [a], attrs: { exponent } }) => [K.mul(g, K.scale(K.powScalar(a, exponent - 1), exponent))],
  },
  exp: {
    forward: ([a]) => K.exp(a),
    backward: (g, { out }) => [K.mul(g, out)],
  },
  log: {
    forward: ([a]) => K.log(a),
    backward: (g, { x: [a] }) => [K.div(g, a)],
  },
  sqrt: {
    // d√x/dx = 1/(2√x)
    forward: ([a]) => K.sqrt(a),
    backward: (g, { out }) => [K.div(g, K.scale(out, 2))],
  },
  abs: {
    // sign(0) = 0: abs'(0) = 0, as in PyTorch.
    forward: ([a]) => K.abs(a),
    backward: (g, { x: [a] }) => [K.mul(g, K.sign(a))],
  },
  relu: {
    // relu'(0) = 0, as in PyTorch.
    forward: ([a]) => K.relu(a),
    backward: (g, { x: [a] }) => [K.mul(g, K.gt(a, K.zeros([])))],
  },
  sigmoid: {
    // σ' = σ(1 − σ)
    forward: ([a]) => K.sigmoid(a),
    backward: (g, { out }) => [K.mul(g, K.mul(out, K.addScalar(K.neg(out), 1)))],
  },
  tanh: {
    // tanh' = 1 − tanh²
    forward: ([a]) => K.tanh(a),
    backward: (g, { out }) => [K.mul(g, K.addScalar(K.neg(K.mul(out, out)), 1))],
  },
  clamp: {
    // The gradient passes where min ≤ x ≤ max (bounds included), as in PyTorch.
    forward: ([a], { min, max }) => K.clamp(a, min, max),
    backward: (g, { x: [a], attrs: { min, max } }) => {
      const d = new Float32Array(a.size);
      for (let i = 0; i < d.length; i++) {
        const v = a.data[i];
        d[i] = v >= min && v <= max ? g.data[i] : 0;
      }
      return [new Tensor(d, a.shape)];
    },
  },
  matmul: {
    // C = op(A)·op(B): dop(A) = G·op(B)ᵀ, dop(B) = op(A)ᵀ·G, each transposed back when the
    // operand was used transposed; broadcast batch axes are summed away.
    forward: ([a, b], { transA, transB }) => K.matmul(a, b, { transA, transB }),
    backward: (g, { x: [a, b], attrs: { transA, transB } }) => {
      let da: Tensor | null = null;
      let db: Tensor | null = null;
      if (a.requiresGrad) {
        da = transA ? K.matmul(b, g, { transA: transB, transB: true }) : K.matmul(g, b, { transB: !transB });
        da = K.sumTo(da, a.shape);
      }
      if (b.requiresGrad) {
        db = transB ? K.matmul(g, a, { transA: true, transB: transA }) : K.matmul(a, g, { transA: !transA });
        db = K.sumTo(db, b.shape);
      }
      return [da, db];
    },
  },
  sum: {
    forward: ([a], { axes, keepdim }) => K.sum(a, axes, keepdim),
    backward: (g, { x: [a], attrs: { axes } }) => [unreduce(g, a, axes)],
  },
  mean: {
    forward: ([a], { axes, keepdim }) => K.mean(a, axes, keepdim),
    backward: (g, { x: [a], out, attrs: { axes } }) => [K.scale(unreduce(g, a, axes), out.size / a.size)],
  },
  max: {
    // The whole gradient goes to the first maximal element of each reduced block.
    forward: ([a], { axes, keepdim }, save) => {
      const { values, index } = K.maxWithIndex(a, axes, keepdim);
      save(index);
      return values;
    },
    backward: (g, { x: [a], attrs: { axes }, saved }) => [K.scatterToIndex(a.shape, axes, saved, g)],
  },
  reshape: {
    forward: ([a], { shape }) => K.reshape(a, shape),
    backward: (g, { x: [a] }) => [K.reshape(g, a.shape)],
  },
  permute: {
    forward: ([a], { order }) => K.permute(a, order),
    backward: (g, { x: [a], attrs: { order } }) => {
      const inverse = new Array<number>(order.length);
      order.forEach((d, i) => (inverse[K.normAxis(d, a.ndim, 'permute')] = i));
      return [K.permute(g, inverse)];
    },
  },
  concat: {
    forward: (xs, { axis }) => K.concat(xs, axis),
    backward: (g, { x: xs, attrs: { axis } }) => {
      const ax = K.normAxis(axis, g.ndim, 'concat');
      let off = 0;
      return xs.map((t) => {
        const ranges: SliceRange[] = g.shape.map(() => null);
        ranges[ax] = [off, off + t.shape[ax]];
        off += t.shape[ax];
        return t.requiresGrad ? K.slice(g, ranges) : null;
      });
    },
  },
  slice: {
    forward: ([a], { ranges }) => K.slice(a, ranges),
    backward: (g, { x: [a], attrs: { ranges } }) => [K.unslice(a.shape, ranges, g)],
  },
  crossEntropy: {
    // loss = −(1/N)·Σₙ log softmax(zₙ)[yₙ];  d loss/dzₙ = (softmax(zₙ) − onehot(yₙ))/N.
    forward: ([z], { targets }, save) => {
      const [n, c] = z.shape;
      const p = new Float32Array(n * c);
      let total = 0;
      for (let i = 0; i < n; i++) {
        const row = i * c;
        let m = -Infinity;
        for (let j = 0; j < c; j++) if (z.data[row + j] > m) m = z.data[row + j];
        let s = 0;
        for (let j = 0; j < c; j++) {
          const e = Math.exp(z.data[row + j] - m);
          p[row + j] = e;
          s += e;
        }
        for (let j = 0; j < c; j++) p[row + j] /= s;
        total -= z.data[row + targets[i]] - m - Math.log(s);
      }
      save(new Tensor(p, z.shape));
      return new Tensor(Float32Array.of(total / n), []);
    },
    backward: (g, { x: [z], attrs: { targets }, saved }) => {
      const [n, c] = z.shape;
      const d = saved.data.slice();
      for (let i = 0; i < n; i++) d[i * c + targets[i]] -= 1;
      const s = g.data[0] / n;
      for (let i = 0; i < d.length; i++) d[i] *= s;
      return [new Tensor(d, z.shape)];
    },
  },
  heaviside: {
    // Forward H(x) = [x > 0]; backward g·σ′(x) with a surrogate derivative σ′ (spiking neurons).
    forward: ([a]) => K.gt(a, K.zeros([])),
    backward: (g, { x: [a], attrs: { derivative } }) => {
      const d = new Float32Array(a.size);
      for (let i = 0; i < d.length; i++) d[i] = g.data[i] * derivative(a.data[i]);
      return [new Tensor(d, a.shape)];
    },
  },
};

/** Runs primitive `op` on `inputs` and records it on the graph. */
export function apply<P extends OpName>(op: P, inputs: readonly Tensor[], attrs: OpSpecs[P]['attrs']): Tensor {
  return applyRule(op, RULES[op] as Rule<OpSpecs[P]>, inputs, attrs);
}

/** Runs `rule`'s forward on `inputs` and records its backward on the graph under `name`. */
export function applyRule<S extends OpSpec>(name: string, rule: Rule<S>, inputs: readonly Tensor[], attrs: S['attrs']): Tensor {
  let saved = null as S['saved'];
  const out = rule.forward(inputs, attrs, (s) => {
    saved = s;
  });
  return record(name, out, inputs, (g, retained) => rule.backward(g, { x: inputs, out, attrs, saved, retained }));
}

export function checkCrossEntropy(z: Tensor, targets: Int32Array): void {
  if (z.ndim !== 2) throw new ShapeError(`crossEntropy: expected logits [N, C], got ${fmtShape(z.shape)}`);
  const [n, c] = z.shape;
  if (targets.length !== n) throw new ShapeError(`crossEntropy: ${n} rows of logits but ${targets.length} targets`);
  if (n === 0) throw new ShapeError('crossEntropy: the mean over an empty batch is undefined');
  for (let i = 0; i < n; i++) {
    const t = targets[i];
    if (!Number.isInteger(t)) throw new ShapeError(`crossEntropy: targets must be integer class indices, got ${t} at row ${i}`);
    if (!(t >= 0 && t < c)) throw new ShapeError(`crossEntropy: target ${t} at row ${i} is outside the ${c} classes`);
  }
}
