/**
 * Layers that mirror `torch.nn`: same constructor arguments, same parameter names and
 * layouts, same default initialisation, so a state dict maps one to one onto PyTorch.
 * Stateless layers fold every leading axis into the batch: given a spike train
 * [T, B, ...] they compute all T steps at once and return [T, B, ...].
 */
import * as F from '../autograd/functional';
import { OptionError } from '../errors';
import type { Rng } from '../rng';
import { type Pair, toPair } from '../tensor/conv';
import { checkSize } from '../tensor/shape';
import { Tensor } from '../tensor/tensor';
import { avgPool2d, conv2d, dropout, flatten, linear, maxPool2d } from './functional';
import { kaimingUniform, requireRng, uniformFill } from './init';
import { Module, Parameter } from './module';

function checkCount(v: number, name: string, op: string): void {
  if (!Number.isInteger(v) || v < 0) throw new OptionError(`${op}: ${name} must be a non-negative integer, got ${v}`);
}

/** Options of {@link Linear}. */
export interface LinearOptions {
  /** Learn an additive bias. Default true. */
  bias?: boolean;
  /** Generator for the initial weights (required: spikessl has no hidden default generator). */
  rng: Rng;
}

/**
 * y = x·Wᵀ + b with weight [out, in] and bias [out], as `torch.nn.Linear`. Initialised as
 * PyTorch does: W ~ U(±1/√in) (Kaiming uniform with a = √5), b ~ U(±1/√in), weight drawn
 * first. The input is [..., in]; every leading axis is batch (one GEMM for [T, B, in]).
 *
 * @example
 * ```ts
 * const fc = new Linear(784, 512, { rng: new Rng(0) });
 * const y = fc.forward(spikes); // [T, B, 784] → [T, B, 512]
 * ```
 */
export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions,
  ) {
    super();
    checkCount(inFeatures, 'inFeatures', 'Linear');
    checkCount(outFeatures, 'outFeatures', 'Linear');
    checkSize([outFeatures, inFeatures], 'Linear: weight [out, in]');
    const rng = requireRng(options, 'Linear');
    this.weight = Parameter.from(kaimingUniform([outFeatures, inFeatures], rng, { a: Math.sqrt(5) }));
    this.bias = (options.bias ?? true) ? Parameter.from(uniformFill(new Tensor(new Float32Array(outFeatures), [outFeatures]), inFeatures > 0 ? 1 / Math.sqrt(inFeatures) : 0, rng)) : null;
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}

/** Options of {@link Conv2d}. */
export interface Conv2dLayerOptions {
  /** Default 1. */
  stride?: Pair;
  /** Zeros added on each side. Default 0. */
  padding?: Pair;
  /** Default true. */
  bias?: boolean;
  /** Generator for the initial weights (required: spikessl has no hidden default generator). */
  rng: Rng;
}

/**
 * 2-D convolution (cross-correlation) as `torch.nn.Conv2d`: weight [out, in, kh, kw], bias
 * [out], both ~ U(±1/√(in·kh·kw)) as PyTorch initialises them. Input [N, C, H, W],
 * time-folded [T, N, C, H, W] or unbatched [C, H, W]; the leading axes are kept.
 *
 * @example
 * ```ts
 * const conv = new Conv2d(1, 16, 3, { padding: 1, rng: new Rng(0) });
 * const y = conv.forward(x); // [T, N, 1, 28, 28] → [T, N, 16, 28, 28]
 * ```
 */
export class Conv2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    options: Conv2dLayerOptions,
  ) {
    super();
    checkCount(inChannels, 'inChannels', 'Conv2d');
    checkCount(outChannels, 'outChannels', 'Conv2d');
    this.kernelSize = toPair(kernelSize, 'kernel size', 'Conv2d', 1);
    this.stride = toPair(options.stride ?? 1, 'stride', 'Conv2d', 1);
    this.padding = toPair(options.padding ?? 0, 'padding', 'Conv2d', 0);
    checkSize([outChannels, inChannels, ...this.kernelSize], 'Conv2d: weight [out, in, kh, kw]');
    const rng = requireRng(options, 'Conv2d');
    const fanIn = inChannels * this.kernelSize[0] * this.kernelSize[1];
    this.weight = Parameter.from(kaimingUniform([outChannels, inChannels, ...this.kernelSize], rng, { a: Math.sqrt(5) }));
    this.bias = (options.bias ?? true) ? Parameter.from(uniformFill(new Tensor(new Float32Array(outChannels), [outChannels]), fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0, rng)) : null;
  }

  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding });
  }
}

/** Options of {@link MaxPool2d}. */
export interface MaxPool2dLayerOptions {
  /** Default: the kernel size. */
  stride?: Pair;
  /** −∞ added on each side, at most half the kernel. Default 0. */
  padding?: Pair;
}

