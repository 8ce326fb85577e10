/**
 * Each optimizer against its update equations written out here as plain number loops
 * (independent of the implementation), for a fixed sequence of gradients; clipping; and
 * state dicts that resume bit for bit.
 */
import { describe, expect, it } from 'vitest';
import { Adam, AdamW, GradError, OptionError, Optimizer, Parameter, Rng, SGD, ShapeError, Tensor, clipGradNorm } from '../../src/index';
import { firstMismatch } from '../helpers/reference';

const SIZES = [5, 3];
const STEPS = 12;

/** The fixed gradient sequence: gradient k of parameter i (a few steps leave parameter 1 without one). */
function gradSequence(seed: number): Array<Array<number[] | null>> {
  const rng = new Rng(seed);
  return Array.from({ length: STEPS }, (_, k) => SIZES.map((n, i) => (i === 1 && k % 5 === 3 ? null : Array.from({ length: n }, () => rng.uniformRange(-2, 2)))));
}

function initialValues(): number[][] {
  const rng = new Rng(99);
  return SIZES.map((n) => Array.from({ length: n }, () => rng.uniformRange(-1, 1)));
}

function makeParams(): Parameter[] {
  return initialValues().map((v) => new Parameter(Float32Array.from(v), [v.length]));
}

/** Runs `opt` over the gradient sequence and returns the final parameter values. */
function runOptimizer(make: (ps: Parameter[]) => Optimizer, grads: Array<Array<number[] | null>>): number[][] {
  const ps = makeParams();
  const opt = make(ps);
  for (const step of grads) {
    step.forEach((g, i) => (ps[i].grad = g === null ? null : new Tensor(Float32Array.from(g), [g.length])));
    opt.step();
  }
  return ps.map((p) => Array.from(p.data));
}

/** PyTorch's SGD, literally. */
function sgdReference(grads: Array<Array<number[] | null>>, lr: number, mu: number, tau: number, nesterov: boolean, wd: number): number[][] {
  const p = initialValues();
  const buf: Array<number[] | null> = SIZES.map(() => null);
  for (const step of grads) {
    step.forEach((gi, i) => {
      if (gi === null) return;
      for (let j = 0; j < gi.length; j++) {
        let g = gi[j] + wd * p[i][j];
        if (mu !== 0) {
          if (buf[i] === null) buf[i] = new Array(gi.length).fill(NaN);
          const first = Number.isNaN(buf[i]![j]);
          buf[i]![j] = first ? g : mu * buf[i]![j] + (1 - tau) * g;
          g = nesterov ? g + mu * buf[i]![j] : buf[i]![j];
        }
        p[i][j] -= lr * g;
      }
    });
  }
  return p;
}

/** PyTorch's Adam (decoupled = false) and AdamW (decoupled = true), literally, with per-parameter step counts. */
function adamReference(grads: Array<Array<number[] | null>>, lr: number, b1: number, b2: number, eps: number, wd: number, decoupled: boolean): number[][] {
  const p = initialValues();
  const m = SIZES.map((n) => new Array(n).fill(0));
  const v = SIZES.map((n) => new Array(n).fill(0));
  const t = SIZES.map(() => 0);
  for (const step of grads) {
    step.forEach((gi, i) => {
      if (gi === null) return;
      t[i] += 1;
      for (let j = 0; j < gi.length; j++) {
        if (decoupled) p[i][j] *= 1 - lr * wd;
        const g = decoupled ? gi[j] : gi[j] + wd * p[i][j];
        m[i][j] = b1 * m[i][j] + (1 - b1) * g;
        v[i][j] = b2 * v[i][j] + (1 - b2) * g * g;
        const mHat = m[i][j] / (1 - b1 ** t[i]);
        const vHat = v[i][j] / (1 - b2 ** t[i]);
        // PyTorch adds eps to √v/√(1 − β₂ᵗ), i.e. to √v̂.
        p[i][j] -= (lr * mHat) / (Math.sqrt(vHat) + eps);
      }
    });
  }
  return p;
}

function expectClose(got: number[][], want: number[][], rtol = 1e-5, atol = 1e-6): void {
  got.forEach((g, i) => expect(firstMismatch(g, want[i], rtol, atol), `parameter ${i}: ${g} vs ${want[i]}`).toBe(-1));
}

