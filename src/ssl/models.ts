/**
 * The networks of the method: spiking encoders (an MLP, the reference R1, and a small
 * convolutional one) whose output spikes [T, B, F] give the representation as a firing
 * rate, and the non-spiking projector the SSL loss sees.
 */
import { reshape } from '../autograd/functional';
import { OptionError, ShapeError, fmtShape } from '../errors';
import { Leaky } from '../neurons/modules';
import type { ResetMechanism } from '../neurons/lif';
import { type Surrogate, surrogateFromSpec, surrogateSpec } from '../neurons/surrogate';
import { Conv2d, Linear, MaxPool2d, ReLU, Sequential } from '../nn/layers';
import { Module } from '../nn/module';
import { requireRng } from '../nn/init';
import { BatchNorm1d, BatchNorm2d } from '../nn/norm';
import type { Rng } from '../rng';
import type { Tensor } from '../tensor/tensor';
import { type EncoderConfig, type ModelConfig, type NeuronConfig, NEURON_DEFAULTS, encoderConfig, modelConfig } from './config';

/** A spiking encoder: spikes [T, B, inputs] in, spikes [T, B, features] out. */
export interface SpikingEncoder extends Module {
  /** Size of the representation (the last layer's neurons). */
  readonly features: number;
  forward(x: Tensor): Tensor;
  /** The output spikes of every spiking layer, first to last (the last is the output). */
  forwardLayers(x: Tensor): Tensor[];
  /**
   * The architecture as plain data, from which {@link encoderFromConfig} builds a replica (with
   * other weights) — how a view runs on another thread; null or absent when it cannot be
   * described so (e.g. a custom surrogate).
   */
  spec?(): EncoderConfig | null;
}

/**
 * Builds an encoder of the architecture `config` describes, with fresh weights from `rng` (a
 * replica on another thread, or a model about to load saved weights, passes any generator: its
 * weights are overwritten).
 */
export function encoderFromConfig(config: EncoderConfig, rng: Rng): SpikingEncoder {
  const n = config.neuron;
  const neuronOptions = { beta: n.beta, threshold: n.threshold, reset: n.reset, surrogate: surrogateFromSpec(n.surrogate), rng };
  if (config.kind === 'mlp') return new SpikingMlp({ ...neuronOptions, inputs: config.inputs, hidden: config.hidden, batchNorm: config.batchNorm });
  if (config.kind === 'conv') return new SpikingConvNet({ ...neuronOptions, channels: config.channels, features: config.features, batchNorm: config.batchNorm });
  throw new OptionError(`encoderFromConfig: unknown encoder kind '${(config as { kind: string }).kind}', expected 'mlp' or 'conv'`);
}

/** The neuron part of an encoder's config, or null when the surrogate is a custom one. */
function neuronSpec(o: NeuronOptions): NeuronConfig | null {
  const surrogate = surrogateSpec(o.surrogate ?? defaultSurrogate());
  const d = NEURON_DEFAULTS;
  return surrogate && { beta: o.beta ?? d.beta, threshold: o.threshold ?? d.threshold, reset: o.reset ?? d.reset, surrogate: surrogate as NeuronConfig['surrogate'] };
}

function defaultSurrogate(): Surrogate {
  return surrogateFromSpec(NEURON_DEFAULTS.surrogate);
}

/** Neuron settings shared by the encoders; absent ones take {@link NEURON_DEFAULTS} (snnTorch's but β). */
export interface NeuronOptions {
  /** Membrane decay β. Default 0.9. */
  beta?: number;
  /** Firing threshold θ. Default 1. */
  threshold?: number;
  /** Default 'subtract'. */
  reset?: ResetMechanism;
  /** Default atan({ alpha: 2 }). */
  surrogate?: Surrogate;
}

/** Options of {@link SpikingMlp}. */
export interface SpikingMlpOptions extends NeuronOptions {
  /** Input size. Default 784 (a 28×28 image). */
  inputs?: number;
  /** Neurons per hidden layer. Default [512, 512] (the reference R1). */
  hidden?: readonly number[];
  /**
   * Normalise each layer's input current with BatchNorm1d (statistics over T × batch) before
   * its LIF neurons, so deeper layers do not start silent. Default false.
   */
  batchNorm?: boolean;
  /** Generator for the initial weights (required). */
  rng: Rng;
}

/**
 * Spiking MLP: Linear → [BatchNorm1d] → Leaky per hidden layer. With the defaults it is the
 * reference architecture R1 (784 → 512 → 512, β = 0.9, θ = 1, subtract reset, atan(2)).
 * Children are named `fc1`, `bn1`, `lif1`, `fc2`, … in the state dict.
 *
 * @example
 * ```ts
 * const encoder = new SpikingMlp({ rng: new Rng(0) });
 * const spikes = encoder.forward(poisson(images, { steps: 8, rng })); // [8, B, 512]
 * ```
 */
export class SpikingMlp extends Module implements SpikingEncoder {
  readonly features: number;
  private readonly stages: Array<{ fc: Linear; bn: BatchNorm1d | null; lif: Leaky }> = [];
  private readonly architecture: EncoderConfig | null;