/**
 * Max pooling over the last two axes, as `torch.nn.MaxPool2d` (the gradient goes to the
 * first maximum of each window). Accepts [N, C, H, W] and [T, N, C, H, W].
 *
 * @example
 * ```ts
 * const pool = new MaxPool2d(2);
 * pool.forward(zeros([4, 8, 16, 28, 28])).shape; // [4, 8, 16, 14, 14]
 * ```
 */
export class MaxPool2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];

  constructor(kernelSize: Pair, options: MaxPool2dLayerOptions = {}) {
    super();
    this.kernelSize = toPair(kernelSize, 'kernel size', 'MaxPool2d', 1);
    this.stride = toPair(options.stride ?? kernelSize, 'stride', 'MaxPool2d', 1);
    this.padding = toPair(options.padding ?? 0, 'padding', 'MaxPool2d', 0);
  }

  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding });
  }
}

/** Options of {@link AvgPool2d}. */
export interface AvgPool2dLayerOptions extends MaxPool2dLayerOptions {
  /** Divide by kh·kw even over padding (default true, as PyTorch). */
  countIncludePad?: boolean;
}

/**
 * Average pooling over the last two axes, as `torch.nn.AvgPool2d`. Accepts [N, C, H, W]
 * and [T, N, C, H, W].
 *
 * @example
 * ```ts
 * const pool = new AvgPool2d(2);
 * ```
 */
export class AvgPool2d extends Module {
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly countIncludePad: boolean;

  constructor(kernelSize: Pair, options: AvgPool2dLayerOptions = {}) {
    super();
    this.kernelSize = toPair(kernelSize, 'kernel size', 'AvgPool2d', 1);
    this.stride = toPair(options.stride ?? kernelSize, 'stride', 'AvgPool2d', 1);
    this.padding = toPair(options.padding ?? 0, 'padding', 'AvgPool2d', 0);
    this.countIncludePad = options.countIncludePad ?? true;
  }

  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding, countIncludePad: this.countIncludePad });
  }
}

/** Options of {@link Dropout}. */
export interface DropoutOptions {
  /** Generator for the masks (required: spikessl has no hidden default generator). */
  rng: Rng;
}

/**
 * Inverted dropout, as `torch.nn.Dropout`: in training mode zeroes each element with
 * probability p and scales the rest by 1/(1 − p); identity in eval mode.
 *
 * @example
 * ```ts
 * const drop = new Dropout(0.1, { rng: new Rng(0) });
 * drop.eval(); // now the identity
 * ```
 */
export class Dropout extends Module {
  private readonly rng: Rng;

  constructor(
    readonly p = 0.5,
    options: DropoutOptions,
  ) {
    super();
    if (!(p >= 0 && p <= 1)) throw new OptionError(`Dropout: p must be in [0, 1], got ${p}`);
    this.rng = requireRng(options, 'Dropout');
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training, this.rng);
  }
}

/**
 * Merges axes startDim..endDim into one, as `torch.nn.Flatten` (default from axis 1).
 * For time-folded input use `new Flatten(-3)`, which flattens [..., C, H, W] whatever the
 * leading axes.
 *
 * @example
 * ```ts
 * new Flatten(-3).forward(zeros([4, 8, 32, 7, 7])).shape; // [4, 8, 1568]
 * ```
 */
export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }
}

/**
 * max(x, 0), as `torch.nn.ReLU`.
 *
 * @example
 * ```ts
 * const rng = new Rng(0);
 * const net = new Sequential(new Linear(4, 8, { rng }), new ReLU(), new Linear(8, 2, { rng }));
 * ```
 */
export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return F.relu(x);
  }
}

/** A module whose forward maps one tensor to one tensor (what {@link Sequential} chains). */
export interface TensorModule extends Module {
  forward(x: Tensor): Tensor;
}

/**
 * Modules applied in order, as `torch.nn.Sequential`; the children are named "0", "1", …,
 * so parameter names read `0.weight`, `2.bias`.
 *
 * @example
 * ```ts
 * const rng = new Rng(0);
 * const net = new Sequential(new Linear(784, 512, { rng }), new ReLU(), new Linear(512, 10, { rng }));
 * net.namedParameters().map(([n]) => n); // ['0.weight', '0.bias', '2.weight', '2.bias']
 * ```
 */
export class Sequential extends Module {
  private readonly layers: TensorModule[];

  constructor(...modules: TensorModule[]) {
    super();
    modules.forEach((m, i) => this.registerModule(String(i), m));
    this.layers = modules;
  }

  /** Number of modules. */
  get length(): number {
    return this.layers.length;
  }

  /** The module at position i (negative counts from the end). */
  at(i: number): TensorModule {
    const m = this.layers.at(i);
    if (m === undefined) throw new OptionError(`Sequential.at: index ${i} is out of range for ${this.layers.length} modules`);
    return m;
  }

  forward(x: Tensor): Tensor {
    let y = x;
    for (let i = 0; i < this.layers.length; i++) {
      const out = this.layers[i].forward(y);
      if (!(out instanceof Tensor)) throw new OptionError(`Sequential: module ${i} (${this.layers[i].constructor.name}) did not return a Tensor`);
      y = out;
    }
    return y;
  }
}
