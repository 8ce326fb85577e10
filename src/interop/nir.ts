/**
 * NIR (the Neuromorphic Intermediate Representation, `nir` 1.0.x) export and import: a trained
 * spiking encoder travels to snnTorch, Norse, SpikingJelly, Lava, Rockpool, … as a `.nir` file,
 * and a NIR graph of the nodes below runs here.
 *
 * A NIR file is HDF5 (./../io/hdf5): the root holds `version` (a string) and `node`, the graph.
 * A graph is a group with `type` = "NIRGraph", a group `nodes` of named node groups and `edges`,
 * a [E, 2] array of (from, to) name strings. Each node group has its `type` string and exactly
 * its class's fields (nir's reader rejects extra ones):
 *
 * | type       | fields (shape; dtype as written here)                                                 |
 * |------------|----------------------------------------------------------------------------------------|
 * | Input      | shape (int64 [d])                                                                      |
 * | Output     | shape (int64 [d])                                                                      |
 * | Affine     | weight (float32 [out, in]), bias (float32 [out]):  y = W·x + b                        |
 * | Linear     | weight (float32 [out, in])                                                             |
 * | Conv2d     | input_shape (int64 [2]), weight (float32 [out, in, kh, kw]), bias (float32 [out]),      |
 * |            | stride, padding, dilation (int64 [2]), groups (int64 scalar)                            |
 * | AvgPool2d, SumPool2d | kernel_size, stride, padding (int64 [2])                                     |
 * | Flatten    | input_type (int64 [d]), start_dim, end_dim (int64 scalars; axes of one sample)          |
 * | LIF        | tau, r, v_leak, v_threshold, v_reset (float32, each of the neurons' shape)              |
 * | IF         | r, v_threshold, v_reset (float32, the neurons' shape)                                   |
 *
 * LIF is continuous: τ·dv/dt = (v_leak − v) + r·I, a spike when v > v_threshold, then
 * v := v_reset. As snnTorch does, a discrete `Leaky` with decay β maps to it through a nominal
 * step dt = 1e-4 and Euler's rule v_t = v_{t−1} + (dt/τ)·(v_leak − v_{t−1} + r·I_t):
 *
 *   τ = dt/(1 − β),  r = τ/dt,  v_leak = 0   ⇒   v_t = β·v_{t−1} + I_t,
 *
 * and back, β = 1 − dt/τ with the input scaled by r·dt/τ (1 for such files). β = 1 is an IF
 * node (dv/dt = r·I). The reset NIR describes happens within the step: a neuron that spikes at t
 * starts t + 1 from v_reset. That is exactly `reset: 'zero'` here (U_{t+1} = β·(1 − S_t)·U_t +
 * I_{t+1}, S_t = [U_t > θ]) with v_reset = 0: a zero-reset encoder exports exactly, and spikes
 * of the imported network equal the encoder's (the membrane traces differ only in that ours
 * still shows the value that crossed θ).
 *
 * Not expressible in NIR, so refused unless `approximate: true` is given:
 * - subtract reset (U_t = β·U_{t−1} + I_t − θ·S_{t−1}): exported as a zero reset (v_reset = 0);
 *   a neuron then loses its charge above θ when it fires.
 * - max pooling (the conv encoder's): exported as AvgPool2d of the same window, the mean
 *   current of the window instead of its largest.
 * BatchNorm on the input current is folded, exactly in eval mode, into the layer before it:
 * y = a·(W·x + b − μ) + β_bn with a = γ/√(σ² + ε), so W' = a·W, b' = a·(b − μ) + β_bn (a per
 * output channel; the average pooling between a convolution and its BatchNorm commutes with it).
 */
import { DataFormatError, OptionError, ShapeError, fmtShape } from '../errors';
import { type Hdf5Dataset, type Hdf5Group, type Hdf5Node, hdf5Group, readHdf5, writeHdf5 } from '../io/hdf5';
import { mul, reshape } from '../autograd/functional';
import { Leaky } from '../neurons/modules';
import { AvgPool2d, Conv2d, Flatten, Linear } from '../nn/layers';
import { Module } from '../nn/module';
import { BatchNorm1d, BatchNorm2d } from '../nn/norm';
import { SSLModel, SpikingConvNet, SpikingMlp, type SpikingEncoder } from '../ssl/models';
import { Rng } from '../rng';
import { Tensor, tensor } from '../tensor/tensor';

/** The nominal time step of the β ↔ τ mapping (snnTorch's). */
export const NIR_DT = 1e-4;
/** The `version` written into NIR files: the `nir` release whose format this follows. */
export const NIR_VERSION = '1.0.7';

/** A numeric field: its shape and values (float32 as written; read files keep their float64). */
export interface NirArray {
  shape: number[];
  data: Float32Array | Float64Array;
}

