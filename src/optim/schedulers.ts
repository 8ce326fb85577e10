/**
 * Learning-rate schedules with PyTorch's protocol: constructing a scheduler sets the
 * optimizer's lr for epoch 0; each `step()` (call it after `optimizer.step()`) advances
 * one epoch (or iteration) and sets the lr for it; `getLastLr()` is the lr it set last.
 * Each schedule is a closed form of the epoch, so it can be resumed from its state dict.
 */
import { OptionError } from '../errors';
import type { Optimizer } from './optimizer';

/** A scheduler's state: JSON-safe numbers (the checkpoint stores it as metadata). */
export interface SchedulerState {
  /** The class, checked on load. */
  name: string;
  lastEpoch: number;
  baseLr: number;
  lastLr: number;
  hyper: Record<string, number>;
  /** The state of the schedule that follows a warm-up. */
  then?: SchedulerState;
}

/** Base class of LR schedulers. Subclasses define {@link lrAt} and call `init()` at the end of their constructor. */
export abstract class LRScheduler {
  /** The lr at epoch 0 (the optimizer's `initialLr`, PyTorch's `initial_lr`). */
  baseLr: number;
  /** The epoch of the current lr: 0 after construction, +1 per `step()`. */
  lastEpoch = 0;
  private lastLr = NaN;

  constructor(readonly optimizer: Optimizer) {
    if (optimizer.initialLr === null) optimizer.initialLr = optimizer.lr;
    this.baseLr = optimizer.initialLr;
  }

  /** The learning rate this schedule gives at `epoch` (≥ 0). */
  abstract lrAt(epoch: number): number;

  /** The hyperparameters for the state dict. */
  protected abstract getHyper(): Record<string, number>;

  /** Restores checked hyperparameters. */
  protected abstract setHyper(h: Record<string, number>): void;

  /** Sets the lr for epoch 0; the last line of a subclass constructor. */
  protected init(): void {
    this.lastEpoch = 0;
    this.apply(this.lrAt(0));
  }

  private apply(lr: number): void {
    this.lastLr = lr;
    this.optimizer.lr = lr;
  }

  /** Advances one epoch and sets the optimizer's lr for it. */
  step(): void {
    this.lastEpoch++;
    this.apply(this.lrAt(this.lastEpoch));
  }

  /** The learning rate set last (PyTorch's `get_last_lr()`, for the single parameter group). */
  getLastLr(): number {
    return this.lastLr;
  }

  stateDict(): SchedulerState {
    return { name: this.constructor.name, lastEpoch: this.lastEpoch, baseLr: this.baseLr, lastLr: this.lastLr, hyper: this.getHyper() };
  }

  /**
   * Restores a {@link stateDict}: epoch, base and last lr, hyperparameters. Also sets the
   * optimizer's lr to the restored last lr and its `initialLr` to the base lr, so the order
   * in which a fresh optimizer and scheduler are restored does not matter.
   */
  loadStateDict(s: SchedulerState): void {
    const op = `${this.constructor.name}.loadStateDict`;
    if (typeof s !== 'object' || s === null || s.name !== this.constructor.name) {
      throw new OptionError(`${op}: expected the state of a ${this.constructor.name}, got ${s === null || typeof s !== 'object' ? String(s) : `a ${String(s.name)}`}`);
    }
    if (!Number.isInteger(s.lastEpoch) || s.lastEpoch < 0) throw new OptionError(`${op}: lastEpoch must be a non-negative integer, got ${s.lastEpoch}`);
    for (const k of ['baseLr', 'lastLr'] as const) {
      if (typeof s[k] !== 'number' || !Number.isFinite(s[k])) throw new OptionError(`${op}: ${k} must be a finite number, got ${s[k]}`);
    }
    const own = this.getHyper();
    const keys = Object.keys(own);
    const theirs = typeof s.hyper === 'object' && s.hyper !== null ? Object.keys(s.hyper) : [];
    if (keys.length !== theirs.length || !keys.every((k) => typeof s.hyper[k] === 'number' && Number.isFinite(s.hyper[k]))) {
      throw new OptionError(`${op}: expected hyperparameters ${JSON.stringify(keys)}, got ${JSON.stringify(s.hyper)}`);
    }
    this.setHyper(s.hyper);
    this.lastEpoch = s.lastEpoch;
    this.baseLr = s.baseLr;
    this.optimizer.initialLr = s.baseLr;
    this.apply(s.lastLr);
  }
}

