/**
 * `Module` and `Parameter`: the containers layers are built from, with PyTorch's naming,
 * so `stateDict()` keys (`encoder.fc1.weight`, `0.bias`, `bn.running_mean`) map one to one
 * onto a PyTorch module of the same structure.
 */
import { OptionError, ShapeError, fmtShape } from '../errors';
import { type Shape, shapesEqual } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';

/**
 * A trainable tensor: a leaf with `requiresGrad = true`. Modules find their parameters
 * by this class; optimizers update `data` in place.
 *
 * @example
 * ```ts
 * const w = new Parameter(new Float32Array(6), [2, 3]);
 * const b = Parameter.from(zeros([2])); // shares the tensor's data
 * ```
 */
export class Parameter extends Tensor {
  constructor(data: Float32Array, shape: Shape) {
    super(data, shape, { requiresGrad: true });
  }

  /** A parameter wrapping the data of `t` (not copied, as `torch.nn.Parameter(t)`). */
  static from(t: Tensor): Parameter {
    return new Parameter(t.data, t.shape.slice());
  }
}

/** Options of {@link Module.loadStateDict}. */
export interface LoadStateDictOptions {
  /** Throw when keys are missing or unexpected (default true). Shape mismatches always throw. */
  strict?: boolean;
}

/** What {@link Module.loadStateDict} did not match. */
export interface LoadStateDictResult {
  missing: string[];
  unexpected: string[];
}

function checkName(name: string, what: string): void {
  if (typeof name !== 'string' || name === '' || name.includes('.')) {
    throw new OptionError(`register${what}: a name must be a non-empty string without '.', got ${JSON.stringify(name)}`);
  }
}

/**
 * Base class of layers and models.
 *
 * A module's parameters and submodules are found two ways, both giving the names PyTorch
 * would give the same structure:
 * - **fields** holding a {@link Parameter} or a `Module` (class fields, in declaration
 *   order, like PyTorch's attribute assignment order): `fc1 = new Linear(784, 512, { rng })` is the
 *   child `fc1`;
 * - **explicit registration** with {@link registerParameter}, {@link registerModule} and
 *   {@link registerBuffer}, for names that are not field names (PyTorch's snake_case
 *   `running_mean`, `Sequential`'s `0`, `1`, …). Buffers are always registered.
 *
 * Explicitly registered entries come first, then fields (in own-property order), skipping
 * values already registered. `null` fields (an absent bias) are skipped, as PyTorch skips
 * `None`. Names are recomputed on each call, so reassigning a field is seen.
 *
 * @example
 * ```ts
 * const rng = new Rng(0);
 * class Mlp extends Module {
 *   fc1 = new Linear(784, 512, { rng });
 *   fc2 = new Linear(512, 10, { rng });
 *   forward(x: Tensor): Tensor {
 *     return this.fc2.forward(relu(this.fc1.forward(x)));
 *   }
 * }
 * const net = new Mlp();
 * net.namedParameters().map(([name]) => name); // ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']
 * ```
 */
export abstract class Module {
  /** Training mode (default) or evaluation mode; see {@link train} and {@link eval}. */
  training = true;
  private readonly registeredParams = new Map<string, Parameter>();
  private readonly registeredBuffers = new Map<string, Tensor>();
  private readonly registeredModules = new Map<string, Module>();

  /** The module's computation. Subclasses define its inputs and output. */
  // `any[]` so each layer can narrow it to its own signature, e.g. forward(x: Tensor): Tensor.
  abstract forward(...inputs: any[]): unknown;

  /** Registers `p` under `name` (returns it, so a field can hold it too). */
  registerParameter<P extends Parameter | null>(name: string, p: P): P {
    checkName(name, 'Parameter');
    this.checkFree(name, 'Parameter');
    if (p !== null) {
      if (!(p instanceof Parameter)) throw new OptionError(`registerParameter: '${name}' must be a Parameter`);
      this.registeredParams.set(name, p);
    }
    return p;
  }

  /**
   * Registers a buffer: state that is saved in the state dict but not trained (running
   * statistics). Returns it. Update a buffer in place (`buf.data[i] = …`); the registry
   * holds the tensor object.
   */
  registerBuffer<T extends Tensor>(name: string, t: T): T {
    checkName(name, 'Buffer');
    this.checkFree(name, 'Buffer');
    if (!(t instanceof Tensor)) throw new OptionError(`registerBuffer: '${name}' must be a Tensor`);
    this.registeredBuffers.set(name, t);
    return t;
  }

  /** Registers a submodule under `name` (returns it). */
  registerModule<M extends Module>(name: string, m: M): M {
    checkName(name, 'Module');
    this.checkFree(name, 'Module');
    if (!(m instanceof Module)) throw new OptionError(`registerModule: '${name}' must be a Module`);
    this.registeredModules.set(name, m);
    return m;
  }

  private checkFree(name: string, what: string): void {
    if (this.registeredParams.has(name) || this.registeredBuffers.has(name) || this.registeredModules.has(name)) {
      throw new OptionError(`register${what}: the name '${name}' is already registered on ${this.constructor.name}`);
    }
  }

  /** This module's own parameters (not its children's), registered first, then fields. */
  private ownParameters(): Array<[string, Parameter]> {
    return this.registeredThenFields(this.registeredParams, (v): v is Parameter => v instanceof Parameter);
  }

  /** The direct submodules with their names. */
  namedChildren(): Array<[string, Module]> {
    return this.registeredThenFields(this.registeredModules, (v): v is Module => v instanceof Module);
  }