export type NirNode =
  | { type: 'Input'; shape: number[] }
  | { type: 'Output'; shape: number[] }
  | { type: 'Affine'; weight: NirArray; bias: NirArray }
  | { type: 'Linear'; weight: NirArray }
  | { type: 'Conv2d'; inputShape: [number, number]; weight: NirArray; bias: NirArray; stride: [number, number]; padding: [number, number]; dilation: [number, number]; groups: number }
  | { type: 'AvgPool2d' | 'SumPool2d'; kernelSize: [number, number]; stride: [number, number]; padding: [number, number] }
  | { type: 'Flatten'; inputType: number[]; startDim: number; endDim: number }
  | { type: 'LIF'; tau: NirArray; r: NirArray; vLeak: NirArray; vThreshold: NirArray; vReset: NirArray }
  | { type: 'IF'; r: NirArray; vThreshold: NirArray; vReset: NirArray };

/** A NIR graph: named nodes and (from, to) edges. */
export interface NirGraph {
  nodes: Map<string, NirNode>;
  edges: Array<[string, string]>;
}

/** Options of {@link toNir}. */
export interface ToNirOptions {
  /**
   * Export what NIR cannot express with the documented approximations (subtract reset as a zero
   * reset, max pooling as average pooling) instead of refusing. Default false.
   */
  approximate?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Graph ↔ HDF5

const i64 = (values: readonly number[], shape?: number[]): Hdf5Dataset => ({ kind: 'dataset', dtype: 'int64', shape: shape ?? [values.length], data: BigInt64Array.from(values, (v) => BigInt(v)) });
const str = (s: string): Hdf5Dataset => ({ kind: 'dataset', dtype: 'string', shape: [], data: [s] });
const arr = (a: NirArray): Hdf5Dataset => ({ kind: 'dataset', dtype: a.data instanceof Float32Array ? 'float32' : 'float64', shape: [...a.shape], data: a.data });

function nodeGroup(n: NirNode): Hdf5Group {
  switch (n.type) {
    case 'Input':
    case 'Output':
      return hdf5Group({ type: str(n.type), shape: i64(n.shape) });
    case 'Affine':
      return hdf5Group({ type: str(n.type), weight: arr(n.weight), bias: arr(n.bias) });
    case 'Linear':
      return hdf5Group({ type: str(n.type), weight: arr(n.weight) });
    case 'Conv2d':
      return hdf5Group({
        type: str(n.type), input_shape: i64(n.inputShape), weight: arr(n.weight), bias: arr(n.bias),
        stride: i64(n.stride), padding: i64(n.padding), dilation: i64(n.dilation), groups: i64([n.groups], []),
      });
    case 'AvgPool2d':
    case 'SumPool2d':
      return hdf5Group({ type: str(n.type), kernel_size: i64(n.kernelSize), stride: i64(n.stride), padding: i64(n.padding) });
    case 'Flatten':
      return hdf5Group({ type: str(n.type), input_type: i64(n.inputType), start_dim: i64([n.startDim], []), end_dim: i64([n.endDim], []) });
    case 'LIF':
      return hdf5Group({ type: str(n.type), tau: arr(n.tau), r: arr(n.r), v_leak: arr(n.vLeak), v_threshold: arr(n.vThreshold), v_reset: arr(n.vReset) });
    case 'IF':
      return hdf5Group({ type: str(n.type), r: arr(n.r), v_threshold: arr(n.vThreshold), v_reset: arr(n.vReset) });
  }
}

/** Encodes a NIR graph as a NIR file (HDF5), laid out as `nir.write` lays it out. */
export function encodeNir(graph: NirGraph): Uint8Array {
  const nodes = new Map<string, Hdf5Node>();
  for (const [name, n] of graph.nodes) nodes.set(name, nodeGroup(n));
  const edges: Hdf5Dataset = { kind: 'dataset', dtype: 'string', shape: [graph.edges.length, 2], data: graph.edges.flat() };
  const root = hdf5Group({ version: str(NIR_VERSION), node: hdf5Group({ type: str('NIRGraph'), nodes: { kind: 'group', children: nodes }, edges }) });
  return writeHdf5(root);
}

const FIELDS: Record<NirNode['type'], string[]> = {
  Input: ['shape'],
  Output: ['shape'],
  Affine: ['weight', 'bias'],
  Linear: ['weight'],
  Conv2d: ['input_shape', 'weight', 'bias', 'stride', 'padding', 'dilation', 'groups'],
  AvgPool2d: ['kernel_size', 'stride', 'padding'],
  SumPool2d: ['kernel_size', 'stride', 'padding'],
  Flatten: ['input_type', 'start_dim', 'end_dim'],
  LIF: ['tau', 'r', 'v_leak', 'v_threshold', 'v_reset'],
  IF: ['r', 'v_threshold', 'v_reset'],
};
const KNOWN_ELSEWHERE = ['NIRGraph', 'Conv1d', 'Delay', 'I', 'LI', 'CubaLI', 'CubaLIF', 'Scale', 'Threshold'];

/** Reads one node group's fields strictly; `fail` prefixes the node's path. */
class NodeReader {
  constructor(
    private readonly g: Hdf5Group,
    private readonly fail: (what: string) => never,
  ) {}