function positiveInt(v: number, name: string, op: string): number {
  if (!Number.isInteger(v) || v < 1) throw new OptionError(`${op}: ${name} must be a positive integer, got ${v}`);
  return v;
}

function finiteNonNegative(v: number, name: string, op: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new OptionError(`${op}: ${name} must be a finite number ≥ 0, got ${v}`);
  return v;
}

/** Options of {@link StepLR}. */
export interface StepLROptions {
  /** Epochs between decays. */
  stepSize: number;
  /** Factor per decay. Default 0.1. */
  gamma?: number;
}

/**
 * lr = base·γ^⌊epoch/stepSize⌋, as `torch.optim.lr_scheduler.StepLR`.
 *
 * @example
 * ```ts
 * const sched = new StepLR(opt, { stepSize: 30, gamma: 0.1 });
 * for (let epoch = 0; epoch < 90; epoch++) { train(); sched.step(); }
 * ```
 */
export class StepLR extends LRScheduler {
  stepSize: number;
  gamma: number;

  constructor(optimizer: Optimizer, options: StepLROptions) {
    super(optimizer);
    this.stepSize = positiveInt(options.stepSize, 'stepSize', 'StepLR');
    this.gamma = finiteNonNegative(options.gamma ?? 0.1, 'gamma', 'StepLR');
    this.init();
  }

  lrAt(epoch: number): number {
    return this.baseLr * Math.pow(this.gamma, Math.floor(epoch / this.stepSize));
  }

  protected getHyper(): Record<string, number> {
    return { stepSize: this.stepSize, gamma: this.gamma };
  }

  protected setHyper(h: Record<string, number>): void {
    this.stepSize = positiveInt(h.stepSize, 'stepSize', 'StepLR.loadStateDict');
    this.gamma = finiteNonNegative(h.gamma, 'gamma', 'StepLR.loadStateDict');
  }
}

/** Options of {@link CosineAnnealingLR}. */
export interface CosineAnnealingLROptions {
  /** Epochs of the half cosine, from base down to etaMin. */
  tMax: number;
  /** The lowest lr. Default 0. */
  etaMin?: number;
}

/**
 * lr = η_min + (base − η_min)·(1 + cos(π·epoch/T_max))/2, the closed form of
 * `torch.optim.lr_scheduler.CosineAnnealingLR` (past T_max it rises again, as PyTorch's).
 *
 * @example
 * ```ts
 * const sched = new CosineAnnealingLR(opt, { tMax: epochs });
 * ```
 */
export class CosineAnnealingLR extends LRScheduler {
  tMax: number;
  etaMin: number;

  constructor(optimizer: Optimizer, options: CosineAnnealingLROptions) {
    super(optimizer);
    this.tMax = positiveInt(options.tMax, 'tMax', 'CosineAnnealingLR');
    this.etaMin = finiteNonNegative(options.etaMin ?? 0, 'etaMin', 'CosineAnnealingLR');
    this.init();
  }

  lrAt(epoch: number): number {
    return this.etaMin + ((this.baseLr - this.etaMin) * (1 + Math.cos((Math.PI * epoch) / this.tMax))) / 2;
  }

  protected getHyper(): Record<string, number> {
    return { tMax: this.tMax, etaMin: this.etaMin };
  }

  protected setHyper(h: Record<string, number>): void {
    this.tMax = positiveInt(h.tMax, 'tMax', 'CosineAnnealingLR.loadStateDict');
    this.etaMin = finiteNonNegative(h.etaMin, 'etaMin', 'CosineAnnealingLR.loadStateDict');
  }
}

