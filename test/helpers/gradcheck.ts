/**
 * Central finite differences for checking backward rules. The loss is L = Σ f(x)·W with a
 * fixed random W, evaluated in double precision; each input element is perturbed by ±h in
 * float32 and the step actually taken (after float32 rounding) is used as the divisor.
 */
import { Rng, Tensor, backward } from '../../src/index';

export interface GradcheckResult {
  ok: boolean;
  /** The worst |analytic − numeric| / (atol + rtol·|numeric|) over all checked elements (≤ 1 passes). */
  worst: number;
  detail: string;
}

export interface GradcheckOptions {
  h?: number;
  rtol?: number;
  atol?: number;
  seed?: number;
}

function weightedSum(out: Tensor, w: Float64Array): number {
  let s = 0;
  for (let i = 0; i < out.size; i++) s += out.data[i] * w[i];
  return s;
}

export function gradcheck(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], options: GradcheckOptions = {}): GradcheckResult {
  const h = options.h ?? 1e-2;
  const rtol = options.rtol ?? 2e-2;
  const atol = options.atol ?? 2e-3;
  const rng = new Rng(options.seed ?? 7);
  const leaves = inputs.map((x) => new Tensor(x.data.slice(), x.shape, { requiresGrad: true }));
  const out = f(...leaves);
  const w = new Float64Array(out.size);
  for (let i = 0; i < w.length; i++) w[i] = rng.uniformRange(-1, 1);
  backward(out, new Tensor(Float32Array.from(w), out.shape));
  let worst = 0;
  let detail = 'all gradients match';
  for (let k = 0; k < leaves.length; k++) {
    const analytic = leaves[k].grad?.data ?? new Float32Array(leaves[k].size);
    const base = inputs[k].data;
    for (let i = 0; i < base.length; i++) {
      const plus = inputs.map((x) => new Tensor(x.data.slice(), x.shape));
      const minus = inputs.map((x) => new Tensor(x.data.slice(), x.shape));
      plus[k].data[i] = base[i] + h;
      minus[k].data[i] = base[i] - h;
      const step = plus[k].data[i] - minus[k].data[i];
      const numeric = (weightedSum(f(...plus), w) - weightedSum(f(...minus), w)) / step;
      const err = Math.abs(analytic[i] - numeric) / (atol + rtol * Math.abs(numeric));
      if (err > worst) {
        worst = err;
        detail = `input ${k} element ${i}: analytic ${analytic[i]} vs numeric ${numeric}`;
      }
    }
  }
  return { ok: worst <= 1, worst, detail };
}
