/**
 * The optimizer base class: the parameter list, per-parameter step counts and state
 * buffers, `zeroGrad`, and a state dict that resumes training bit for bit.
 */
import { OptionError, ShapeError, fmtShape } from '../errors';
import { Tensor } from '../tensor/tensor';

/** A hyperparameter value as stored in a state dict. */
export type HyperValue = number | boolean | number[];

/**
 * An optimizer's state: JSON-safe hyperparameters and step counts, and the state buffers as
 * tensors named `<paramIndex>.<name>` (`0.exp_avg`, `3.momentum_buffer`), the index being
 * the parameter's position in the list the optimizer was built with. A parameter that has
 * not been updated yet has step 0 and no buffers.
 */
export interface OptimizerState {
  hyper: Record<string, HyperValue>;
  /** Per parameter: the number of updates it has had (PyTorch's `state['step']`). */
  step: number[];
  buffers: Record<string, Tensor>;
}

/**
 * Base class of optimizers. Subclasses implement one fused pass per parameter in `step()`
 * (reading `.grad`, writing `.data` and their state buffers in place, no temporary
 * tensors) and describe their hyperparameters for the state dict.
 */
export abstract class Optimizer {
  /** The parameters, in the order given (the indices of the state dict's buffer names). */
  readonly params: readonly Tensor[];
  /** The learning rate of the next step; LR schedulers set it. */
  lr: number;
  /**
   * The learning rate before any schedule, set by the first LR scheduler attached (as
   * PyTorch's `initial_lr`), so several schedulers agree on the base rate. Not in the state
   * dict; a scheduler's own state restores it.
   */
  initialLr: number | null = null;
  /** Per parameter: updates so far. */
  protected readonly steps: number[];
  /** Per parameter: state buffers by name, created lazily at its first update. */
  protected readonly state: Array<Record<string, Float32Array>>;