  constructor(options: SpikingMlpOptions) {
    super();
    requireRng(options, 'SpikingMlp');
    const inputs = options.inputs ?? 784;
    const hidden = options.hidden ?? [512, 512];
    if (hidden.length === 0) throw new OptionError('SpikingMlp: hidden must list at least one layer size');
    if (!hidden.every((h) => Number.isInteger(h) && h >= 1)) throw new OptionError(`SpikingMlp: hidden layer sizes must be integers ≥ 1, got [${hidden.join(', ')}]`);
    const neurons = neuronSpec(options);
    this.architecture = neurons && { kind: 'mlp', inputs, hidden: [...hidden], batchNorm: options.batchNorm ?? false, neuron: neurons };
    let fanIn = inputs;
    hidden.forEach((h, i) => {
      const fc = this.registerModule(`fc${i + 1}`, new Linear(fanIn, h, { rng: options.rng }));
      const bn = options.batchNorm ? this.registerModule(`bn${i + 1}`, new BatchNorm1d(h)) : null;
      const lif = this.registerModule(`lif${i + 1}`, neuron(options));
      this.stages.push({ fc, bn, lif });
      fanIn = h;
    });
    this.features = fanIn;
  }

  forwardLayers(x: Tensor): Tensor[] {
    const inputs = this.stages[0].fc.inFeatures;
    if (x.ndim !== 3 || x.shape[2] !== inputs) throw notSpikes('SpikingMlp', x, `[T, B, ${inputs}]`);
    const out: Tensor[] = [];
    let s = x;
    for (const { fc, bn, lif } of this.stages) {
      let current = fc.forward(s);
      if (bn) current = bn.forward(current);
      s = lif.forward(current);
      out.push(s);
    }
    return out;
  }

  forward(x: Tensor): Tensor {
    const layers = this.forwardLayers(x);
    return layers[layers.length - 1];
  }

  /** The architecture as plain data; null for a subclass (it may compute differently) or a custom surrogate. */
  spec(): EncoderConfig | null {
    return this.constructor === SpikingMlp ? this.architecture : null;
  }
}

/** The error for an input that is not time-first spikes, e.g. a batch of images [B, 784] given without encoding. */
function notSpikes(name: string, x: Tensor, expected: string): ShapeError {
  const hint = x.ndim === 2 ? ' (a batch of images? encode it first, e.g. poisson(x, { steps, rng }))' : '';
  return new ShapeError(`${name}.forward: expected time-first spikes ${expected}, got ${fmtShape(x.shape)}${hint}`);
}

function neuron(o: NeuronOptions): Leaky {
  const d = NEURON_DEFAULTS;
  return new Leaky({ beta: o.beta ?? d.beta, threshold: o.threshold ?? d.threshold, reset: o.reset ?? d.reset, surrogate: o.surrogate ?? defaultSurrogate() });
}

/** Options of {@link SpikingConvNet}. */
export interface SpikingConvOptions extends NeuronOptions {
  /** Output channels of the two convolutions. Default [32, 64]. */
  channels?: readonly [number, number];
  /** Size of the representation. Default 512. */
  features?: number;
  /** BatchNorm on every input current (statistics over T × batch). Default true. */
  batchNorm?: boolean;
  /** Generator for the initial weights (required). */
  rng: Rng;
}

/**
 * Convolutional spiking encoder for 28×28 images: (Conv 5×5 → MaxPool 2 → [BN] → Leaky) × 2 →
 * Linear → [BN] → Leaky. The input current is pooled before the neurons, which is cheaper than
 * pooling spikes. Input spikes [T, B, 784] or [T, B, 1, 28, 28].
 */
export class SpikingConvNet extends Module implements SpikingEncoder {
  readonly features: number;
  // Declaration order is state-dict order: conv1, bn1, lif1, conv2, bn2, lif2, fc, bn3, lif3.
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d | null;
  readonly lif1: Leaky;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d | null;
  readonly lif2: Leaky;
  readonly fc: Linear;
  readonly bn3: BatchNorm1d | null;
  readonly lif3: Leaky;
  private readonly pool = new MaxPool2d(2);
  private readonly architecture: EncoderConfig | null;

  constructor(options: SpikingConvOptions) {
    super();
    requireRng(options, 'SpikingConvNet');
    const [c1, c2] = options.channels ?? [32, 64];
    this.features = options.features ?? 512;
    const bn = options.batchNorm ?? true;
    const neurons = neuronSpec(options);
    this.architecture = neurons && { kind: 'conv', channels: [c1, c2], features: this.features, batchNorm: bn, neuron: neurons };
    this.conv1 = new Conv2d(1, c1, 5, { padding: 2, rng: options.rng });
    this.bn1 = bn ? new BatchNorm2d(c1) : null;
    this.lif1 = neuron(options);
    this.conv2 = new Conv2d(c1, c2, 5, { padding: 2, rng: options.rng });
    this.bn2 = bn ? new BatchNorm2d(c2) : null;
    this.lif2 = neuron(options);
    this.fc = new Linear(c2 * 7 * 7, this.features, { rng: options.rng });
    this.bn3 = bn ? new BatchNorm1d(this.features) : null;
    this.lif3 = neuron(options);
  }

