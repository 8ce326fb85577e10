/**
 * Weight initialisation as in `torch.nn.init`, each drawing from an explicit `Rng` (there is
 * no module-level generator: randomness is always passed in).
 */
import { OptionError, ShapeError, fmtShape } from '../errors';
import { Rng } from '../rng';
import { type Shape, checkShape, sizeOf } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';

/**
 * The `rng` of a layer's options, checked at run time too: spikessl has no module-level
 * generator (unlike `torch.manual_seed`), so every layer that draws weights or masks is given
 * its `Rng` — a caller from plain JavaScript who leaves it out gets this error, not weights
 * from a hidden global stream.
 */
export function requireRng(options: { rng?: unknown } | undefined, op: string): Rng {
  const rng = options?.rng;
  if (!(rng instanceof Rng)) {
    const got = rng === undefined ? (options === undefined ? 'no options' : 'no rng') : `rng = ${describe(rng)}`;
    throw new OptionError(`${op}: options.rng must be an Rng (e.g. { rng: new Rng(0) }), got ${got}`);
  }
  return rng;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

/**
 * fan_in and fan_out of a weight as PyTorch computes them: for [out, in, ...kernel],
 * fan_in = in · ∏kernel and fan_out = out · ∏kernel. Needs at least two dimensions.
 */
export function fanInOut(shape: Shape): { fanIn: number; fanOut: number } {
  if (shape.length < 2) {
    throw new ShapeError(`fanInOut: fan in and fan out need a tensor with at least 2 dimensions, got ${fmtShape(shape)}`);
  }
  const receptive = sizeOf(shape.slice(2));
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

/** Nonlinearities known to {@link calculateGain}. */
export type Nonlinearity = 'linear' | 'conv1d' | 'conv2d' | 'conv3d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';

/**
 * The recommended gain for a nonlinearity (torch.nn.init.calculate_gain): 1 for linear,
 * conv and sigmoid, 5/3 for tanh, √2 for relu, √(2/(1 + a²)) for leaky_relu with negative
 * slope `a` (default 0.01), 3/4 for selu.
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv1d':
    case 'conv2d':
    case 'conv3d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const a = param ?? 0.01;
      if (!Number.isFinite(a)) throw new OptionError(`calculateGain: negative slope must be a finite number, got ${a}`);
      return Math.sqrt(2 / (1 + a * a));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new OptionError(`calculateGain: unknown nonlinearity '${String(nonlinearity)}'`);
  }
}

/** Options of {@link kaimingUniform} and {@link kaimingNormal} (PyTorch's defaults). */
export interface KaimingOptions {
  /** Negative slope of the leaky ReLU that follows (only used with 'leaky_relu'). Default 0. */
  a?: number;
  /** 'fanIn' (default) preserves the forward variance, 'fanOut' the backward one. */
  mode?: 'fanIn' | 'fanOut';
  /** Default 'leaky_relu', which with a = 0 gives gain √2. */
  nonlinearity?: Nonlinearity;
}

/** Options of {@link xavierUniform}. */
export interface XavierOptions {
  /** Default 1. */
  gain?: number;
}

function target(t: Tensor | Shape, op: string): Tensor {
  if (t instanceof Tensor) return t;
  checkShape(t, op);
  return new Tensor(new Float32Array(sizeOf(t)), t.slice());
}

function kaimingStd(shape: Shape, options: KaimingOptions, op: string): number {
  const mode = options.mode ?? 'fanIn';
  if (mode !== 'fanIn' && mode !== 'fanOut') throw new OptionError(`${op}: mode must be 'fanIn' or 'fanOut', got '${String(mode)}'`);
  const { fanIn, fanOut } = fanInOut(shape);
  const fan = mode === 'fanIn' ? fanIn : fanOut;
  if (fan === 0) throw new ShapeError(`${op}: cannot initialise a tensor with zero fan (${fmtShape(shape)})`);
  return calculateGain(options.nonlinearity ?? 'leaky_relu', options.a ?? 0) / Math.sqrt(fan);
}

/** Fills `t` with U(−bound, bound) in row-major order. */
export function uniformFill(t: Tensor, bound: number, rng: Rng): Tensor {
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = rng.uniformRange(-bound, bound);
  return t;
}

/**
 * He (Kaiming) uniform initialisation: U(−b, b) with b = gain·√(3/fan), fan = fan_in
 * (or fan_out), gain from {@link calculateGain}. Given a tensor it fills it in place (as
 * `torch.nn.init.kaiming_uniform_`); given a shape it returns a new tensor.
 *
 * `nn.Linear` and `nn.Conv2d` use a = √5, which makes b = 1/√fan_in.
 *
 * @example
 * ```ts
 * const w = kaimingUniform([512, 784], new Rng(0), { a: Math.sqrt(5) }); // U(±1/√784)
 * ```
 */
export function kaimingUniform(t: Tensor | Shape, rng: Rng, options: KaimingOptions = {}): Tensor {
  const out = target(t, 'kaimingUniform');
  if (out.size === 0) return out; // as PyTorch: initialising an empty tensor is a no-op
  return uniformFill(out, Math.sqrt(3) * kaimingStd(out.shape, options, 'kaimingUniform'), rng);
}

/**
 * He (Kaiming) normal initialisation: N(0, std²) with std = gain/√fan. Fills a tensor in
 * place or returns a new one of the given shape.
 *
 * @example
 * ```ts
 * const w = kaimingNormal([16, 1, 3, 3], new Rng(0), { nonlinearity: 'relu' }); // std √(2/9)
 * ```
 */
export function kaimingNormal(t: Tensor | Shape, rng: Rng, options: KaimingOptions = {}): Tensor {
  const out = target(t, 'kaimingNormal');
  if (out.size === 0) return out;
  const std = kaimingStd(out.shape, options, 'kaimingNormal');
  const d = out.data;
  for (let i = 0; i < d.length; i++) d[i] = std * rng.normal();
  return out;
}

/**
 * Glorot (Xavier) uniform initialisation: U(−b, b) with b = gain·√(6/(fan_in + fan_out)).
 * Fills a tensor in place or returns a new one of the given shape.
 *
 * @example
 * ```ts
 * const w = xavierUniform([128, 512], new Rng(0)); // U(±√(6/640))
 * ```
 */
export function xavierUniform(t: Tensor | Shape, rng: Rng, options: XavierOptions = {}): Tensor {
  const out = target(t, 'xavierUniform');
  if (out.size === 0) return out;
  const { fanIn, fanOut } = fanInOut(out.shape);
  if (fanIn + fanOut === 0) throw new ShapeError(`xavierUniform: cannot initialise a tensor with zero fans (${fmtShape(out.shape)})`);
  const gain = options.gain ?? 1;
  return uniformFill(out, gain * Math.sqrt(6 / (fanIn + fanOut)), rng);
}