  protected constructor(params: Iterable<Tensor>, lr: number, op: string) {
    const list = [...params];
    const seen = new Set<Tensor>();
    list.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new OptionError(`${op}: parameter ${i} is not a Tensor`);
      if (!p.requiresGrad || p.gradFn !== null) throw new OptionError(`${op}: parameter ${i} ${fmtShape(p.shape)} must be a leaf tensor with requiresGrad (a Parameter)`);
      if (seen.has(p)) throw new OptionError(`${op}: parameter ${i} appears twice in the parameter list`);
      seen.add(p);
    });
    if (list.length === 0) throw new OptionError(`${op}: got an empty parameter list`);
    checkNonNegative(lr, 'lr', op);
    this.params = list;
    this.lr = lr;
    this.steps = list.map(() => 0);
    this.state = list.map(() => ({}));
  }

  /** Applies one update to every parameter that has a gradient (parameters without one are skipped, as in PyTorch). */
  abstract step(): void;

  /** The hyperparameters, as stored in the state dict. */
  protected abstract getHyper(): Record<string, HyperValue>;

  /** Sets hyperparameters already checked against {@link getHyper}'s keys and types. */
  protected abstract setHyper(h: Record<string, HyperValue>): void;

  /** The buffers a parameter has after its first update, given (possibly loaded) hyperparameters. */
  protected abstract bufferNames(h: Record<string, HyperValue>): readonly string[];

  /** Sets every parameter's gradient to null (PyTorch's default `set_to_none`). */
  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  /** The gradient of parameter i as a flat array, or null; a ShapeError if its size is wrong. */
  protected gradOf(i: number): Float32Array | null {
    const p = this.params[i];
    const g = p.grad;
    if (g === null) return null;
    if (g.size !== p.size) throw new ShapeError(`${this.constructor.name}.step: parameter ${i} ${fmtShape(p.shape)} has a gradient of shape ${fmtShape(g.shape)}`);
    return g.data;
  }

  /** Buffer `name` of parameter i, created as zeros on first use (the returned flag says whether it was just created). */
  protected buffer(i: number, name: string): [Float32Array, boolean] {
    const s = this.state[i];
    const b = s[name];
    if (b !== undefined) return [b, false];
    const created = new Float32Array(this.params[i].size);
    s[name] = created;
    return [created, true];
  }

  /**
   * A snapshot of the optimizer: hyperparameters (including the current `lr`), per-param
   * step counts and copies of the state buffers.
   *
   * @example
   * ```ts
   * const saved = opt.stateDict();
   * // … later, a fresh optimizer over a fresh model's parameters:
   * fresh.loadStateDict(saved); // resumes exactly where `opt` was
   * ```
   */
  stateDict(): OptimizerState {
    const buffers: Record<string, Tensor> = {};
    this.state.forEach((s, i) => {
      for (const [name, b] of Object.entries(s)) buffers[`${i}.${name}`] = new Tensor(b.slice(), this.params[i].shape.slice());
    });
    return { hyper: this.getHyper(), step: this.steps.slice(), buffers };
  }

  /**
   * Restores a {@link stateDict}. Everything is checked first (hyperparameter names and
   * types, one step count per parameter, buffer names, indices and shapes, and that each
   * updated parameter has all its buffers); any problem throws an OptionError (ShapeError
   * for a shape) naming it, and leaves the optimizer unchanged.
   */
  loadStateDict(s: OptimizerState): void {
    const op = `${this.constructor.name}.loadStateDict`;
    if (typeof s !== 'object' || s === null || typeof s.hyper !== 'object' || !Array.isArray(s.step) || typeof s.buffers !== 'object') {
      throw new OptionError(`${op}: expected { hyper, step, buffers }, got ${typeof s}`);
    }
    const own = this.getHyper();
    const missing = Object.keys(own).filter((k) => !(k in s.hyper));
    const unexpected = Object.keys(s.hyper).filter((k) => !(k in own));
    if (missing.length || unexpected.length) {
      throw new OptionError(`${op}: hyperparameters differ: missing ${JSON.stringify(missing)}, unexpected ${JSON.stringify(unexpected)}`);
    }
    for (const [k, v] of Object.entries(own)) {
      const w = s.hyper[k];
      const ok = Array.isArray(v)
        ? Array.isArray(w) && w.length === v.length && w.every((x) => typeof x === 'number' && Number.isFinite(x))
        : typeof w === typeof v && (typeof w !== 'number' || Number.isFinite(w));
      if (!ok) throw new OptionError(`${op}: hyperparameter '${k}' should be like ${JSON.stringify(v)}, got ${JSON.stringify(w)}`);
    }
    const n = this.params.length;
    if (s.step.length !== n || !s.step.every((t) => Number.isInteger(t) && t >= 0)) {
      throw new OptionError(`${op}: expected ${n} non-negative integer step counts, got ${JSON.stringify(s.step)}`);
    }
    const names = this.bufferNames(s.hyper);
    const state: Array<Record<string, Float32Array>> = this.params.map(() => ({}));
    for (const [key, t] of Object.entries(s.buffers)) {
      const m = /^(\d+)\.(.+)$/.exec(key);
      const i = m ? Number(m[1]) : -1;
      if (!m || i >= n || !names.includes(m[2])) {
        throw new OptionError(`${op}: unexpected buffer '${key}' (expected <index < ${n}>.<${names.join('|') || 'no buffers'}>)`);
      }
      if (!(t instanceof Tensor) || t.size !== this.params[i].size) {
        throw new ShapeError(`${op}: buffer '${key}' should have the shape of parameter ${i} ${fmtShape(this.params[i].shape)}, got ${t instanceof Tensor ? fmtShape(t.shape) : typeof t}`);
      }
      state[i][m[2]] = t.data.slice();
    }
    for (let i = 0; i < n; i++) {
      const have = Object.keys(state[i]);
      if (s.step[i] > 0 && have.length !== names.length) {
        const lacking = names.filter((x) => !have.includes(x)).map((x) => `${i}.${x}`);
        throw new OptionError(`${op}: parameter ${i} has had ${s.step[i]} updates but the buffers ${lacking.join(', ')} are missing`);
      }
      if (s.step[i] === 0 && have.length > 0) throw new OptionError(`${op}: parameter ${i} has step 0 but has buffers ${have.map((x) => `${i}.${x}`).join(', ')}`);
    }
    this.setHyper(s.hyper);
    for (let i = 0; i < n; i++) {
      this.steps[i] = s.step[i];
      this.state[i] = state[i];
    }
  }
}

/** Throws an OptionError unless v is a finite number ≥ 0. */
export function checkNonNegative(v: number, name: string, op: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new OptionError(`${op}: ${name} must be a finite number ≥ 0, got ${v}`);
}
