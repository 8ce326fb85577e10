/** Initialisers against PyTorch's formulas for fans, gains and bounds. */
import { describe, expect, it } from 'vitest';
import { OptionError, Rng, ShapeError, calculateGain, fanInOut, kaimingNormal, kaimingUniform, xavierUniform, zeros } from '../../src/index';

function stats(d: Float32Array): { mean: number; std: number; maxAbs: number } {
  let m = 0;
  let maxAbs = 0;
  for (const v of d) {
    m += v / d.length;
    maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  let s = 0;
  for (const v of d) s += (v - m) ** 2 / d.length;
  return { mean: m, std: Math.sqrt(s), maxAbs };
}

describe('init', () => {
  it('computes fans as PyTorch: [out, in] and [out, in, kh, kw]', () => {
    expect(fanInOut([512, 784])).toEqual({ fanIn: 784, fanOut: 512 });
    expect(fanInOut([16, 3, 5, 3])).toEqual({ fanIn: 45, fanOut: 240 });
    expect(() => fanInOut([5])).toThrow(ShapeError);
  });

  it('gives the gains of torch.nn.init.calculate_gain', () => {
    expect(calculateGain('linear')).toBe(1);
    expect(calculateGain('relu')).toBe(Math.SQRT2);
    expect(calculateGain('tanh')).toBeCloseTo(5 / 3, 12);
    expect(calculateGain('leaky_relu', Math.sqrt(5))).toBeCloseTo(Math.sqrt(1 / 3), 12);
    expect(calculateGain('leaky_relu')).toBeCloseTo(Math.sqrt(2 / (1 + 0.0001)), 12);
    expect(() => calculateGain('swish' as never)).toThrow(OptionError);
  });

  it('kaimingUniform with a = √5 is U(±1/√fan_in); default a = 0 gives √(6/fan_in); fanOut mode', () => {
    const w = kaimingUniform([200, 300], new Rng(1), { a: Math.sqrt(5) });
    const b = 1 / Math.sqrt(300);
    const s = stats(w.data);
    expect(s.maxAbs).toBeLessThanOrEqual(b);
    expect(s.maxAbs).toBeGreaterThan(0.999 * b);
    expect(s.std / (b / Math.sqrt(3))).toBeCloseTo(1, 1);
    expect(stats(kaimingUniform([200, 300], new Rng(1)).data).maxAbs).toBeLessThanOrEqual(Math.sqrt(6 / 300));
    expect(stats(kaimingUniform([200, 300], new Rng(1)).data).maxAbs).toBeGreaterThan(0.999 * Math.sqrt(6 / 300));
    expect(stats(kaimingUniform([20, 30, 3, 3], new Rng(1), { mode: 'fanOut' }).data).maxAbs).toBeLessThanOrEqual(Math.sqrt(6 / 180));
  });

  it('kaimingNormal has mean 0 and std gain/√fan', () => {
    const s = stats(kaimingNormal([64, 16, 3, 3], new Rng(2), { nonlinearity: 'relu' }).data);
    expect(Math.abs(s.mean)).toBeLessThan(0.01);
    expect(s.std / Math.sqrt(2 / 144)).toBeCloseTo(1, 1);
  });

  it('xavierUniform is U(±gain·√(6/(fan_in + fan_out)))', () => {
    const s = stats(xavierUniform([100, 400], new Rng(3), { gain: 2 }).data);
    const bound = 2 * Math.sqrt(6 / 500);
    expect(s.maxAbs).toBeLessThanOrEqual(bound);
    expect(s.maxAbs).toBeGreaterThan(0.995 * bound);
  });

  it('fills a given tensor in place and leaves empty tensors alone', () => {
    const t = zeros([3, 4]);
    expect(kaimingUniform(t, new Rng(0))).toBe(t);
    expect(t.data.some((v) => v !== 0)).toBe(true);
    expect(kaimingUniform([0, 4], new Rng(0)).size).toBe(0);
    expect(() => kaimingUniform([3, 4], new Rng(0), { mode: 'fan' as never })).toThrow(OptionError);
  });
});