  private dataset(name: string): Hdf5Dataset {
    const d = this.g.children.get(name);
    if (!d) return this.fail(`lacks its '${name}' field`);
    if (d.kind !== 'dataset') return this.fail(`field '${name}' is a group, expected a dataset`);
    return d;
  }

  string(name: string): string {
    const d = this.dataset(name);
    if (d.dtype !== 'string' || d.shape.length !== 0) this.fail(`field '${name}' must be a scalar string, got ${d.dtype} ${fmtShape(d.shape)}`);
    return (d.data as string[])[0];
  }

  floats(name: string): NirArray {
    const d = this.dataset(name);
    if (d.dtype !== 'float32' && d.dtype !== 'float64') this.fail(`field '${name}' must be float32 or float64, got ${d.dtype}`);
    if (d.data.length === 0) this.fail(`field '${name}' is empty`);
    return { shape: d.shape, data: d.data as Float32Array | Float64Array };
  }

  ints(name: string, rank: 0 | 1, length?: number): number[] {
    const d = this.dataset(name);
    if (d.dtype === 'string' || d.dtype === 'float32' || d.dtype === 'float64') this.fail(`field '${name}' must be integers, got ${d.dtype}`);
    if (d.shape.length !== rank || (length !== undefined && d.shape[0] !== length)) {
      this.fail(`field '${name}' must have shape ${rank === 0 ? '[]' : length === undefined ? '[d]' : `[${length}]`}, got ${fmtShape(d.shape)}`);
    }
    const out = Array.from(d.data as ArrayLike<number | bigint>, (v) => Number(v));
    if (out.some((v) => !Number.isSafeInteger(v))) this.fail(`field '${name}' holds an integer out of range`);
    return out;
  }

