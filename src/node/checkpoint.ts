/**
 * Training checkpoints: ONE safetensors file holding the model's state dict (`model.<name>`),
 * the optimizer's buffers (`optim.<index>.<name>`) and, as JSON in the metadata, the
 * optimizer's hyperparameters and step counts, the LR schedule, the epoch and step, an `Rng`
 * state and any extra JSON. Written atomically (temporary file, fsync, rename), so a crash
 * leaves the previous checkpoint intact. Restoring into fresh objects continues bit for bit.
 */
import { DataFormatError, OptionError } from '../errors';
import type { RawTensor } from '../io/safetensors';
import type { Module } from '../nn/module';
import type { Optimizer, OptimizerState } from '../optim/optimizer';
import type { LRScheduler, SchedulerState } from '../optim/schedulers';
import type { Rng, RngState } from '../rng';
import type { Tensor } from '../tensor/tensor';
import { readSafetensorsFile, writeSafetensorsFile } from './fs';

const FORMAT = 'spikessl-checkpoint';
const VERSION = '1';

/** What {@link saveCheckpoint} stores. */
export interface CheckpointContents {
  model: Module;
  optimizer?: Optimizer;
  scheduler?: LRScheduler;
  /** Epochs completed (or the current epoch; your convention). */
  epoch?: number;
  /** Optimizer steps taken. */
  step?: number;
  /** A generator whose state is saved (data shuffling, encoders, dropout). */
  rng?: Rng;
  /** Any JSON-safe values (numbers must be finite; no undefined, functions, Maps or class instances). */
  extra?: Record<string, unknown>;
}

/** The optimizer part of a checkpoint: its class name and state dict. */
export interface CheckpointOptimizer extends OptimizerState {
  name: string;
}

/** A loaded checkpoint; see {@link restoreCheckpoint} to put it into fresh objects. */
export interface Checkpoint {
  /** The model's state dict. */
  model: Record<string, Tensor>;
  optimizer: CheckpointOptimizer | null;
  scheduler: SchedulerState | null;
  epoch: number | null;
  step: number | null;
  rng: RngState | null;
  extra: Record<string, unknown>;
}

/** Throws an OptionError unless `v` survives JSON unchanged, naming the path of the offending value. */
function checkJson(v: unknown, path: string): void {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new OptionError(`saveCheckpoint: ${path} is ${v}, which JSON cannot hold`);
    return;
  }
  if (Array.isArray(v)) {
    v.forEach((x, i) => checkJson(x, `${path}[${i}]`));
    return;
  }
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) checkJson(x, `${path}.${k}`);
    return;
  }
  const kind = typeof v === 'object' ? `a ${(v as object).constructor?.name ?? 'null-prototype object'}` : `a ${typeof v}`;
  throw new OptionError(`saveCheckpoint: ${path} is ${kind}, which JSON cannot hold`);
}

function checkCount(v: number | undefined, name: string): void {
  if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) throw new OptionError(`saveCheckpoint: ${name} must be a non-negative integer, got ${v}`);
}

/**
 * Saves a training state to `path` as one safetensors file, atomically.
 *
 * @example
 * ```ts
 * saveCheckpoint('runs/a/checkpoint.safetensors', { model, optimizer, scheduler, epoch, step, rng });
 * // … in a new process:
 * const ckpt = loadCheckpoint('runs/a/checkpoint.safetensors');
 * restoreCheckpoint(ckpt, { model, optimizer, scheduler, rng });
 * ```
 */
export function saveCheckpoint(path: string, contents: CheckpointContents): void {
  const { model, optimizer, scheduler, epoch, step, rng, extra } = contents;
  checkCount(epoch, 'epoch');
  checkCount(step, 'step');
  if (extra !== undefined) checkJson(extra, 'extra');
  const tensors: Record<string, Tensor | RawTensor> = {};
  for (const [k, t] of Object.entries(model.stateDict())) tensors[`model.${k}`] = t;
  const metadata: Record<string, string> = { format: FORMAT, version: VERSION };
  if (optimizer !== undefined) {
    const s = optimizer.stateDict();
    for (const [k, t] of Object.entries(s.buffers)) tensors[`optim.${k}`] = t;
    metadata.optimizer = JSON.stringify({ name: optimizer.constructor.name, hyper: s.hyper, step: s.step });
  }
  if (scheduler !== undefined) metadata.scheduler = JSON.stringify(scheduler.stateDict());
  if (epoch !== undefined) metadata.epoch = String(epoch);
  if (step !== undefined) metadata.step = String(step);
  if (rng !== undefined) metadata.rng = JSON.stringify(rng.state());
  if (extra !== undefined) metadata.extra = JSON.stringify(extra);
  writeSafetensorsFile(path, tensors, metadata);
}

