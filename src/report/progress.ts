/**
 * Terminal output for training: a progress line (a bar on a terminal, a plain log line
 * otherwise), durations, and aligned plain-text tables.
 */
import { OptionError } from '../errors';

/** One progress update of {@link formatProgress}. */
export interface Progress {
  /** Current epoch, 1-based. */
  epoch: number;
  epochs: number;
  /** Batches finished in the current epoch, 0 … batches. */
  batch: number;
  batches: number;
  /** The latest (or running mean) loss. */
  loss: number;
  samplesPerSecond: number;
  /** Estimated seconds until training ends; a non-finite value prints as "--". */
  etaSeconds: number;
}

/** Options of {@link formatProgress}. */
export interface ProgressFormatOptions {
  /** A terminal: one bar line to be written after '\r'. Otherwise a plain log line. */
  tty: boolean;
  /** Terminal columns (tty only). Default 80. */
  width?: number;
}

/**
 * Formats a duration: under 10 s with one decimal ("3.2s"), then whole seconds ("42s",
 * "1m 05s", "2h 03m 09s"). Non-finite input gives "--" (an ETA that is not known yet).
 *
 * @example
 * ```ts
 * formatDuration(65); // '1m 05s'
 * ```
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  if (seconds < 0) return '-' + formatDuration(-seconds);
  if (seconds < 9.95) return `${seconds.toFixed(1)}s`;
  const total = Math.round(seconds);
  const s = total % 60;
  const m = Math.floor(total / 60) % 60;
  const h = Math.floor(total / 3600);
  const two = (v: number) => String(v).padStart(2, '0');
  if (h > 0) return `${h}h ${two(m)}m ${two(s)}s`;
  if (m > 0) return `${m}m ${two(s)}s`;
  return `${s}s`;
}

/** A loss value with four significant digits, without an exponent for ordinary magnitudes. */
function formatLoss(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && a < 1e-3) return v.toExponential(3);
  if (a >= 1e4) return v.toFixed(0);
  return v.toPrecision(4);
}

function formatRate(v: number): string {
  if (!Number.isFinite(v) || v < 0) return '--';
  return v < 10 ? v.toFixed(1) : String(Math.round(v));
}

function checkCount(name: string, v: number, min: number, max: number, op = 'formatProgress'): void {
  if (!Number.isSafeInteger(v) || v < min || v > max) throw new OptionError(`${op}: ${name} must be an integer in [${min}, ${max}], got ${v}`);
}

/**
 * One progress line.
 *
 * - `tty: true`: `epoch 2/10 [████░░░░] 45/120 loss 0.1235 1235/s ETA 1m 05s`, the bar (the
 *   fraction of the epoch's batches done) stretched so the line is exactly `width − 1` columns —
 *   the caller writes `'\r' + line`, which overwrites the previous line completely and never
 *   wraps. On a narrow terminal the bar is dropped first, then the line is cut.
 * - `tty: false`: `epoch 2/10 batch 45/120 loss 0.1235 1235 samples/s ETA 1m 05s`, for logs.
 *
 * @example
 * ```ts
 * process.stdout.write('\r' + formatProgress(p, { tty: true, width: process.stdout.columns }));
 * ```
 */
export function formatProgress(p: Progress, o: ProgressFormatOptions): string {
  checkCount('epochs', p.epochs, 1, Number.MAX_SAFE_INTEGER);
  checkCount('epoch', p.epoch, 0, p.epochs);
  checkCount('batches', p.batches, 1, Number.MAX_SAFE_INTEGER);
  checkCount('batch', p.batch, 0, p.batches);
  const epoch = `epoch ${p.epoch}/${p.epochs}`;
  const count = `${p.batch}/${p.batches}`;
  const loss = `loss ${formatLoss(p.loss)}`;
  const eta = `ETA ${formatDuration(p.etaSeconds)}`;
  if (!o.tty) return `${epoch} batch ${count} ${loss} ${formatRate(p.samplesPerSecond)} samples/s ${eta}`;
  const width = o.width ?? 80;
  if (!Number.isSafeInteger(width) || width < 2) throw new OptionError(`formatProgress: width must be an integer ≥ 2, got ${width}`);
  const cols = width - 1;
  const tail = ` ${count} ${loss} ${formatRate(p.samplesPerSecond)}/s ${eta}`;
  const barWidth = cols - epoch.length - tail.length - 3; // ' [' and ']'
  let line: string;
  if (barWidth >= 5) {
    const filled = Math.floor((p.batch / p.batches) * barWidth);
    line = `${epoch} [${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)}]${tail}`;
  } else {
    line = epoch + tail;
  }
  return line.length > cols ? line.slice(0, cols) : line.padEnd(cols);
}

