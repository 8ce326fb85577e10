/** Timing and memory helpers shared by the bench scripts. */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
/** Forces a full garbage collection (so memory deltas measure what is really retained). */
export const gc: () => void = runInNewContext('gc');

/** Median wall time in ms of `reps` runs of fn after `warmup` unmeasured runs. */
export function medianMs(fn: () => void, reps: number, warmup = 1): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/**
 * Median wall times in ms of several cases measured in alternation (round by round, so a
 * slow spell of the machine hits every case alike). Each round, a case's `prepare` builds
 * fresh inputs untimed, then the function `prepare` returned is timed once. No forced GC:
 * collections fall where they would in a training loop.
 */
export function interleavedMedianMs(cases: Record<string, () => () => void>, rounds: number, warmup = 2): Record<string, number> {
  const times: Record<string, number[]> = {};
  for (const name of Object.keys(cases)) times[name] = [];
  for (let round = -warmup; round < rounds; round++) {
    for (const [name, prepare] of Object.entries(cases)) {
      const run = prepare();
      const t0 = performance.now();
      run();
      const ms = performance.now() - t0;
      if (round >= 0) times[name].push(ms);
    }
  }
  const out: Record<string, number> = {};
  for (const [name, ts] of Object.entries(times)) out[name] = ts.sort((a, b) => a - b)[Math.floor(ts.length / 2)];
  return out;
}

/** Bytes of ArrayBuffer memory (typed arrays) currently allocated, after a full GC. */
export function arrayBytes(): number {
  // Two passes: typed-array backing stores are external memory, released a collection late.
  gc();
  gc();
  return process.memoryUsage().arrayBuffers;
}

/** Prints rows as a markdown table. */
export function table(rows: Array<Record<string, string | number>>): string {
  if (rows.length === 0) return '';
  const keys = Object.keys(rows[0]);
  const fmt = (v: string | number) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : v);
  return [`| ${keys.join(' | ')} |`, `|${keys.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${keys.map((k) => fmt(r[k])).join(' | ')} |`)].join('\n');
}
