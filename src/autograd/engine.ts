/**
 * The reverse-mode engine: a node per op output remembers its inputs and a closure that
 * maps the output's gradient to the inputs' gradients; `backward()` sorts the graph
 * topologically and runs the closures in reverse, adding into each input's gradient.
 */
import { GradError, fmtShape } from '../errors';
import { addInPlace, add as addKernel } from '../tensor/elementwise';
import { shapesEqual } from '../tensor/shape';
import { type GradNode, Tensor } from '../tensor/tensor';

/**
 * Maps the gradient of an op's output to the gradients of its inputs (null: no gradient).
 * `retained` is false when this is the node's only backward (the graph is freed after it):
 * the function may then reuse the buffers it saved in forward for its results.
 *
 * Contract for the returned tensors: each is either the incoming gradient (or a view of it),
 * or a buffer that nothing outside this backward pass holds. The engine keeps a gradient whose
 * buffer it has not seen before in the pass as a leaf's `.grad` without copying and may add
 * into it later, so a rule must copy anything it caches or shares (a constant, a forward
 * tensor's data) before returning it.
 */
export type BackwardFn = (grad: Tensor, retained: boolean) => readonly (Tensor | null)[];

/** The graph node behind a tensor produced by a differentiable op. */
export class Node implements GradNode {
  constructor(
    readonly name: string,
    public inputs: readonly Tensor[],
    public backwardFn: BackwardFn | null,
  ) {}
}

let gradEnabled = true;
let anomalyMode = false;

/** Whether ops record the graph (false inside {@link noGrad}). */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Runs `fn` without recording the graph: its results have no gradFn and need no memory
 * for backward. Nests and restores the previous mode even if `fn` throws.
 *
 * @example
 * ```ts
 * const features = noGrad(() => model.forward(x));
 * ```
 */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/**
 * Anomaly mode: when on, every recorded op checks its output for NaN and throws a
 * GradError naming the op, and backward checks every gradient the same way.
 */
export function setAnomalyDetection(on: boolean): void {
  anomalyMode = on;
}

function firstNaN(t: Tensor): number {
  const d = t.data;
  for (let i = 0; i < d.length; i++) if (d[i] !== d[i]) return i;
  return -1;
}

/**
 * Attaches `out` to the graph as the result of op `name` on `inputs`, if gradients are
 * enabled and some input requires them. Returns `out`.
 */
export function record(name: string, out: Tensor, inputs: readonly Tensor[], backwardFn: BackwardFn): Tensor {
  if (anomalyMode && firstNaN(out) >= 0) {
    throw new GradError(`anomaly: ${name} produced NaN at flat index ${firstNaN(out)} (output shape ${fmtShape(out.shape)})`);
  }
  if (!gradEnabled) return out;
  let needs = false;
  for (const x of inputs) if (x.requiresGrad) needs = true;
  if (!needs) return out;
  out.requiresGrad = true;
  out.gradFn = new Node(name, inputs, backwardFn);
  return out;
}

/** Options of {@link backward}. */
export interface BackwardOptions {
  /** Keep the graph so backward can run through it again. Default false: buffers are released. */
  retainGraph?: boolean;
}

/** Tensors with a gradFn reachable from `root`, in topological order (inputs before outputs). */
function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // Iterative DFS, so long graphs (many time steps) cannot overflow the stack.
  const stack: Array<[Tensor, number]> = [[root, 0]];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const node = t.gradFn as Node | null;
    const inputs = node ? node.inputs : [];
    if (i < inputs.length) {
      top[1] = i + 1;
      const x = inputs[i];
      if (x.requiresGrad && x.gradFn && !seen.has(x)) {
        seen.add(x);
        stack.push([x, 0]);
      }
    } else {
      stack.pop();
      if (node) order.push(t);
    }
  }
  return order;
}

/**
 * Back-propagates from `root`: adds ∂root/∂leaf·gradient into the `.grad` of every leaf
 * that requires gradients. `gradient` defaults to 1 for a one-element root. Gradients
 * accumulate across calls; call `zeroGrad` (or set `.grad = null`) between steps.
 */