/** Options of {@link LinearWarmup}. */
export interface LinearWarmupOptions {
  /** Epochs (or iterations) of warm-up; 0 starts directly with `then`. */
  warmupSteps: number;
  /** The lr at epoch 0 as a fraction of base. Default 1/3 (PyTorch's LinearLR). */
  startFactor?: number;
  /**
   * The schedule after the warm-up, built on the same optimizer; it starts at its own
   * epoch 0 when the warm-up ends (as PyTorch's `SequentialLR` with one milestone).
   * Without it the lr stays at base.
   */
  then?: LRScheduler;
}

/**
 * Linear warm-up from startFactor·base to base over `warmupSteps` epochs, then the `then`
 * schedule shifted by warmupSteps:
 *
 *   lr(e) = base·(s + (1 − s)·e/W)   for e < W
 *   lr(e) = then.lrAt(e − W)          for e ≥ W   (base without `then`)
 *
 * the closed form of `SequentialLR([LinearLR(s, 1, W), then], milestones=[W])`.
 * Only call the warm-up's `step()`; it drives `then`.
 *
 * @example
 * ```ts
 * const sched = new LinearWarmup(opt, { warmupSteps: 5, then: new CosineAnnealingLR(opt, { tMax: 95 }) });
 * ```
 */
export class LinearWarmup extends LRScheduler {
  warmupSteps: number;
  startFactor: number;
  readonly then: LRScheduler | null;

  constructor(optimizer: Optimizer, options: LinearWarmupOptions) {
    super(optimizer);
    if (!Number.isInteger(options.warmupSteps) || options.warmupSteps < 0) {
      throw new OptionError(`LinearWarmup: warmupSteps must be a non-negative integer, got ${options.warmupSteps}`);
    }
    this.warmupSteps = options.warmupSteps;
    this.startFactor = checkFactor(options.startFactor ?? 1 / 3, 'LinearWarmup');
    this.then = options.then ?? null;
    if (this.then !== null && this.then.optimizer !== optimizer) throw new OptionError('LinearWarmup: `then` must schedule the same optimizer');
    this.init();
  }

  lrAt(epoch: number): number {
    const w = this.warmupSteps;
    if (epoch < w) return this.baseLr * (this.startFactor + ((1 - this.startFactor) * epoch) / w);
    return this.then !== null ? this.then.lrAt(epoch - w) : this.baseLr;
  }

  override step(): void {
    super.step();
    if (this.then !== null) this.then.lastEpoch = Math.max(0, this.lastEpoch - this.warmupSteps);
  }

  protected getHyper(): Record<string, number> {
    return { warmupSteps: this.warmupSteps, startFactor: this.startFactor };
  }

  protected setHyper(h: Record<string, number>): void {
    if (!Number.isInteger(h.warmupSteps) || h.warmupSteps < 0) throw new OptionError(`LinearWarmup.loadStateDict: warmupSteps must be a non-negative integer, got ${h.warmupSteps}`);
    this.startFactor = checkFactor(h.startFactor, 'LinearWarmup.loadStateDict');
    this.warmupSteps = h.warmupSteps;
  }

  override stateDict(): SchedulerState {
    const s = super.stateDict();
    if (this.then !== null) s.then = this.then.stateDict();
    return s;
  }

  override loadStateDict(s: SchedulerState): void {
    if (this.then !== null) {
      if (s === null || typeof s !== 'object' || s.then === undefined) throw new OptionError('LinearWarmup.loadStateDict: the state has no `then` schedule but this warm-up has one');
      this.then.loadStateDict(s.then);
    } else if (s !== null && typeof s === 'object' && s.then !== undefined) {
      throw new OptionError(`LinearWarmup.loadStateDict: the state has a \`then\` schedule (${s.then.name}) but this warm-up has none`);
    }
    super.loadStateDict(s);
  }
}

function checkFactor(v: number, op: string): number {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new OptionError(`${op}: startFactor must be in [0, 1], got ${v}`);
  return v;
}
