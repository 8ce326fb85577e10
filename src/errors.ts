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

/**
 * A file or directory that cannot be read or written as asked: missing, a directory where a file
 * was expected, unreadable, too large to read whole, or a write that failed (disk full, read-only,
 * no permission). `code` is the operating system's code (`ENOENT`, `ENOSPC`, …) when one was given.
 */
export class FileError extends SpikesslError {
  readonly code: string | undefined;
  constructor(message: string, code?: string) {
    super(message);
    this.code = code;
  }
}

/** An option or argument outside its allowed values. */
export class OptionError extends SpikesslError {}

/** Autograd misuse: backward through a freed graph, a non-scalar root without a gradient, NaN in anomaly mode. */
export class GradError extends SpikesslError {}

/** Formats a shape the way error messages print it: `[2, 3]`. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
