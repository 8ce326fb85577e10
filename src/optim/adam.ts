/** Adam (L2 weight decay, PyTorch's `torch.optim.Adam`) and AdamW (decoupled weight decay). */
import { OptionError } from '../errors';
import type { Tensor } from '../tensor/tensor';
import { type HyperValue, Optimizer, checkNonNegative } from './optimizer';

/** Options of {@link Adam} and {@link AdamW}. */
export interface AdamOptions {
  /** Learning rate. Default 1e-3. */
  lr?: number;
  /** Decay rates (β₁, β₂) of the first and second moment estimates. Default [0.9, 0.999]. */
  betas?: readonly [number, number];
  /** Added to the denominator. Default 1e-8. */
  eps?: number;
  /** Weight decay λ. Default 0 for Adam (an L2 term in the gradient), 0.01 for AdamW (decoupled). */
  weightDecay?: number;
}

function checkAdam(betas: readonly number[], eps: number, wd: number, op: string): void {
  if (!Array.isArray(betas) || betas.length !== 2 || !betas.every((b) => typeof b === 'number' && b >= 0 && b < 1)) {
    throw new OptionError(`${op}: betas must be two numbers in [0, 1), got ${JSON.stringify(betas)}`);
  }
  checkNonNegative(eps, 'eps', op);
  checkNonNegative(wd, 'weightDecay', op);
}

/**
 * Adam with PyTorch's update, per parameter p with gradient g at step t (bias-corrected):
 *
 *   g ← g + λ·p                     (Adam: L2 in the gradient)
 *   p ← p·(1 − lr·λ)                (AdamW instead: decoupled decay)
 *   m ← β₁·m + (1 − β₁)·g
 *   v ← β₂·v + (1 − β₂)·g²
 *   p ← p − lr/(1 − β₁ᵗ) · m / (√v/√(1 − β₂ᵗ) + ε)
 *
 * m and v are saved as `<i>.exp_avg` and `<i>.exp_avg_sq`.
 *
 * @example
 * ```ts
 * const opt = new Adam(model.parameters(), { lr: 1e-3 });
 * ```
 */
export class Adam extends Optimizer {
  betas: [number, number];
  eps: number;
  weightDecay: number;
  /** AdamW's decoupled decay instead of Adam's L2 term. */
  protected readonly decoupled: boolean;

  constructor(params: Iterable<Tensor>, options: AdamOptions = {}) {
    super(params, options.lr ?? 1e-3, new.target.name);
    this.decoupled = false;
    const betas = options.betas ?? [0.9, 0.999];
    this.betas = [betas[0], betas[1]];
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    checkAdam(betas, this.eps, this.weightDecay, new.target.name);
  }

  step(): void {
    const { lr, eps, weightDecay: wd } = this;
    const [b1, b2] = this.betas;
    const decay = this.decoupled ? 1 - lr * wd : 1;
    const l2 = this.decoupled ? 0 : wd;
    for (let i = 0; i < this.params.length; i++) {
      const gd = this.gradOf(i);
      if (gd === null) continue;
      const t = ++this.steps[i];
      const [m] = this.buffer(i, 'exp_avg');
      const [v] = this.buffer(i, 'exp_avg_sq');
      const stepSize = lr / (1 - Math.pow(b1, t));
      const bc2Sqrt = Math.sqrt(1 - Math.pow(b2, t));
      const pd = this.params[i].data;
      for (let j = 0; j < pd.length; j++) {
        const p = pd[j] * decay;
        const g = gd[j] + l2 * p;
        m[j] = b1 * m[j] + (1 - b1) * g;
        v[j] = b2 * v[j] + (1 - b2) * g * g;
        pd[j] = p - (stepSize * m[j]) / (Math.sqrt(v[j]) / bc2Sqrt + eps);
      }
    }
  }

  protected getHyper(): Record<string, HyperValue> {
    return { lr: this.lr, betas: [...this.betas], eps: this.eps, weightDecay: this.weightDecay };
  }

  protected setHyper(h: Record<string, HyperValue>): void {
    const op = `${this.constructor.name}.loadStateDict`;
    const betas = h.betas as number[];
    checkNonNegative(h.lr as number, 'lr', op);
    checkAdam(betas, h.eps as number, h.weightDecay as number, op);
    this.lr = h.lr as number;
    this.betas = [betas[0], betas[1]];
    this.eps = h.eps as number;
    this.weightDecay = h.weightDecay as number;
  }

  protected bufferNames(): readonly string[] {
    return ['exp_avg', 'exp_avg_sq'];
  }
}

/**
 * AdamW: Adam with decoupled weight decay (Loshchilov & Hutter), as `torch.optim.AdamW`:
 * the parameter first shrinks by p ← p·(1 − lr·λ), then takes Adam's step without an L2
 * term. Default weightDecay 0.01.
 *
 * @example
 * ```ts
 * const opt = new AdamW(model.parameters(), { lr: 1e-3, weightDecay: 1e-4 });
 * ```
 */
export class AdamW extends Adam {
  protected override readonly decoupled = true;

  constructor(params: Iterable<Tensor>, options: AdamOptions = {}) {
    super(params, { ...options, weightDecay: options.weightDecay ?? 0.01 });
  }
}
