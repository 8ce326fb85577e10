/** LR schedules against their closed forms and PyTorch's recursive (chainable) forms; state dicts. */
import { describe, expect, it } from 'vitest';
import { CosineAnnealingLR, LinearWarmup, OptionError, Parameter, SGD, StepLR } from '../../src/index';

const makeOpt = (lr = 0.1): SGD => new SGD([new Parameter(new Float32Array(2), [2])], { lr });

/** Runs `steps` scheduler steps and records the optimizer's lr at epochs 0..steps. */
function trace(opt: SGD, sched: { step(): void; getLastLr(): number }, steps: number): number[] {
  const lrs = [opt.lr];
  expect(sched.getLastLr()).toBe(opt.lr);
  for (let e = 1; e <= steps; e++) {
    sched.step();
    expect(sched.getLastLr()).toBe(opt.lr);
    lrs.push(opt.lr);
  }
  return lrs;
}

describe('StepLR', () => {
  it('gives base·γ^⌊e/stepSize⌋, and PyTorch’s recursive form (×γ when e % stepSize = 0)', () => {
    const opt = makeOpt(0.5);
    const lrs = trace(opt, new StepLR(opt, { stepSize: 3, gamma: 0.5 }), 12);
    let rec = 0.5;
    lrs.forEach((lr, e) => {
      if (e > 0 && e % 3 === 0) rec *= 0.5;
      expect(lr).toBeCloseTo(0.5 * 0.5 ** Math.floor(e / 3), 14);
      expect(lr).toBeCloseTo(rec, 14);
    });
  });
});

describe('CosineAnnealingLR', () => {
  it('follows η_min + (base − η_min)(1 + cos(πe/T))/2 and agrees with PyTorch’s recursive update', () => {
    const opt = makeOpt(0.2);
    const T = 10;
    const etaMin = 0.01;
    const lrs = trace(opt, new CosineAnnealingLR(opt, { tMax: T, etaMin }), 2 * T);
    // PyTorch's get_lr (chainable form) for epoch e ≥ 1.
    let rec = 0.2;
    lrs.forEach((lr, e) => {
      if (e > 0) {
        if ((e - 1 - T) % (2 * T) === 0) rec = rec + ((0.2 - etaMin) * (1 - Math.cos(Math.PI / T))) / 2;
        else rec = ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (rec - etaMin) + etaMin;
      }
      expect(lr).toBeCloseTo(etaMin + ((0.2 - etaMin) * (1 + Math.cos((Math.PI * e) / T))) / 2, 12);
      expect(lr).toBeCloseTo(rec, 10);
    });
    expect(lrs[T]).toBeCloseTo(etaMin, 14);
  });
});

describe('LinearWarmup', () => {
  it('ramps linearly from startFactor·base to base, then runs the next schedule from its epoch 0', () => {
    const opt = makeOpt(0.3);
    const W = 4;
    const sched = new LinearWarmup(opt, { warmupSteps: W, startFactor: 0.1, then: new CosineAnnealingLR(opt, { tMax: 6 }) });
    const lrs = trace(opt, sched, 12);
    lrs.forEach((lr, e) => {
      const want = e < W ? 0.3 * (0.1 + (0.9 * e) / W) : (0.3 * (1 + Math.cos((Math.PI * (e - W)) / 6))) / 2;
      expect(lr).toBeCloseTo(want, 12);
    });
  });

  it('agrees with PyTorch’s LinearLR recursion (default startFactor 1/3) and holds base afterwards', () => {
    const opt = makeOpt(1);
    const lrs = trace(opt, new LinearWarmup(opt, { warmupSteps: 5 }), 8);
    // LinearLR.get_lr: lr_e = lr_{e−1}·(1 + (end − start)/(total·start + (e − 1)(end − start))) for 1 ≤ e ≤ total.
    let rec = 1 / 3;
    lrs.forEach((lr, e) => {
      if (e >= 1 && e <= 5) rec *= 1 + (1 - 1 / 3) / (5 * (1 / 3) + (e - 1) * (1 - 1 / 3));
      expect(lr).toBeCloseTo(rec, 12);
    });
    expect(lrs[8]).toBeCloseTo(1, 12);
  });

  it('shares the base lr with a schedule built after it (the optimizer’s initialLr)', () => {
    const opt = makeOpt(0.4);
    const warm = new LinearWarmup(opt, { warmupSteps: 2, startFactor: 0.5 });
    expect(opt.lr).toBeCloseTo(0.2, 14);
    const cos = new CosineAnnealingLR(opt, { tMax: 5 });
    expect(cos.baseLr).toBe(0.4);
    expect(warm.baseLr).toBe(0.4);
  });

  it('rejects bad options', () => {
    const opt = makeOpt();
    expect(() => new LinearWarmup(opt, { warmupSteps: -1 })).toThrow(OptionError);
    expect(() => new LinearWarmup(opt, { warmupSteps: 2, startFactor: 2 })).toThrow(OptionError);
    expect(() => new LinearWarmup(opt, { warmupSteps: 2, then: new StepLR(makeOpt(), { stepSize: 1 }) })).toThrow(/same optimizer/);
    expect(() => new StepLR(opt, { stepSize: 0 })).toThrow(OptionError);
    expect(() => new CosineAnnealingLR(opt, { tMax: 1.5 })).toThrow(OptionError);
  });
});

describe('scheduler state dicts', () => {
  it('resume a warm-up + cosine schedule exactly, whatever the order of restoring', () => {
    const build = (opt: SGD) => new LinearWarmup(opt, { warmupSteps: 3, then: new CosineAnnealingLR(opt, { tMax: 10, etaMin: 0.001 }) });
    const optA = makeOpt(0.1);
    const a = build(optA);
    const whole = trace(optA, a, 15);

    const optB = makeOpt(0.1);
    const b = build(optB);
    for (let e = 0; e < 6; e++) b.step();
    const saved = JSON.parse(JSON.stringify(b.stateDict()));
    const optSaved = optB.stateDict();

    // Restore the optimizer first, then build the scheduler (which resets lr), then its state.
    const optC = makeOpt(0.1);
    optC.loadStateDict(optSaved);
    const c = build(optC);
    c.loadStateDict(saved);
    expect(optC.lr).toBe(whole[6]);
    const rest = [];
    for (let e = 7; e <= 15; e++) {
      c.step();
      rest.push(optC.lr);
    }
    expect(rest).toEqual(whole.slice(7));
  });

  it('rejects the state of another schedule', () => {
    const opt = makeOpt();
    const s = new StepLR(opt, { stepSize: 2 }).stateDict();
    expect(() => new CosineAnnealingLR(opt, { tMax: 3 }).loadStateDict(s)).toThrow(/expected the state of a CosineAnnealingLR, got a StepLR/);
    expect(() => new LinearWarmup(opt, { warmupSteps: 2, then: new StepLR(opt, { stepSize: 2 }) }).loadStateDict({ ...s, name: 'LinearWarmup', hyper: { warmupSteps: 2, startFactor: 0.5 } })).toThrow(/no `then`/);
  });
});
