/**
 * Progress of a task on a terminal: a bar redrawn in place (at most ten times a second) that fits
 * the terminal's width when the stream is a TTY, otherwise a plain line every ten seconds and one
 * at the end, so logs stay short.
 */
import { formatTaskProgress } from '../report/progress';

/** Where progress goes: a writable stream, with `isTTY` and `columns` when it is a terminal. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Options of {@link terminalProgress}. */
export interface TerminalProgressOptions {
  /** Default process.stdout. */
  stream?: ProgressStream;
  /** Seconds between plain lines when the stream is not a terminal. Default 10. */
  interval?: number;
}

/**
 * A progress callback `(done, total)` for the task `label`. The line is finished (a newline on a
 * terminal) when `done` reaches `total`.
 *
 * @example
 * ```ts
 * const features = datasetFeatures(encoder, test, { steps: 4, rng, onProgress: terminalProgress('features of the test images') });
 * ```
 */
export function terminalProgress(label: string, options: TerminalProgressOptions = {}): (done: number, total: number) => void {
  const stream = options.stream ?? process.stdout;
  const interval = (options.interval ?? 10) * 1000;
  const start = performance.now();
  let last = -Infinity;
  let finished = false;
  return (done, total) => {
    if (finished || total <= 0) return;
    const now = performance.now();
    const end = done >= total;
    const tty = stream.isTTY === true;
    if (!end && now - last < (tty ? 100 : interval)) return;
    last = now;
    const line = formatTaskProgress({ label, done: Math.min(done, total), total, seconds: (now - start) / 1000 }, { tty, width: stream.columns || 80 });
    stream.write(tty ? `\r${line}${end ? '\n' : ''}` : `${line}\n`);
    finished = end;
  };
}
