/**
 * Error classes of spikessl. Each names what was expected and what came, so a
 * failure points at its cause instead of surfacing later as garbage numbers.
 */

/** Base class: every error spikessl throws on purpose is a `SpikesslError`. */
export class SpikesslError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A tensor shape that does not fit the operation: mismatched, negative, non-integer, or out of range. */
export class ShapeError extends SpikesslError {}

/** A file or byte buffer that is not what its format says (IDX, safetensors, checkpoints). */
export class DataFormatError extends SpikesslError {}

/** An option or argument outside its allowed values. */
export class OptionError extends SpikesslError {}

/** Autograd misuse: backward through a freed graph, a non-scalar root without a gradient, NaN in anomaly mode. */
export class GradError extends SpikesslError {}

/** Formats a shape the way error messages print it: `[2, 3]`. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