describe('SGD', () => {
  const cases: Array<[string, { lr: number; momentum?: number; dampening?: number; nesterov?: boolean; weightDecay?: number }]> = [
    ['plain', { lr: 0.1 }],
    ['weight decay', { lr: 0.05, weightDecay: 0.3 }],
    ['momentum', { lr: 0.05, momentum: 0.9 }],
    ['momentum with dampening and weight decay', { lr: 0.05, momentum: 0.8, dampening: 0.3, weightDecay: 0.1 }],
    ['nesterov', { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 }],
  ];
  for (const [name, o] of cases) {
    it(`follows PyTorch's update: ${name}`, () => {
      const grads = gradSequence(1);
      const got = runOptimizer((ps) => new SGD(ps, o), grads);
      expectClose(got, sgdReference(grads, o.lr, o.momentum ?? 0, o.dampening ?? 0, o.nesterov ?? false, o.weightDecay ?? 0));
    });
  }

  it('rejects Nesterov without momentum or with dampening, and negative values', () => {
    const ps = makeParams();
    expect(() => new SGD(ps, { lr: 0.1, nesterov: true })).toThrow(OptionError);
    expect(() => new SGD(ps, { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true })).toThrow(OptionError);
    expect(() => new SGD(ps, { lr: -1 })).toThrow(OptionError);
    expect(() => new SGD([], { lr: 0.1 })).toThrow(OptionError);
    expect(() => new SGD([ps[0], ps[0]], { lr: 0.1 })).toThrow(/appears twice/);
    expect(() => new SGD([new Tensor(new Float32Array(2), [2])], { lr: 0.1 })).toThrow(/leaf tensor with requiresGrad/);
  });
});

describe('Adam and AdamW', () => {
  it("Adam follows PyTorch's update with bias correction", () => {
    const grads = gradSequence(2);
    expectClose(runOptimizer((ps) => new Adam(ps, { lr: 0.01 }), grads), adamReference(grads, 0.01, 0.9, 0.999, 1e-8, 0, false));
  });

  it('Adam adds weight decay to the gradient (L2)', () => {
    const grads = gradSequence(3);
    const o = { lr: 0.02, betas: [0.8, 0.99] as [number, number], eps: 1e-6, weightDecay: 0.1 };
    expectClose(runOptimizer((ps) => new Adam(ps, o), grads), adamReference(grads, 0.02, 0.8, 0.99, 1e-6, 0.1, false));
  });

  it('AdamW decays the weights directly (decoupled), default weightDecay 0.01', () => {
    const grads = gradSequence(4);
    expectClose(runOptimizer((ps) => new AdamW(ps, { lr: 0.05 }), grads), adamReference(grads, 0.05, 0.9, 0.999, 1e-8, 0.01, true));
    expectClose(runOptimizer((ps) => new AdamW(ps, { lr: 0.05, weightDecay: 0.5 }), grads), adamReference(grads, 0.05, 0.9, 0.999, 1e-8, 0.5, true));
    expect(new AdamW(makeParams()).weightDecay).toBe(0.01);
  });

  it('rejects bad betas and a gradient of the wrong size', () => {
    expect(() => new Adam(makeParams(), { betas: [0.9, 1] })).toThrow(OptionError);
    const ps = makeParams();
    const opt = new Adam(ps);
    ps[0].grad = new Tensor(new Float32Array(2), [2]);
    expect(() => opt.step()).toThrow(ShapeError);
  });
});

describe('zeroGrad', () => {
  it('clears the gradients of the optimizer parameters', () => {
    const ps = makeParams();
    ps.forEach((p) => (p.grad = new Tensor(new Float32Array(p.size).fill(1), p.shape)));
    new SGD(ps, { lr: 1 }).zeroGrad();
    expect(ps.every((p) => p.grad === null)).toBe(true);
  });
});

describe('clipGradNorm', () => {
  it('returns the joint 2-norm and scales by maxNorm/(norm + 1e-6) only when above maxNorm', () => {
    const ps = makeParams();
    const g = [[3, 0, 0, 0, 4], [0, 12, 0]]; // ‖g‖ = √(9 + 16 + 144) = 13
    ps.forEach((p, i) => (p.grad = new Tensor(Float32Array.from(g[i]), p.shape)));
    expect(clipGradNorm(ps, 20)).toBeCloseTo(13, 5);
    expect(Array.from(ps[1].grad!.data)).toEqual([0, 12, 0]);
    expect(clipGradNorm(ps, 1.3)).toBeCloseTo(13, 5);
    const c = 1.3 / (13 + 1e-6);
    expect(firstMismatch(ps[0].grad!.data, [3 * c, 0, 0, 0, 4 * c])).toBe(-1);
    expect(firstMismatch(ps[1].grad!.data, [0, 12 * c, 0])).toBe(-1);
  });

  it('supports the infinity norm and can refuse a non-finite norm', () => {
    const ps = makeParams();
    ps[0].grad = new Tensor(Float32Array.of(1, -7, 2, 0, 0), [5]);
    expect(clipGradNorm(ps, 100, { normType: Infinity })).toBe(7);
    ps[1].grad = new Tensor(Float32Array.of(NaN, 0, 0), [3]);
    expect(() => clipGradNorm(ps, 1, { errorIfNonfinite: true })).toThrow(GradError);
  });
});

