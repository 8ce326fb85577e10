/** Spike utilities: the differentiable spike function, firing rates and counts. */
import { apply } from '../autograd/ops';
import { mean, sum } from '../autograd/functional';
import { ShapeError, fmtShape } from '../errors';
import type { Tensor } from '../tensor/tensor';
import type { Surrogate } from './surrogate';

/**
 * S = H(x) = [x > 0] elementwise, with the surrogate's derivative in backward. This is the
 * primitive a neuron is built from; the fused neurons do not need it, but a custom neuron
 * composed from autograd ops does.
 */
export function spike(x: Tensor, surrogate: Surrogate): Tensor {
  const out = apply('heaviside', [x], { derivative: surrogate.derivative });
  out.binary = true;
  return out;
}

function checkTimeFirst(s: Tensor, op: string): void {
  if (s.ndim < 1) throw new ShapeError(`${op}: expected spikes [T, ...], got ${fmtShape(s.shape)}`);
}

/** Mean over time of spikes [T, ...] → [...]: each neuron's firing rate in spikes per step. */
export function firingRate(spikes: Tensor): Tensor {
  checkTimeFirst(spikes, 'firingRate');
  return mean(spikes, 0);
}

/** Sum over time of spikes [T, ...] → [...]: each neuron's spike count. */
export function spikeCount(spikes: Tensor): Tensor {
  checkTimeFirst(spikes, 'spikeCount');
  return sum(spikes, 0);
}
