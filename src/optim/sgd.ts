/** Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay (PyTorch's `torch.optim.SGD`). */
import { OptionError } from '../errors';
import type { Tensor } from '../tensor/tensor';
import { type HyperValue, Optimizer, checkNonNegative } from './optimizer';

/** Options of {@link SGD}. */
export interface SGDOptions {
  /** Learning rate. */
  lr: number;
  /** Momentum factor μ. Default 0 (plain SGD, no buffer). */
  momentum?: number;
  /** Dampening τ of the momentum. Default 0. */
  dampening?: number;
  /** Nesterov momentum (needs momentum > 0 and dampening 0). Default false. */
  nesterov?: boolean;
  /** L2 penalty λ added to the gradient. Default 0. */
  weightDecay?: number;
}

function checkSGD(momentum: number, dampening: number, nesterov: boolean, weightDecay: number, op: string): void {
  checkNonNegative(momentum, 'momentum', op);
  checkNonNegative(dampening, 'dampening', op);
  checkNonNegative(weightDecay, 'weightDecay', op);
  if (typeof nesterov !== 'boolean') throw new OptionError(`${op}: nesterov must be a boolean, got ${String(nesterov)}`);
  if (nesterov && (momentum <= 0 || dampening !== 0)) {
    throw new OptionError(`${op}: Nesterov momentum needs momentum > 0 and dampening 0, got momentum ${momentum}, dampening ${dampening}`);
  }
}

/**
 * SGD with PyTorch's update, per parameter p with gradient g at step t:
 *
 *   g ← g + λ·p
 *   b ← g                       (t = 1)
 *   b ← μ·b + (1 − τ)·g         (t > 1)          (only when μ ≠ 0)
 *   g ← g + μ·b  (Nesterov)  or  g ← b
 *   p ← p − lr·g
 *
 * The buffer b is saved as `<i>.momentum_buffer`.
 *
 * @example
 * ```ts
 * const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 * loss.backward();
 * opt.step();
 * opt.zeroGrad();
 * ```
 */
export class SGD extends Optimizer {
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;

  constructor(params: Iterable<Tensor>, options: SGDOptions) {
    super(params, options.lr, 'SGD');
    this.momentum = options.momentum ?? 0;
    this.dampening = options.dampening ?? 0;
    this.nesterov = options.nesterov ?? false;
    this.weightDecay = options.weightDecay ?? 0;
    checkSGD(this.momentum, this.dampening, this.nesterov, this.weightDecay, 'SGD');
  }

  step(): void {
    const { lr, momentum: mu, dampening, nesterov, weightDecay: wd } = this;
    for (let i = 0; i < this.params.length; i++) {
      const gd = this.gradOf(i);
      if (gd === null) continue;
      this.steps[i]++;
      const pd = this.params[i].data;
      if (mu === 0) {
        for (let j = 0; j < pd.length; j++) pd[j] -= lr * (gd[j] + wd * pd[j]);
        continue;
      }
      const [buf, first] = this.buffer(i, 'momentum_buffer');
      for (let j = 0; j < pd.length; j++) {
        const g = gd[j] + wd * pd[j];
        buf[j] = first ? g : mu * buf[j] + (1 - dampening) * g;
        const b = buf[j]; // the stored float32 value, as PyTorch uses it
        pd[j] -= lr * (nesterov ? g + mu * b : b);
      }
    }
  }

  protected getHyper(): Record<string, HyperValue> {
    return { lr: this.lr, momentum: this.momentum, dampening: this.dampening, nesterov: this.nesterov, weightDecay: this.weightDecay };
  }

  protected setHyper(h: Record<string, HyperValue>): void {
    const [lr, momentum, dampening, wd] = [h.lr, h.momentum, h.dampening, h.weightDecay] as number[];
    checkNonNegative(lr, 'lr', 'SGD.loadStateDict');
    checkSGD(momentum, dampening, h.nesterov as boolean, wd, 'SGD.loadStateDict');
    this.lr = lr;
    this.momentum = momentum;
    this.dampening = dampening;
    this.nesterov = h.nesterov as boolean;
    this.weightDecay = wd;
  }

  protected bufferNames(h: Record<string, HyperValue>): readonly string[] {
    return h.momentum === 0 ? [] : ['momentum_buffer'];
  }
}