  pair(name: string): [number, number] {
    const [a, b] = this.ints(name, 1, 2);
    return [a, b];
  }
}

function readNode(g: Hdf5Group, fail: (what: string) => never): NirNode {
  const r = new NodeReader(g, fail);
  const type = r.string('type');
  if (!(type in FIELDS)) {
    fail(KNOWN_ELSEWHERE.includes(type) ? `has type '${type}', which spikessl does not run (nested graphs, Conv1d, Delay, I, LI, CubaLI, CubaLIF, Scale and Threshold are not supported)` : `has unknown type '${type}'`);
  }
  const expected = FIELDS[type as NirNode['type']];
  for (const name of g.children.keys()) {
    if (name !== 'type' && name !== 'metadata' && !expected.includes(name)) fail(`(${type}) has unexpected field '${name}' (expected ${expected.join(', ')})`);
  }
  switch (type as NirNode['type']) {
    case 'Input':
    case 'Output':
      return { type: type as 'Input' | 'Output', shape: r.ints('shape', 1) };
    case 'Affine':
      return { type: 'Affine', weight: r.floats('weight'), bias: r.floats('bias') };
    case 'Linear':
      return { type: 'Linear', weight: r.floats('weight') };
    case 'Conv2d':
      return {
        type: 'Conv2d', inputShape: r.pair('input_shape'), weight: r.floats('weight'), bias: r.floats('bias'),
        stride: r.pair('stride'), padding: r.pair('padding'), dilation: r.pair('dilation'), groups: r.ints('groups', 0)[0],
      };
    case 'AvgPool2d':
    case 'SumPool2d':
      return { type: type as 'AvgPool2d' | 'SumPool2d', kernelSize: r.pair('kernel_size'), stride: r.pair('stride'), padding: r.pair('padding') };
    case 'Flatten':
      return { type: 'Flatten', inputType: r.ints('input_type', 1), startDim: r.ints('start_dim', 0)[0], endDim: r.ints('end_dim', 0)[0] };
    case 'LIF':
      return { type: 'LIF', tau: r.floats('tau'), r: r.floats('r'), vLeak: r.floats('v_leak'), vThreshold: r.floats('v_threshold'), vReset: r.floats('v_reset') };
    case 'IF':
      return { type: 'IF', r: r.floats('r'), vThreshold: r.floats('v_threshold'), vReset: r.floats('v_reset') };
  }
}

/**
 * Decodes a NIR file into its graph, strictly: every node has exactly its type's fields with
 * the right dtypes and ranks, and every edge names two nodes. Throws a one-line
 * `DataFormatError` (prefixed by `source`) otherwise, or for a corrupt HDF5 structure.
 */
export function decodeNir(bytes: Uint8Array, source = 'NIR data'): NirGraph {
  const root = readHdf5(bytes, source);
  const fail = (what: string): never => {
    throw new DataFormatError(`${source}: ${what}`);
  };
  const version = root.children.get('version');
  if (!version || version.kind !== 'dataset' || version.dtype !== 'string' || version.shape.length !== 0) return fail("not a NIR file: no 'version' string at the root");
  const v = (version.data as string[])[0];
  if (!/^1\./.test(v)) fail(`NIR version '${v}' is not supported (expected 1.x)`);
  const top = root.children.get('node');
  if (!top || top.kind !== 'group') return fail("not a NIR file: no 'node' group at the root");
  const graph = new NodeReader(top, (w) => fail(`the graph ${w}`));
  if (graph.string('type') !== 'NIRGraph') fail(`the root node has type '${graph.string('type')}', expected 'NIRGraph'`);
  const nodesGroup = top.children.get('nodes');
  if (!nodesGroup || nodesGroup.kind !== 'group') return fail("the graph lacks its 'nodes' group");
  const nodes = new Map<string, NirNode>();
  for (const [name, g] of nodesGroup.children) {
    if (g.kind !== 'group') fail(`node '${name}' is a dataset, expected a group`);
    nodes.set(name, readNode(g as Hdf5Group, (w) => fail(`node '${name}' ${w}`)));
  }
  const e = top.children.get('edges');
  if (!e || e.kind !== 'dataset' || e.dtype !== 'string') return fail("the graph lacks its 'edges' strings");
  const empty = e.shape.length === 1 && e.shape[0] === 0;
  if (!empty && (e.shape.length !== 2 || e.shape[1] !== 2)) fail(`'edges' must have shape [E, 2], got ${fmtShape(e.shape)}`);
  const names = e.data as string[];
  const edges: Array<[string, string]> = [];
  for (let i = 0; i + 1 < names.length; i += 2) {
    for (const n of [names[i], names[i + 1]]) if (!nodes.has(n)) fail(`edge ${i / 2} names '${n}', which is not a node`);
    edges.push([names[i], names[i + 1]]);
  }
  return { nodes, edges };
}

// ---------------------------------------------------------------------------------------------
// Encoder → graph

function farr(data: Float32Array | Float64Array, shape: number[]): NirArray {
  return { shape, data: data instanceof Float32Array ? data : Float32Array.from(data) };
}

/** The float32 τ nearest dt/(1 − β) from which β = fl(1 − dt/τ) comes back exactly, if one within 64 ulps does. */
function tauFor(beta: number): number {
  const exact = NIR_DT / (1 - beta);
  const t0 = Math.fround(exact);
  const buf = new Float32Array(1);
  const bits = new Int32Array(buf.buffer);
  buf[0] = t0;
  const b0 = bits[0];
  for (let k = 0; k <= 64; k++) {
    for (const s of k === 0 ? [0] : [k, -k]) {
      bits[0] = b0 + s;
      if (Math.fround(1 - NIR_DT / buf[0]) === beta) return buf[0];
    }
  }
  return t0;
}

/** The LIF (or IF, β = 1) node of a zero-reset `Leaky` over neurons of `shape`. */
function neuronNode(lif: Leaky, shape: number[], approximate: boolean, name: string): NirNode {
  if (lif.reset === 'subtract' && !approximate) {
    throw new OptionError(`toNir: ${name} resets by subtraction, which NIR cannot express (its reset sets v := v_reset); train with reset: 'zero' to export exactly, or pass approximate: true to export it as a zero reset`);
  }
  if (lif.reset === 'none') throw new OptionError(`toNir: ${name} never resets (reset: 'none'); NIR's LIF always resets, so it cannot be exported`);
  const n = shape.reduce((a, b) => a * b, 1);
  const b = lif.beta.data;
  // β broadcasts over the trailing axes of the neurons' shape, as in the LIF kernel (β clamped to [0, 1]).
  const beta = Float32Array.from({ length: n }, (_, i) => Math.min(1, Math.max(0, b[i % b.length])));
  const theta = Float32Array.from({ length: n }, () => lif.threshold.data[0]);
  const zero = new Float32Array(n);
  if (beta.every((v) => v === 1)) return { type: 'IF', r: farr(Float32Array.from({ length: n }, () => 1), shape), vThreshold: farr(theta, shape), vReset: farr(zero, shape) };
  if (beta.some((v) => v === 1)) throw new OptionError(`toNir: ${name} mixes β = 1 with β < 1, which needs an IF and a LIF node for one layer`);
  const tau = beta.map(tauFor);
  const r = tau.map((t) => t / NIR_DT);
  return { type: 'LIF', tau: farr(tau, shape), r: farr(r, shape), vLeak: farr(zero, shape), vThreshold: farr(theta, shape), vReset: farr(zero.slice(), shape) };
}

/**
 * The weights and bias of a Linear or Conv2d with the eval-mode BatchNorm after it folded in
 * (computed in float64, rounded once to float32).
 */
function folded(weight: Tensor, bias: Tensor | null, bn: BatchNorm1d | BatchNorm2d | null): { weight: NirArray; bias: NirArray } {
  const out = weight.shape[0];
  const per = weight.size / out;
  const w = new Float32Array(weight.size);
  const b = new Float32Array(out);
  for (let o = 0; o < out; o++) {
    let a = 1;
    let shift = 0;
    if (bn) {
      a = (bn.weight ? bn.weight.data[o] : 1) / Math.sqrt(bn.runningVar.data[o] + bn.eps);
      shift = (bn.bias ? bn.bias.data[o] : 0) - a * bn.runningMean.data[o];
    }
    for (let k = 0; k < per; k++) w[o * per + k] = a * weight.data[o * per + k];
    b[o] = a * (bias ? bias.data[o] : 0) + shift;
  }
  return { weight: { shape: [...weight.shape], data: w }, bias: { shape: [out], data: b } };
}

function encoderOf(model: SpikingEncoder | SSLModel): SpikingEncoder {
  return model instanceof SSLModel ? model.encoder : model;
}

/**
 * The NIR graph of a built-in spiking encoder (a {@link SpikingMlp} or {@link SpikingConvNet},
 * or the encoder of an {@link SSLModel}), with BatchNorm folded in eval mode. See the module
 * comment for the mapping and for what `approximate` approximates.
 */
export function nirGraph(model: SpikingEncoder | SSLModel, options: ToNirOptions = {}): NirGraph {
  const approximate = options.approximate ?? false;
  const encoder = encoderOf(model);
  const nodes = new Map<string, NirNode>();
  const chain: string[] = [];
  const add = (name: string, node: NirNode): void => {
    nodes.set(name, node);
    chain.push(name);
  };
  if (encoder instanceof SpikingMlp && encoder.constructor === SpikingMlp) {
    const children = new Map(encoder.namedChildren());
    const fc1 = children.get('fc1') as Linear;
    add('input', { type: 'Input', shape: [fc1.inFeatures] });
    for (let i = 1; children.has(`fc${i}`); i++) {
      const fc = children.get(`fc${i}`) as Linear;
      const bn = (children.get(`bn${i}`) as BatchNorm1d | undefined) ?? null;
      add(`fc${i}`, { type: 'Affine', ...folded(fc.weight, fc.bias, bn) });
      add(`lif${i}`, neuronNode(children.get(`lif${i}`) as Leaky, [fc.outFeatures], approximate, `lif${i}`));
    }
  } else if (encoder instanceof SpikingConvNet && encoder.constructor === SpikingConvNet) {
    if (!approximate) {
      throw new OptionError('toNir: the conv encoder max-pools its input currents, which NIR cannot express; pass approximate: true to export the pooling as AvgPool2d (spikes will differ), or use the torch export, which is exact');
    }
    const e = encoder;
    add('input', { type: 'Input', shape: [1, 28, 28] });
    let hw = 28;
    let channels = 1;
    for (const [i, conv, bn, lif] of [[1, e.conv1, e.bn1, e.lif1], [2, e.conv2, e.bn2, e.lif2]] as const) {
      add(`conv${i}`, { type: 'Conv2d', inputShape: [hw, hw], ...folded(conv.weight, conv.bias, bn), stride: conv.stride, padding: conv.padding, dilation: [1, 1], groups: 1 });
      add(`pool${i}`, { type: 'AvgPool2d', kernelSize: [2, 2], stride: [2, 2], padding: [0, 0] });
      hw /= 2;
      channels = conv.outChannels;
      add(`lif${i}`, neuronNode(lif, [channels, hw, hw], approximate, `lif${i}`));
    }
    add('flatten', { type: 'Flatten', inputType: [channels, hw, hw], startDim: 0, endDim: -1 });
    add('fc', { type: 'Affine', ...folded(e.fc.weight, e.fc.bias, e.bn3) });
    add('lif3', neuronNode(e.lif3, [e.fc.outFeatures], approximate, 'lif3'));
  } else {
    throw new OptionError(`toNir: expected a SpikingMlp, a SpikingConvNet or an SSLModel holding one, got ${encoder.constructor.name}`);
  }
  add('output', { type: 'Output', shape: [encoder.features] });
  const edges: Array<[string, string]> = [];
  for (let i = 1; i < chain.length; i++) edges.push([chain[i - 1], chain[i]]);
  return { nodes, edges };
}

/**
 * Exports a built-in spiking encoder as a NIR file (bytes): see {@link nirGraph}.
 *
 * Throws an `OptionError` for a model NIR cannot express exactly (subtract reset, max pooling)
 * unless `approximate` is set, and for models that are not built-in encoders.
 *
 * @example
 * ```ts
 * const encoder = new SpikingMlp({ hidden: [128], reset: 'zero', rng: new Rng(0) });
 * const bytes = toNir(encoder);             // write it to model.nir; nir.read('model.nir') in Python
 * const back = fromNir(bytes);              // runs here: same spikes on the same input
 * ```
 */
export function toNir(model: SpikingEncoder | SSLModel, options: ToNirOptions = {}): Uint8Array {
  return encodeNir(nirGraph(model, options));
}

// ---------------------------------------------------------------------------------------------
// Graph → runnable network

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Float32 tensor of a NIR array. */
function asTensor(a: NirArray): Tensor {
  return new Tensor(a.data instanceof Float32Array ? a.data.slice() : Float32Array.from(a.data), [...a.shape]);
}

interface Step {
  module: Module;
  /** Output shape of one sample. */
  out: number[];
}

/**
 * A NIR graph run here: the chain Input → … → Output as our layers (Linear, Conv2d, AvgPool2d,
 * Flatten, `Leaky` with zero reset), each registered under its node's name. Input spikes are
 * time-first, [T, B, ...Input shape] (or [T, B, n] when the Input has n elements in all); the
 * output is the last layer's output, [T, B, ...Output shape].
 */
export class NirNetwork extends Module {
  private readonly steps: Step[] = [];
  readonly inputShape: number[];
  readonly outputShape: number[];