/** One update of {@link formatTaskProgress}: a task of `total` units, `done` so far, after `seconds`. */
export interface TaskProgress {
  /** What is being done, e.g. 'features of 20000 training images'. */
  label: string;
  done: number;
  total: number;
  /** Seconds since the task started (the ETA assumes a constant rate). */
  seconds: number;
}

/**
 * One progress line of a task that is not an epoch (feature extraction, probes, baselines).
 *
 * - `tty: true`: `features of 10000 test images [████░░░░] 4000/10000 6.2s ETA 9.3s`, stretched
 *   (or cut) to exactly `width − 1` columns like {@link formatProgress}, to be written after '\r'.
 * - `tty: false`: `features of 10000 test images: 4000/10000, 6.2s, ETA 9.3s`.
 *
 * @example
 * ```ts
 * formatTaskProgress({ label: 'kNN', done: 512, total: 1024, seconds: 2 }, { tty: false }); // 'kNN: 512/1024, 2.0s, ETA 2.0s'
 * ```
 */
export function formatTaskProgress(p: TaskProgress, o: ProgressFormatOptions): string {
  checkCount('total', p.total, 1, Number.MAX_SAFE_INTEGER, 'formatTaskProgress');
  checkCount('done', p.done, 0, p.total, 'formatTaskProgress');
  const eta = p.done === 0 ? Infinity : (p.seconds * (p.total - p.done)) / p.done;
  const tail = ` ${p.done}/${p.total} ${formatDuration(p.seconds)} ETA ${formatDuration(eta)}`;
  if (!o.tty) return `${p.label}: ${p.done}/${p.total}, ${formatDuration(p.seconds)}, ETA ${formatDuration(eta)}`;
  const width = o.width ?? 80;
  if (!Number.isSafeInteger(width) || width < 2) throw new OptionError(`formatTaskProgress: width must be an integer ≥ 2, got ${width}`);
  const cols = width - 1;
  const barWidth = cols - p.label.length - tail.length - 3;
  let line: string;
  if (barWidth >= 5) {
    const filled = Math.floor((p.done / p.total) * barWidth);
    line = `${p.label} [${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)}]${tail}`;
  } else {
    line = p.label + tail;
  }
  return line.length > cols ? line.slice(0, cols) : line.padEnd(cols);
}

/** A table cell: strings as they are, integers plainly, other numbers with 4 decimals. */
function cellText(v: string | number | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  return Number.isInteger(v) ? String(v) : Number.isFinite(v) ? v.toFixed(4) : String(v);
}

/**
 * An aligned plain-text table. Columns are the rows' keys in first-seen order; a header, a
 * dashed rule, then one line per row; columns are separated by two spaces, a column whose values
 * are all numbers is right-aligned (its header too), others left-aligned; a missing key is an
 * empty cell. Lines carry no trailing spaces. Numbers: integers as they are, others with 4
 * decimals — pass strings for any other format.
 *
 * @example
 * ```ts
 * formatTable([{ model: 'SSL encoder', linear: '94.12 %' }, { model: 'raw pixels', linear: '92.13 %' }]);
 * ```
 */
export function formatTable(rows: ReadonlyArray<Record<string, string | number>>): string {
  const keys: string[] = [];
  const seen = new Set<string>();
  for (const r of rows) {
    for (const k of Object.keys(r)) {
      if (!seen.has(k)) {
        seen.add(k);
        keys.push(k);
      }
    }
  }
  if (keys.length === 0) return '';
  const numeric = keys.map((k) => rows.every((r) => r[k] === undefined || typeof r[k] === 'number'));
  const cells = rows.map((r) => keys.map((k) => cellText(r[k])));
  const widths = keys.map((k, c) => Math.max(k.length, ...cells.map((row) => row[c].length)));
  const line = (row: string[]) => row.map((s, c) => (numeric[c] ? s.padStart(widths[c]) : s.padEnd(widths[c]))).join('  ').trimEnd();
  return [line(keys), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}
