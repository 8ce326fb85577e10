/** Gradient clipping by global norm (PyTorch's `torch.nn.utils.clip_grad_norm_`). */
import { GradError, OptionError } from '../errors';
import type { Tensor } from '../tensor/tensor';

/** Options of {@link clipGradNorm}. */
export interface ClipGradNormOptions {
  /** 2 (default) for the Euclidean norm, Infinity for the largest |g|. */
  normType?: 2 | typeof Infinity;
  /** Throw a GradError when the total norm is NaN or infinite, instead of scaling by it. Default false (as PyTorch). */
  errorIfNonfinite?: boolean;
}

/**
 * Scales all gradients in place so that their joint norm is at most `maxNorm`, and returns
 * the norm before clipping. The norm is taken over all gradients together as if they were
 * one vector: ‖g‖ = √Σ g². When ‖g‖ > maxNorm every gradient is multiplied by
 * maxNorm/(‖g‖ + 1e-6), as PyTorch does. Parameters without a gradient are skipped.
 *
 * @example
 * ```ts
 * loss.backward();
 * const norm = clipGradNorm(model.parameters(), 1.0);
 * opt.step();
 * ```
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number, options: ClipGradNormOptions = {}): number {
  const normType = options.normType ?? 2;
  if (normType !== 2 && normType !== Infinity) throw new OptionError(`clipGradNorm: normType must be 2 or Infinity, got ${normType}`);
  if (!(maxNorm >= 0)) throw new OptionError(`clipGradNorm: maxNorm must be a number ≥ 0, got ${maxNorm}`);
  const grads: Float32Array[] = [];
  for (const p of params) if (p.grad !== null) grads.push(p.grad.data);
  let total = 0;
  for (const g of grads) {
    if (normType === 2) {
      for (let i = 0; i < g.length; i++) total += g[i] * g[i];
    } else {
      for (let i = 0; i < g.length; i++) {
        const a = Math.abs(g[i]);
        if (a > total || a !== a) total = a;
      }
    }
  }
  if (normType === 2) total = Math.sqrt(total);
  if (!Number.isFinite(total) && options.errorIfNonfinite) {
    throw new GradError(`clipGradNorm: the total gradient norm is ${total}; set errorIfNonfinite: false to scale anyway`);
  }
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1 || coef !== coef) {
    for (const g of grads) for (let i = 0; i < g.length; i++) g[i] *= coef;
  }
  return total;
}