  constructor(
    readonly graph: NirGraph,
    source = 'NIR graph',
  ) {
    super();
    const fail = (what: string): never => {
      throw new DataFormatError(`${source}: ${what}`);
    };
    const order = chainOrder(graph, fail);
    const first = graph.nodes.get(order[0])!;
    const last = graph.nodes.get(order[order.length - 1])!;
    if (first.type !== 'Input') fail(`the chain starts at '${order[0]}' (${first.type}), expected an Input node`);
    if (last.type !== 'Output') fail(`the chain ends at '${order[order.length - 1]}' (${last.type}), expected an Output node`);
    this.inputShape = (first as { shape: number[] }).shape;
    this.outputShape = (last as { shape: number[] }).shape;
    let shape = this.inputShape;
    for (const name of order.slice(1, -1)) {
      const node = graph.nodes.get(name)!;
      const step = buildStep(node, shape, (w) => fail(`node '${name}' (${node.type}) ${w}`));
      if (name.includes('.') || name === '') fail(`node name '${name}' cannot name a module (it contains '.')`);
      this.registerModule(name, step.module);
      this.steps.push(step);
      shape = step.out;
    }
    if (!sameShape(shape, this.outputShape)) fail(`the Output node's shape ${fmtShape(this.outputShape)} does not match the ${fmtShape(shape)} that reaches it`);
  }

