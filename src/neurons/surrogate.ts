/**
 * Surrogate gradients. A spiking neuron fires S = H(x) with x = U − θ and the Heaviside
 * step H(x) = 1 if x > 0 else 0 (strictly greater). H has no useful derivative, so the
 * backward pass uses a surrogate σ′(x): the derivative of a smooth function that stands
 * for H. A surrogate is a named, parameterised derivative. The built-in ones are listed in
 * {@link SURROGATES} by name, so a name and parameters (plain data, e.g. sent to another
 * thread or stored with a model) rebuild the same surrogate.
 */
import { OptionError } from '../errors';

/** A surrogate gradient: the forward spike function is always H(x) = [x > 0]. */
export interface Surrogate {
  /** Name, e.g. `'atan'`. */
  readonly name: string;
  /** Its parameters, e.g. `{ alpha: 2 }`. */
  readonly params: Readonly<Record<string, number>>;
  /** σ′(x), the derivative used in backward, at x = U − θ. */
  derivative(x: number): number;
}

/** The spike function of every surrogate: H(x) = 1 if x > 0 else 0. */
export function heaviside(x: number): number {
  return x > 0 ? 1 : 0;
}

function positive(name: string, key: string, v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) throw new OptionError(`${name}: ${key} must be a positive finite number, got ${v}`);
  return v;
}

/**
 * Arctangent surrogate (snnTorch's default): σ′(x) = (α/2) / (1 + (π·α·x/2)²), the
 * derivative of ½ + atan(π·α·x/2)/π.
 * @example
 * ```ts
 * const lif = new Leaky({ beta: 0.9, surrogate: atan({ alpha: 2 }) });
 * ```
 */
export function atan(options: { alpha?: number } = {}): Surrogate {
  const alpha = positive('atan', 'alpha', options.alpha ?? 2);
  const half = alpha / 2;
  const k = (Math.PI * alpha) / 2;
  return {
    name: 'atan',
    params: { alpha },
    derivative(x: number): number {
      const z = k * x;
      return half / (1 + z * z);
    },
  };
}

/** Fast sigmoid: σ′(x) = 1 / (1 + slope·|x|)², the derivative of x / (1 + slope·|x|). */
export function fastSigmoid(options: { slope?: number } = {}): Surrogate {
  const slope = positive('fastSigmoid', 'slope', options.slope ?? 25);
  return {
    name: 'fastSigmoid',
    params: { slope },
    derivative(x: number): number {
      const d = 1 + slope * Math.abs(x);
      return 1 / (d * d);
    },
  };
}

/**
 * Sigmoid: σ′(x) = slope·s·(1 − s) with s = 1/(1 + e^(−slope·x)), the derivative of s;
 * computed as slope·e^(−|z|)/(1 + e^(−|z|))² so it is finite for any x.
 */
export function sigmoid(options: { slope?: number } = {}): Surrogate {
  const slope = positive('sigmoid', 'slope', options.slope ?? 25);
  return {
    name: 'sigmoid',
    params: { slope },
    derivative(x: number): number {
      const e = Math.exp(-Math.abs(slope * x));
      const d = 1 + e;
      return (slope * e) / (d * d);
    },
  };
}

/**
 * Triangular: σ′(x) = max(0, 1 − |x|/width) / width, the derivative of the piecewise
 * quadratic ramp from 0 at x = −width to 1 at x = width.
 */
export function triangular(options: { width?: number } = {}): Surrogate {
  const width = positive('triangular', 'width', options.width ?? 1);
  return {
    name: 'triangular',
    params: { width },
    derivative(x: number): number {
      const v = 1 - Math.abs(x) / width;
      return v > 0 ? v / width : 0;
    },
  };
}

/**
 * Rectangular: σ′(x) = 1/width where |x| < width/2, else 0, the derivative of the linear
 * ramp clamp(x/width + ½, 0, 1).
 */
export function rectangular(options: { width?: number } = {}): Surrogate {
  const width = positive('rectangular', 'width', options.width ?? 1);
  const half = width / 2;
  const h = 1 / width;
  return {
    name: 'rectangular',
    params: { width },
    derivative(x: number): number {
      return Math.abs(x) < half ? h : 0;
    },
  };
}

/** Straight-through estimator: σ′(x) = 1 (the gradient passes the step unchanged). */
export function straightThrough(): Surrogate {
  return { name: 'straightThrough', params: {}, derivative: () => 1 };
}

/** Each built-in surrogate's options. */
export interface SurrogateOptions {
  atan: { alpha?: number };
  fastSigmoid: { slope?: number };
  sigmoid: { slope?: number };
  triangular: { width?: number };
  rectangular: { width?: number };
  straightThrough: Record<string, never>;
}

/** The names of the built-in surrogates. */
export type SurrogateName = keyof SurrogateOptions;

/** The built-in surrogates by name: every {@link SurrogateName} has its factory (checked by tsc). */
export const SURROGATES: { readonly [N in SurrogateName]: (options?: SurrogateOptions[N]) => Surrogate } = {
  atan,
  fastSigmoid,
  sigmoid,
  triangular,
  rectangular,
  straightThrough,
};

function isSurrogateName(name: string): name is SurrogateName {
  return Object.prototype.hasOwnProperty.call(SURROGATES, name);
}

/**
 * A user-defined surrogate from any derivative function. Its name must not be a built-in's
 * (those names always mean the built-in surrogate, see {@link surrogateSpec}).
 * @example
 * ```ts
 * const gauss = surrogate.custom('gaussian', (x) => Math.exp(-x * x / 0.5) / Math.sqrt(0.5 * Math.PI));
 * ```
 */
export function custom(name: string, derivative: (x: number) => number, params: Record<string, number> = {}): Surrogate {
  if (typeof derivative !== 'function') throw new OptionError(`custom surrogate ${name}: expected a derivative function, got ${typeof derivative}`);
  if (isSurrogateName(name)) throw new OptionError(`custom surrogate: '${name}' is the name of a built-in surrogate; give yours another name`);
  return { name, params: { ...params }, derivative };
}

/**
 * Name and params of a built-in surrogate — one named in {@link SURROGATES} — enough to rebuild
 * it elsewhere (another thread, a model file); null for any other (a {@link custom} one).
 */
export function surrogateSpec(s: Surrogate): { name: SurrogateName; params: Record<string, number> } | null {
  return isSurrogateName(s.name) ? { name: s.name, params: { ...s.params } } : null;
}

/** Rebuilds a built-in surrogate from {@link surrogateSpec}'s description; an unknown name or parameter is an OptionError. */
export function surrogateFromSpec(spec: { name: string; params: Readonly<Record<string, number>> }): Surrogate {
  const { name, params } = spec;
  if (!isSurrogateName(name)) throw new OptionError(`surrogateFromSpec: unknown surrogate '${name}', expected one of ${Object.keys(SURROGATES).join(', ')}`);
  const make = SURROGATES[name] as (options: Readonly<Record<string, number>>) => Surrogate;
  const known = Object.keys(make({}).params);
  const unknown = Object.keys(params).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw new OptionError(`surrogateFromSpec: ${name} has no parameter ${unknown.join(', ')} (its parameters: ${known.join(', ') || 'none'})`);
  return make(params);
}
