import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OptionError } from '../../src/errors';
import { SURROGATES, atan, custom, fastSigmoid, heaviside, rectangular, sigmoid, straightThrough, surrogateFromSpec, surrogateSpec, triangular } from '../../src/neurons/surrogate';

/** The smooth functions each surrogate stands for, written from the documentation. */
const smooth = {
  atan: (a: number) => (x: number) => 0.5 + Math.atan((Math.PI * a * x) / 2) / Math.PI,
  fastSigmoid: (k: number) => (x: number) => x / (1 + k * Math.abs(x)),
  sigmoid: (k: number) => (x: number) => 1 / (1 + Math.exp(-k * x)),
  triangular: (w: number) => (x: number) => {
    if (x <= -w) return 0;
    if (x >= w) return 1;
    return x <= 0 ? (x + w) ** 2 / (2 * w * w) : 1 - (w - x) ** 2 / (2 * w * w);
  },
  rectangular: (w: number) => (x: number) => Math.min(1, Math.max(0, x / w + 0.5)),
};

function fd(f: (x: number) => number, x: number, h: number): number {
  return (f(x + h) - f(x - h)) / (2 * h);
}

describe('surrogate derivatives against finite differences of their smooth functions', () => {
  const param = fc.double({ min: 0.5, max: 30, noNaN: true });
  const xs = fc.double({ min: -3, max: 3, noNaN: true });
  it('atan, fastSigmoid, sigmoid', () => {
    fc.assert(
      fc.property(param, xs, (a, x) => {
        const h = 1e-6;
        fc.pre(Math.abs(x) > 1e-4);
        for (const [sg, f] of [
          [atan({ alpha: a }), smooth.atan(a)],
          [fastSigmoid({ slope: a }), smooth.fastSigmoid(a)],
          [sigmoid({ slope: a }), smooth.sigmoid(a)],
        ] as const) {
          const n = fd(f, x, h);
          expect(Math.abs(sg.derivative(x) - n)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(n)) * Math.max(1, a));
        }
      }),
    );
  });

  it('triangular and rectangular (away from their corners)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.2, max: 3, noNaN: true }), xs, (w, x) => {
        const h = 1e-7;
        fc.pre([0, w, -w].every((c) => Math.abs(x - c) > 1e-5) && [w / 2, -w / 2].every((c) => Math.abs(x - c) > 1e-5));
        expect(triangular({ width: w }).derivative(x)).toBeCloseTo(fd(smooth.triangular(w), x, h), 5);
        expect(rectangular({ width: w }).derivative(x)).toBeCloseTo(fd(smooth.rectangular(w), x, h), 5);
      }),
    );
  });

  it('uses the documented defaults and formulas', () => {
    expect(atan().params).toEqual({ alpha: 2 });
    expect(atan().derivative(0)).toBe(1); // α/2 at x = 0
    expect(fastSigmoid().derivative(0.04)).toBeCloseTo(1 / 4, 12); // 1/(1 + 25·0.04)²
    expect(sigmoid().derivative(0)).toBe(25 / 4);
    expect(triangular().derivative(0.25)).toBe(0.75);
    expect(rectangular().derivative(0.49)).toBe(1);
    expect(rectangular().derivative(0.5)).toBe(0);
    expect(straightThrough().derivative(123)).toBe(1);
    expect(custom('twice', (x) => 2 * x).derivative(3)).toBe(6);
  });

  it('sigmoid stays finite for any x', () => {
    for (const x of [-1e30, -1e4, 1e4, 1e30]) {
      const d = sigmoid({ slope: 25 }).derivative(x);
      expect(Number.isFinite(d)).toBe(true);
      expect(d).toBeGreaterThanOrEqual(0);
    }
  });

  it('the spike function is strictly greater than zero', () => {
    expect([heaviside(-1), heaviside(0), heaviside(-0), heaviside(1e-30)]).toEqual([0, 0, 0, 1]);
  });

  it('rejects bad parameters', () => {
    expect(() => atan({ alpha: 0 })).toThrow(OptionError);
    expect(() => fastSigmoid({ slope: -1 })).toThrow(/slope must be a positive/);
    expect(() => triangular({ width: Number.NaN })).toThrow(OptionError);
  });
});

describe('surrogate specs', () => {
  it('rebuild each built-in surrogate with its parameters; a custom one has no spec', () => {
    const made = [atan({ alpha: 3 }), fastSigmoid({ slope: 7 }), sigmoid({ slope: 4 }), triangular({ width: 0.5 }), rectangular({ width: 2 }), straightThrough()];
    // One of each built-in, named as the table lists them.
    expect(made.map((s) => s.name).sort()).toEqual(Object.keys(SURROGATES).sort());
    for (const s of made) {
      const spec = surrogateSpec(s)!;
      expect(spec).toEqual({ name: s.name, params: s.params });
      const again = surrogateFromSpec(JSON.parse(JSON.stringify(spec)));
      for (const x of [-1.7, -0.3, 0, 0.2, 0.9, 2.5]) expect(again.derivative(x)).toBe(s.derivative(x));
    }
    // A custom surrogate has no spec, and cannot take a built-in's name (which would claim one).
    expect(surrogateSpec(custom('gaussian', () => 1, { width: 2 }))).toBeNull();
    expect(() => custom('atan', () => 1, { alpha: 2 })).toThrow(OptionError);
    expect(() => surrogateFromSpec({ name: 'gaussian', params: {} })).toThrow(OptionError);
    // Nor can a spec carry a parameter its surrogate does not have.
    expect(() => surrogateFromSpec({ name: 'atan', params: { slope: 3 } })).toThrow(/no parameter slope/);
  });
});