  forwardLayers(x: Tensor): Tensor[] {
    const flat = x.ndim === 3 && x.shape[2] === 784;
    if (!flat && !(x.ndim === 5 && x.shape[2] === 1 && x.shape[3] === 28 && x.shape[4] === 28)) throw notSpikes('SpikingConvNet', x, '[T, B, 784] or [T, B, 1, 28, 28]');
    const [T, B] = x.shape;
    const s = x.ndim === 3 ? reshape(x, [T, B, 1, 28, 28]) : x;
    let cur = this.pool.forward(this.conv1.forward(s));
    if (this.bn1) cur = this.bn1.forward(cur);
    const s1 = this.lif1.forward(cur);
    cur = this.pool.forward(this.conv2.forward(s1));
    if (this.bn2) cur = this.bn2.forward(cur);
    const s2 = this.lif2.forward(cur);
    cur = this.fc.forward(reshape(s2, [T, B, -1]));
    if (this.bn3) cur = this.bn3.forward(cur);
    const s3 = this.lif3.forward(cur);
    return [s1, s2, s3];
  }

  forward(x: Tensor): Tensor {
    return this.forwardLayers(x)[2];
  }

  /** The architecture as plain data; null for a subclass (it may compute differently) or a custom surrogate. */
  spec(): EncoderConfig | null {
    return this.constructor === SpikingConvNet ? this.architecture : null;
  }
}

/**
 * The non-spiking projector of the SSL loss: Linear(F, D) → BatchNorm1d → ReLU → Linear(D, D),
 * a Sequential (state-dict names `0.weight`, `1.running_mean`, `3.bias`, …).
 */
export function projector(features: number, dim: number, options: { rng: Rng }): Sequential {
  return new Sequential(new Linear(features, dim, { rng: options.rng }), new BatchNorm1d(dim), new ReLU(), new Linear(dim, dim, { rng: options.rng }));
}

/** The encoder and projector as one module, so one state dict names them `encoder.*` and `projector.*`. */
export class SSLModel extends Module {
  constructor(
    readonly encoder: SpikingEncoder,
    readonly projector: Sequential,
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return this.encoder.forward(x);
  }
}

/**
 * Builds the model a config describes, with weights drawn from `rng` (what `spikessl train`
 * trains and saves); absent fields take their defaults (see `modelConfig`).
 */
export function buildModel(config: Partial<ModelConfig>, rng: Rng): SSLModel {
  const encoder = encoderFromConfig(encoderConfig(config), rng);
  return new SSLModel(encoder, projector(encoder.features, modelConfig(config).projDim, { rng }));
}

/**
 * The name and shape of every tensor in the state dict of {@link buildModel}'s model for
 * `config`, computed without building it: a model file's tensors are checked against these
 * before any weights are allocated.
 */
export function modelStateShapes(partial: Partial<ModelConfig>): Map<string, number[]> {
  const config = modelConfig(partial);
  const shapes = new Map<string, number[]>();
  const norm = (prefix: string, n: number) => {
    for (const k of ['weight', 'bias', 'running_mean', 'running_var']) shapes.set(`${prefix}.${k}`, [n]);
    shapes.set(`${prefix}.num_batches_tracked`, []);
  };
  const lif = (prefix: string) => {
    shapes.set(`${prefix}.beta`, []);
    shapes.set(`${prefix}.threshold`, []);
  };
  const layer = (prefix: string, weight: number[]) => {
    shapes.set(`${prefix}.weight`, weight);
    shapes.set(`${prefix}.bias`, [weight[0]]);
  };
  const e = encoderConfig(config);
  if (e.kind === 'mlp') {
    let fanIn = e.inputs;
    e.hidden.forEach((h, i) => {
      layer(`encoder.fc${i + 1}`, [h, fanIn]);
      if (e.batchNorm) norm(`encoder.bn${i + 1}`, h);
      lif(`encoder.lif${i + 1}`);
      fanIn = h;
    });
  } else {
    const [c1, c2] = e.channels;
    layer('encoder.conv1', [c1, 1, 5, 5]);
    if (e.batchNorm) norm('encoder.bn1', c1);
    lif('encoder.lif1');
    layer('encoder.conv2', [c2, c1, 5, 5]);
    if (e.batchNorm) norm('encoder.bn2', c2);
    lif('encoder.lif2');
    layer('encoder.fc', [e.features, c2 * 7 * 7]);
    if (e.batchNorm) norm('encoder.bn3', e.features);
    lif('encoder.lif3');
  }
  const F = e.kind === 'mlp' ? e.hidden[e.hidden.length - 1] : e.features;
  layer('projector.0', [config.projDim, F]);
  norm('projector.1', config.projDim);
  layer('projector.3', [config.projDim, config.projDim]);
  return shapes;
}