  /** Runs the network over input spikes [T, B, ...input] and returns [T, B, ...output]. */
  forward(x: Tensor): Tensor {
    const n = this.inputShape.reduce((a, b) => a * b, 1);
    let s = x;
    if (x.ndim === 3 && this.inputShape.length > 1 && x.shape[2] === n) s = reshape(x, [x.shape[0], x.shape[1], ...this.inputShape]);
    if (s.ndim !== 2 + this.inputShape.length || !sameShape(s.shape.slice(2), this.inputShape)) {
      throw new ShapeError(`NirNetwork: expected input [T, B, ${this.inputShape.join(', ')}], got ${fmtShape(x.shape)}`);
    }
    for (const step of this.steps) s = step.module.forward(s) as Tensor;
    return s;
  }
}

/** The node names from Input to Output, for a graph that is one chain; else a DataFormatError. */
function chainOrder(graph: NirGraph, fail: (what: string) => never): string[] {
  const next = new Map<string, string>();
  const prev = new Map<string, string>();
  for (const [a, b] of graph.edges) {
    if (next.has(a)) fail(`node '${a}' feeds two nodes ('${next.get(a)}' and '${b}'); only chains are supported`);
    if (prev.has(b)) fail(`node '${b}' is fed by two nodes ('${prev.get(b)}' and '${a}'); only chains are supported`);
    next.set(a, b);
    prev.set(b, a);
  }
  const starts = [...graph.nodes.keys()].filter((k) => !prev.has(k));
  if (starts.length !== 1) fail(starts.length === 0 ? 'the graph is a cycle, which cannot be run as a feed-forward chain' : `the graph has ${starts.length} starting nodes (${starts.join(', ')}), expected one chain`);
  const order = [starts[0]];
  while (next.has(order[order.length - 1])) order.push(next.get(order[order.length - 1])!);
  if (order.length !== graph.nodes.size) fail(`${graph.nodes.size - order.length} nodes are not on the chain from '${starts[0]}' (a cycle or a separate part)`);
  return order;
}

/** A module that multiplies its input by a fixed per-neuron gain (broadcast over [T, B]). */
class Gain extends Module {
  constructor(readonly gain: Tensor) {
    super();
    this.registerBuffer('gain', gain);
  }
  forward(x: Tensor): Tensor {
    return mul(x, this.gain);
  }
}

/** A NIR LIF/IF node's parameters as a zero-reset Leaky (and an input gain when r·dt/τ ≠ 1). */
function neuronStep(node: Extract<NirNode, { type: 'LIF' | 'IF' }>, shape: number[], fail: (what: string) => never): Module {
  const n = shape.reduce((a, b) => a * b, 1);
  const fields = node.type === 'LIF' ? { tau: node.tau, r: node.r, v_leak: node.vLeak, v_threshold: node.vThreshold, v_reset: node.vReset } : { r: node.r, v_threshold: node.vThreshold, v_reset: node.vReset };
  for (const [k, v] of Object.entries(fields)) {
    if (v.data.length !== n && v.data.length !== 1) fail(`has ${k} of shape ${fmtShape(v.shape)}, expected the ${fmtShape(shape)} of its input`);
  }
  const at = (a: NirArray, i: number): number => a.data[a.data.length === 1 ? 0 : i];
  const theta = at(node.vThreshold, 0);
  if (!(theta > 0 && Number.isFinite(theta))) fail(`has v_threshold ${theta}; a Leaky's threshold must be positive and finite`);
  const beta = new Float32Array(n);
  const gain = new Float32Array(n);
  let unitGain = true;
  for (let i = 0; i < n; i++) {
    if (at(node.vThreshold, i) !== theta) fail('has per-neuron thresholds, which spikessl does not run (one threshold per layer)');
    if (at(node.vReset, i) !== 0) fail(`has v_reset ${at(node.vReset, i)}; only v_reset = 0 (a zero reset) is supported`);
    if (node.type === 'LIF') {
      const tau = at(node.tau, i);
      if (!(tau >= NIR_DT)) fail(`has tau ${tau}, below the time step dt = ${NIR_DT} of the β = 1 − dt/τ mapping (β would be negative)`);
      if (at(node.vLeak, i) !== 0) fail(`has v_leak ${at(node.vLeak, i)}; only v_leak = 0 is supported`);
      beta[i] = 1 - NIR_DT / tau;
      gain[i] = (at(node.r, i) * NIR_DT) / tau;
    } else {
      beta[i] = 1;
      gain[i] = at(node.r, i);
    }
    // snnTorch's r = τ/dt stored in float32 gives r·dt/τ within a few float32 ulps of 1: that is 1.
    if (Math.abs(gain[i] - 1) <= 1e-6) gain[i] = 1;
    else unitGain = false;
  }
  const decay = beta.every((b) => b === beta[0]) ? beta[0] : new Tensor(beta, [...shape]);
  const lif = new Leaky({ beta: decay, threshold: theta, reset: 'zero' });
  if (unitGain) return lif;
  return new ChainModule([new Gain(new Tensor(gain, [...shape])), lif]);
}

/** Two or more modules applied in order, registered as `0`, `1`, … */
class ChainModule extends Module {
  constructor(private readonly parts: Array<Module & { forward(t: Tensor): Tensor }>) {
    super();
    parts.forEach((p, i) => this.registerModule(String(i), p));
  }
  forward(x: Tensor): Tensor {
    let s = x;
    for (const p of this.parts) s = p.forward(s) as Tensor;
    return s;
  }
}

function buildStep(node: NirNode, shape: number[], fail: (what: string) => never): Step {
  const isPositive = (v: readonly number[]): boolean => v.every((d) => Number.isSafeInteger(d) && d >= 1);
  switch (node.type) {
    case 'Input':
    case 'Output':
      return fail('appears inside the chain');
    case 'Affine':
    case 'Linear': {
      const w = node.weight;
      if (w.shape.length !== 2) fail(`has weight of shape ${fmtShape(w.shape)}, expected [out, in]`);
      const [out, inp] = w.shape;
      if (!sameShape(shape, [inp])) fail(`takes [${inp}] but receives ${fmtShape(shape)}`);
      const fc = new Linear(inp, out, { bias: node.type === 'Affine', rng: new Rng(0) }); // the file's weights replace these
      fc.weight.data.set(asTensor(w).data);
      if (node.type === 'Affine') {
        if (!sameShape(node.bias.shape, [out])) fail(`has bias of shape ${fmtShape(node.bias.shape)}, expected [${out}]`);
        fc.bias!.data.set(asTensor(node.bias).data);
      }
      return { module: fc, out: [out] };
    }
    case 'Conv2d': {
      const w = node.weight;
      if (w.shape.length !== 4) fail(`has weight of shape ${fmtShape(w.shape)}, expected [out, in, kh, kw]`);
      const [cout, cin, kh, kw] = w.shape;
      if (node.groups !== 1 || node.dilation.some((d) => d !== 1)) fail('uses groups or dilation, which spikessl does not run');
      if (!isPositive(node.stride) || node.padding.some((p) => !Number.isSafeInteger(p) || p < 0)) fail('has a bad stride or padding');
      if (!sameShape(shape, [cin, ...node.inputShape])) fail(`takes [${cin}, ${node.inputShape.join(', ')}] but receives ${fmtShape(shape)}`);
      if (!sameShape(node.bias.shape, [cout])) fail(`has bias of shape ${fmtShape(node.bias.shape)}, expected [${cout}]`);
      const conv = new Conv2d(cin, cout, [kh, kw], { stride: node.stride, padding: node.padding, rng: new Rng(0) }); // the file's weights replace these
      conv.weight.data.set(asTensor(w).data);
      conv.bias!.data.set(asTensor(node.bias).data);
      const oh = Math.floor((shape[1] + 2 * node.padding[0] - kh) / node.stride[0]) + 1;
      const ow = Math.floor((shape[2] + 2 * node.padding[1] - kw) / node.stride[1]) + 1;
      if (!(oh >= 1 && ow >= 1)) fail(`leaves no output from an input of ${fmtShape(shape)}`);
      return { module: conv, out: [cout, oh, ow] };
    }
    case 'AvgPool2d':
    case 'SumPool2d': {
      if (shape.length !== 3) fail(`takes [C, H, W] but receives ${fmtShape(shape)}`);
      if (!isPositive(node.kernelSize) || !isPositive(node.stride) || node.padding.some((p) => !Number.isSafeInteger(p) || p < 0)) fail('has a bad kernel size, stride or padding');
      const [kh, kw] = node.kernelSize;
      const oh = Math.floor((shape[1] + 2 * node.padding[0] - kh) / node.stride[0]) + 1;
      const ow = Math.floor((shape[2] + 2 * node.padding[1] - kw) / node.stride[1]) + 1;
      if (!(oh >= 1 && ow >= 1)) fail(`leaves no output from an input of ${fmtShape(shape)}`);
      const pool = new AvgPool2d(node.kernelSize, { stride: node.stride, padding: node.padding });
      // A sum pool is the average times the window's size (padding counted, as both include it).
      const module = node.type === 'AvgPool2d' ? pool : new ChainModule([pool, new Gain(tensor(kh * kw))]);
      return { module, out: [shape[0], oh, ow] };
    }
    case 'Flatten': {
      if (!sameShape(node.inputType, shape)) fail(`declares input ${fmtShape(node.inputType)} but receives ${fmtShape(shape)}`);
      const d = shape.length;
      const start = node.startDim < 0 ? node.startDim + d : node.startDim;
      const end = node.endDim < 0 ? node.endDim + d : node.endDim;
      if (!(start >= 0 && start <= end && end < d)) fail(`has start_dim ${node.startDim} and end_dim ${node.endDim}, out of range for ${fmtShape(shape)}`);
      const out = [...shape.slice(0, start), shape.slice(start, end + 1).reduce((a, b) => a * b, 1), ...shape.slice(end + 1)];
      // Our tensors carry [T, B] in front of a sample's axes.
      return { module: new Flatten(start + 2, end + 2), out };
    }
    case 'LIF':
    case 'IF':
      return { module: neuronStep(node, shape, fail), out: shape };
  }
}

/**
 * Reads a NIR file and builds the network it describes (see {@link NirNetwork} for what runs):
 * a chain of Affine/Linear, Conv2d, AvgPool2d/SumPool2d, Flatten and LIF/IF nodes with
 * v_leak = 0, v_reset = 0 and one threshold per layer, β = 1 − dt/τ (dt = 1e-4).
 *
 * Throws a one-line `DataFormatError` (prefixed by `source`) for a corrupt file, unknown node
 * types, graphs that are not one chain (cycles included), mismatched shapes, or parameters the
 * network cannot run.
 */
export function fromNir(bytes: Uint8Array, source = 'NIR data'): NirNetwork {
  return new NirNetwork(decodeNir(bytes, source), source);
}