function parseEntry(metadata: Record<string, string>, key: string, path: string): unknown {
  const text = metadata[key];
  if (text === undefined) return null;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new DataFormatError(`${path}: checkpoint metadata '${key}' is not valid JSON (${(e as Error).message})`);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseCount(metadata: Record<string, string>, key: string, path: string): number | null {
  const text = metadata[key];
  if (text === undefined) return null;
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) throw new DataFormatError(`${path}: checkpoint metadata '${key}' should be a non-negative integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

/**
 * Reads a checkpoint written by {@link saveCheckpoint}. A file that is not one (another
 * safetensors file, a later format version, malformed metadata, tensors outside the
 * `model.` and `optim.` namespaces) throws a DataFormatError naming the file and the problem.
 */
export function loadCheckpoint(path: string): Checkpoint {
  const { tensors, metadata } = readSafetensorsFile(path);
  if (metadata.format !== FORMAT) throw new DataFormatError(`${path}: not a spikessl checkpoint (metadata format is ${JSON.stringify(metadata.format ?? null)})`);
  if (metadata.version !== VERSION) throw new DataFormatError(`${path}: checkpoint version ${JSON.stringify(metadata.version)} is not supported (expected ${VERSION})`);
  const model: Record<string, Tensor> = {};
  const buffers: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(tensors)) {
    if (k.startsWith('model.')) model[k.slice(6)] = t;
    else if (k.startsWith('optim.')) buffers[k.slice(6)] = t;
    else throw new DataFormatError(`${path}: unexpected tensor '${k}' in a checkpoint (expected names starting with 'model.' or 'optim.')`);
  }
  const opt = parseEntry(metadata, 'optimizer', path);
  if (opt !== null && (!isRecord(opt) || typeof opt.name !== 'string' || !isRecord(opt.hyper) || !Array.isArray(opt.step))) {
    throw new DataFormatError(`${path}: checkpoint metadata 'optimizer' should hold { name, hyper, step }`);
  }
  if (opt === null && Object.keys(buffers).length > 0) throw new DataFormatError(`${path}: optimizer buffers but no optimizer metadata`);
  const scheduler = parseEntry(metadata, 'scheduler', path);
  if (scheduler !== null && !isRecord(scheduler)) throw new DataFormatError(`${path}: checkpoint metadata 'scheduler' should be an object`);
  const rng = parseEntry(metadata, 'rng', path);
  if (rng !== null && !isRecord(rng)) throw new DataFormatError(`${path}: checkpoint metadata 'rng' should be an object`);
  const extra = parseEntry(metadata, 'extra', path) ?? {};
  if (!isRecord(extra)) throw new DataFormatError(`${path}: checkpoint metadata 'extra' should be an object`);
  return {
    model,
    optimizer: opt === null ? null : ({ ...(opt as object), buffers } as CheckpointOptimizer),
    scheduler: scheduler as SchedulerState | null,
    epoch: parseCount(metadata, 'epoch', path),
    step: parseCount(metadata, 'step', path),
    rng: rng as RngState | null,
    extra,
  };
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

const brief = (v: unknown): string => {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
};

/**
 * `extra[key]` of a loaded checkpoint as a list of finite numbers ([] when absent). A
 * DataFormatError naming `path` and the first bad element otherwise, so a damaged or edited
 * checkpoint cannot put strings into, say, a loss curve.
 *
 * @example
 * ```ts
 * const losses = extraNumbers(loadCheckpoint(path).extra, 'batchLoss', path);
 * ```
 */
export function extraNumbers(extra: Record<string, unknown>, key: string, path: string): number[] {
  const v = extra[key];
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new DataFormatError(`${path}: checkpoint extra '${key}' should be a list of numbers, got ${brief(v)}`);
  const bad = v.findIndex((x) => !isFiniteNumber(x));
  if (bad >= 0) throw new DataFormatError(`${path}: checkpoint extra '${key}' should be a list of finite numbers, element ${bad} is ${brief(v[bad])}`);
  return v as number[];
}

/**
 * `extra[key]` of a loaded checkpoint as a list of objects ([] when absent), each holding the
 * named fields: `'number'` a finite number, `'numbers'` a list of them (other fields are kept
 * unchecked). A DataFormatError naming `path`, the element and the field otherwise.
 *
 * @example
 * ```ts
 * const epochs = extraRecords(ckpt.extra, 'epochs', path, { epoch: 'number', meanLoss: 'number', density: 'numbers', seconds: 'number' });
 * ```
 */
export function extraRecords<T = Record<string, unknown>>(extra: Record<string, unknown>, key: string, path: string, fields: Readonly<Record<string, 'number' | 'numbers'>>): T[] {
  const v = extra[key];
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new DataFormatError(`${path}: checkpoint extra '${key}' should be a list of objects, got ${brief(v)}`);
  v.forEach((item, i) => {
    if (!isRecord(item)) throw new DataFormatError(`${path}: checkpoint extra '${key}' element ${i} should be an object, got ${brief(item)}`);
    for (const [field, kind] of Object.entries(fields)) {
      const x = item[field];
      const ok = kind === 'number' ? isFiniteNumber(x) : Array.isArray(x) && x.every(isFiniteNumber);
      if (!ok) throw new DataFormatError(`${path}: checkpoint extra '${key}' element ${i} field '${field}' should be ${kind === 'number' ? 'a finite number' : 'a list of finite numbers'}, got ${brief(x)}`);
    }
  });
  return v as T[];
}

/** The objects {@link restoreCheckpoint} fills in; each one given must have its part in the checkpoint. */
export interface RestoreTargets {
  model?: Module;
  optimizer?: Optimizer;
  scheduler?: LRScheduler;
  rng?: Rng;
}

/**
 * Puts a loaded checkpoint into (fresh) objects built the same way as the saved ones: the
 * model's parameters and buffers (strict: every key must match), the optimizer's state
 * (its class must match), the schedule, and the generator's state. Returns the checkpoint's
 * epoch, step and extra values.
 *
 * @example
 * ```ts
 * const { epoch } = restoreCheckpoint(loadCheckpoint(path), { model, optimizer, scheduler, rng });
 * ```
 */
export function restoreCheckpoint(ckpt: Checkpoint, targets: RestoreTargets): { epoch: number | null; step: number | null; extra: Record<string, unknown> } {
  const { model, optimizer, scheduler, rng } = targets;
  if (optimizer !== undefined) {
    if (ckpt.optimizer === null) throw new OptionError('restoreCheckpoint: the checkpoint has no optimizer state');
    if (ckpt.optimizer.name !== optimizer.constructor.name) {
      throw new OptionError(`restoreCheckpoint: the checkpoint holds a ${ckpt.optimizer.name} state, not a ${optimizer.constructor.name}`);
    }
  }
  if (scheduler !== undefined && ckpt.scheduler === null) throw new OptionError('restoreCheckpoint: the checkpoint has no scheduler state');
  if (rng !== undefined && ckpt.rng === null) throw new OptionError('restoreCheckpoint: the checkpoint has no Rng state');
  if (model !== undefined) model.loadStateDict(ckpt.model);
  if (optimizer !== undefined && ckpt.optimizer !== null) {
    const { hyper, step, buffers } = ckpt.optimizer;
    optimizer.loadStateDict({ hyper, step, buffers });
  }
  if (scheduler !== undefined && ckpt.scheduler !== null) scheduler.loadStateDict(ckpt.scheduler);
  if (rng !== undefined && ckpt.rng !== null) rng.setState(ckpt.rng);
  return { epoch: ckpt.epoch, step: ckpt.step, extra: ckpt.extra };
}