export function backward(root: Tensor, gradient?: Tensor, options: BackwardOptions = {}): void {
  if (!root.requiresGrad) throw new GradError('backward: the tensor does not require gradients (no input had requiresGrad, or it was made under noGrad)');
  let seed: Tensor;
  if (gradient === undefined) {
    if (root.size !== 1) throw new GradError(`backward: a gradient is needed for a non-scalar root of shape ${fmtShape(root.shape)}`);
    seed = new Tensor(new Float32Array(1).fill(1), root.shape);
  } else {
    if (!shapesEqual(gradient.shape, root.shape)) {
      throw new GradError(`backward: gradient shape ${fmtShape(gradient.shape)} differs from the root's ${fmtShape(root.shape)}`);
    }
    seed = gradient;
  }
  if (!root.gradFn) {
    accumulateLeaf(root, seed);
    return;
  }
  const retain = options.retainGraph ?? false;
  // Buffers of every gradient handed around in this pass. A gradient a rule returns in a
  // buffer not seen before (and only once in its list) is fresh: it can become a leaf's
  // .grad, or be added into, without a copy. Pass-throughs and views of an incoming
  // gradient (add, reshape, concat) share a seen buffer and are copied.
  const seenBuffers = new Set<ArrayBufferLike>([seed.data.buffer]);
  const order = topoOrder(root);
  const grads = new Map<Tensor, { g: Tensor; owned: boolean }>();
  grads.set(root, { g: seed, owned: false });
  for (let k = order.length - 1; k >= 0; k--) {
    const t = order[k];
    const entry = grads.get(t);
    if (!entry) continue;
    grads.delete(t);
    const node = t.gradFn as Node;
    if (!node.backwardFn) {
      throw new GradError(`backward: the graph through ${node.name} was already freed; pass { retainGraph: true } to the first backward to run it twice`);
    }
    const inGrads = node.backwardFn(entry.g, retain);
    const inputs = node.inputs;
    if (!retain) {
      node.backwardFn = null;
      node.inputs = [];
    }
    const fresh = freshGradients(inGrads, seenBuffers);
    for (let i = 0; i < inputs.length; i++) {
      const x = inputs[i];
      const g = inGrads[i];
      if (!x.requiresGrad || g === null || g === undefined) continue;
      if (!shapesEqual(g.shape, x.shape)) {
        throw new GradError(`backward: ${node.name} returned a gradient of shape ${fmtShape(g.shape)} for input ${i} of shape ${fmtShape(x.shape)}`);
      }
      if (anomalyMode && firstNaN(g) >= 0) throw new GradError(`anomaly: the backward of ${node.name} produced NaN for input ${i}`);
      if (!x.gradFn) {
        accumulateLeaf(x, g, fresh[i]);
        continue;
      }
      const prev = grads.get(x);
      if (!prev) grads.set(x, { g, owned: fresh[i] });
      else if (prev.owned) addInPlace(prev.g, g);
      else grads.set(x, { g: addKernel(prev.g, g), owned: true });
    }
  }
}

/**
 * Which of a rule's gradients are fresh (their buffer seen nowhere else in this pass), and
 * records all their buffers as seen.
 */
function freshGradients(inGrads: readonly (Tensor | null)[], seen: Set<ArrayBufferLike>): boolean[] {
  const fresh = inGrads.map((g) => g !== null && g !== undefined && !seen.has(g.data.buffer));
  for (let i = 0; i < inGrads.length; i++) {
    const g = inGrads[i];
    if (!g) continue;
    for (let j = i + 1; j < inGrads.length; j++) {
      if (inGrads[j]?.data.buffer === g.data.buffer) fresh[i] = fresh[j] = false;
    }
  }
  for (const g of inGrads) if (g) seen.add(g.data.buffer);
  return fresh;
}

/**
 * Adds `g` into a leaf's `.grad` as backward does (the first gradient is copied, later ones
 * added element by element) — for gradients computed elsewhere, e.g. on another thread.
 */
export function accumulateGrad(x: Tensor, g: Tensor): void {
  if (!shapesEqual(g.shape, x.shape)) throw new GradError(`accumulateGrad: gradient shape ${fmtShape(g.shape)} differs from the tensor's ${fmtShape(x.shape)}`);
  accumulateLeaf(x, g);
}

/** Adds g into a leaf's .grad; a first gradient that may be shared is copied, a fresh one adopted. */
function accumulateLeaf(x: Tensor, g: Tensor, fresh = false): void {
  if (x.grad === null) x.grad = fresh ? new Tensor(g.data, g.shape) : new Tensor(g.data.slice(), g.shape);
  else addInPlace(x.grad, g);
}

declare module '../tensor/tensor' {
  interface Tensor {
    /** Back-propagates from this tensor; see {@link backward}. */
    backward(gradient?: Tensor, options?: BackwardOptions): void;
  }
}

Tensor.prototype.backward = function (this: Tensor, gradient?: Tensor, options?: BackwardOptions): void {
  backward(this, gradient, options);
};