  /** Entries of `registry`, then fields of the kind `is` accepts, each value and name once. */
  private registeredThenFields<V>(registry: Map<string, V>, is: (v: unknown) => v is V): Array<[string, V]> {
    const out: Array<[string, V]> = [...registry];
    const seen = new Set<V>(registry.values());
    for (const key of Object.keys(this)) {
      const v = (this as Record<string, unknown>)[key];
      if (is(v) && !seen.has(v) && !registry.has(key)) {
        out.push([key, v]);
        seen.add(v);
      }
    }
    return out;
  }

  /** The direct submodules. */
  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module (name `''`) and all its descendants, depth first, each once. */
  namedModules(prefix = ''): Array<[string, Module]> {
    const out: Array<[string, Module]> = [];
    const seen = new Set<Module>();
    const visit = (m: Module, name: string): void => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([name, m]);
      for (const [k, c] of m.namedChildren()) visit(c, name === '' ? k : `${name}.${k}`);
    };
    visit(this, prefix);
    return out;
  }

  /** This module and all its descendants. */
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /**
   * All parameters with dotted names (`encoder.fc1.weight`), own first, then each child's
   * in order. A parameter shared by several modules is listed once, under its first name.
   */
  namedParameters(): Array<[string, Parameter]> {
    const out: Array<[string, Parameter]> = [];
    const seen = new Set<Parameter>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [k, p] of m.ownParameters()) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([prefix === '' ? k : `${prefix}.${k}`, p]);
      }
    }
    return out;
  }

  /** All parameters, in the order of {@link namedParameters} (what an optimizer takes). */
  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** All buffers with dotted names (`bn.running_mean`). */
  namedBuffers(): Array<[string, Tensor]> {
    const out: Array<[string, Tensor]> = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [k, b] of m.registeredBuffers) out.push([prefix === '' ? k : `${prefix}.${k}`, b]);
    }
    return out;
  }

  /** Sets training mode on this module and every descendant. Returns this. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Sets evaluation mode (`train(false)`): dropout off, batch norm uses running statistics. Returns this. */
  eval(): this {
    return this.train(false);
  }

  /** Clears the gradient of every parameter (sets `.grad` to null, as PyTorch's default). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /**
   * Parameters and buffers by dotted name, in PyTorch's order (per module: parameters,
   * then buffers, then each child). The tensors share the module's data (detached from
   * the graph), as PyTorch's `state_dict()`; copy them to keep a snapshot.
   *
   * @example
   * ```ts
   * const sd = new Sequential(new Linear(2, 3, { rng: new Rng(0) }), new BatchNorm1d(3)).stateDict();
   * Object.keys(sd); // ['0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked']
   * ```
   */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    const visit = (m: Module, prefix: string, path: Set<Module>): void => {
      if (path.has(m)) throw new OptionError(`stateDict: module ${m.constructor.name} at '${prefix}' contains itself`);
      path.add(m);
      for (const [k, p] of m.ownParameters()) out[prefix + k] = p.detach();
      for (const [k, b] of m.registeredBuffers) out[prefix + k] = b.detach();
      for (const [k, c] of m.namedChildren()) visit(c, `${prefix}${k}.`, path);
      path.delete(m);
    };
    visit(this, '', new Set());
    return out;
  }

  /**
   * Copies parameters and buffers from `dict` (e.g. another model's `stateDict()` or a
   * decoded safetensors file) into this module's tensors, in place.
   *
   * Everything is checked before anything is copied: a shape mismatch throws a ShapeError,
   * and with `strict` (default) a missing or unexpected key throws an OptionError; each
   * error lists every offending key. With `strict: false` the missing and unexpected keys
   * are returned instead.
   *
   * @example
   * ```ts
   * const fresh = new Linear(4, 2, { rng: new Rng(1) });
   * fresh.loadStateDict(trained.stateDict()); // fresh now computes what trained computes
   * ```
   */
  loadStateDict(dict: Readonly<Record<string, Tensor>>, options: LoadStateDictOptions = {}): LoadStateDictResult {
    const strict = options.strict ?? true;
    const own = this.stateDict();
    const missing: string[] = [];
    const mismatched: string[] = [];
    for (const [k, t] of Object.entries(own)) {
      if (!Object.prototype.hasOwnProperty.call(dict, k)) missing.push(k);
      else {
        const src = dict[k];
        if (!(src instanceof Tensor)) mismatched.push(`${k}: expected a Tensor, got ${typeof src}`);
        else if (!shapesEqual(src.shape, t.shape)) mismatched.push(`${k}: expected ${fmtShape(t.shape)}, got ${fmtShape(src.shape)}`);
      }
    }
    const unexpected = Object.keys(dict).filter((k) => !Object.prototype.hasOwnProperty.call(own, k));
    const report = (): string =>
      [
        missing.length ? `missing keys: ${missing.join(', ')}` : '',
        unexpected.length ? `unexpected keys: ${unexpected.join(', ')}` : '',
        mismatched.length ? `shape mismatches: ${mismatched.join('; ')}` : '',
      ]
        .filter((s) => s !== '')
        .join('; ');
    if (mismatched.length > 0) throw new ShapeError(`loadStateDict into ${this.constructor.name}: ${report()}`);
    if (strict && (missing.length > 0 || unexpected.length > 0)) throw new OptionError(`loadStateDict into ${this.constructor.name}: ${report()}`);
    for (const [k, t] of Object.entries(own)) {
      if (Object.prototype.hasOwnProperty.call(dict, k)) t.data.set(dict[k].data);
    }
    return { missing, unexpected };
  }
}