describe('optimizer state dicts', () => {
  const makers: Array<[string, (ps: Parameter[]) => Optimizer]> = [
    ['SGD + Nesterov', (ps) => new SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 })],
    ['SGD plain', (ps) => new SGD(ps, { lr: 0.05 })],
    ['Adam', (ps) => new Adam(ps, { lr: 0.01, weightDecay: 0.1 })],
    ['AdamW', (ps) => new AdamW(ps, { lr: 0.01 })],
  ];
  for (const [name, make] of makers) {
    it(`${name}: k steps, save, load into a fresh optimizer, m more steps = k + m uninterrupted steps, bit for bit`, () => {
      const grads = gradSequence(5);
      const k = 7;
      const whole = runOptimizer(make, grads);
      const ps = makeParams();
      const first = make(ps);
      const apply = (o: Optimizer, params: Parameter[], steps: typeof grads): void => {
        for (const step of steps) {
          step.forEach((g, i) => (params[i].grad = g === null ? null : new Tensor(Float32Array.from(g), [g.length])));
          o.step();
        }
      };
      apply(first, ps, grads.slice(0, k));
      const saved = first.stateDict();
      // JSON-safe except the buffers.
      expect(JSON.parse(JSON.stringify({ hyper: saved.hyper, step: saved.step }))).toEqual({ hyper: saved.hyper, step: saved.step });
      const fresh = ps.map((p) => new Parameter(p.data.slice(), p.shape));
      const second = make(fresh);
      second.loadStateDict(saved);
      apply(first, ps, grads.slice(k)); // the saved snapshot must not change with further steps
      apply(second, fresh, grads.slice(k));
      fresh.forEach((p, i) => expect(Array.from(p.data)).toEqual(whole[i]));
    });
  }

  it('names buffers <index>.<name> and counts steps per parameter', () => {
    const ps = makeParams();
    const opt = new Adam(ps);
    ps[0].grad = new Tensor(new Float32Array(5).fill(1), [5]);
    opt.step();
    const s = opt.stateDict();
    expect(Object.keys(s.buffers)).toEqual(['0.exp_avg', '0.exp_avg_sq']);
    expect(s.step).toEqual([1, 0]);
    expect(s.hyper).toEqual({ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 });
    const sgd = new SGD(ps, { lr: 0.1, momentum: 0.5 });
    sgd.step();
    expect(Object.keys(sgd.stateDict().buffers)).toEqual(['0.momentum_buffer']);
  });

  it('rejects a state with unknown or missing pieces, naming them, and stays unchanged', () => {
    const ps = makeParams();
    const opt = new Adam(ps, { lr: 0.5 });
    ps[0].grad = new Tensor(new Float32Array(5).fill(1), [5]);
    opt.step();
    const good = opt.stateDict();
    const fresh = new Adam(makeParams(), { lr: 0.1 });
    expect(() => fresh.loadStateDict({ ...good, buffers: { ...good.buffers, '0.momentum_buffer': good.buffers['0.exp_avg'] } })).toThrow(/unexpected buffer '0.momentum_buffer'/);
    expect(() => fresh.loadStateDict({ ...good, buffers: { '0.exp_avg': good.buffers['0.exp_avg'] } })).toThrow(/0\.exp_avg_sq are missing/);
    expect(() => fresh.loadStateDict({ ...good, buffers: { ...good.buffers, '0.exp_avg': new Tensor(new Float32Array(3), [3]) } })).toThrow(ShapeError);
    expect(() => fresh.loadStateDict({ ...good, hyper: { ...good.hyper, momentum: 0.9 } })).toThrow(/unexpected \["momentum"\]/);
    expect(() => fresh.loadStateDict({ ...good, step: [1] })).toThrow(OptionError);
    expect(() => new SGD(makeParams(), { lr: 0.1 }).loadStateDict(good)).toThrow(OptionError);
    expect(fresh.lr).toBe(0.1);
    fresh.loadStateDict(good);
    expect(fresh.lr).toBe(0.5);
  });
});
