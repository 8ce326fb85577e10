/**
 * The worker pool's hand-off (issue 23, item 1): a waiter must go by the done flag, not by being
 * woken. Here a worker wakes the waiter while the flag is still 0 — as a notify left over from
 * the previous job does — and sets the flag only later.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { awaitFlag } from '../../src/node/threads';

/** A worker that wakes the thread waiting on flags[0] while it is still 0, then after `laterMs` stores `status` there. */
function staleThenDone(flags: Int32Array, status: number, laterMs: number): Worker {
  const code = `
    const { workerData } = require('node:worker_threads');
    const flags = new Int32Array(workerData.buffer);
    while (Atomics.notify(flags, 0, 1) === 0) {} // spin until the main thread waits, then wake it: flag still 0
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, workerData.laterMs);
    Atomics.store(flags, 0, workerData.status);
    Atomics.notify(flags, 0);`;
  return new Worker(code, { eval: true, workerData: { buffer: flags.buffer, status, laterMs } });
}

describe('awaitFlag', () => {
  it('keeps waiting through a wake-up that comes before the flag is set', async () => {
    const flags = new Int32Array(new SharedArrayBuffer(4));
    const worker = staleThenDone(flags, 1, 50);
    expect(awaitFlag(flags, 0, 10_000)).toBe(true);
    expect(Atomics.load(flags, 0)).toBe(1); // a single Atomics.wait returns "ok" here with the flag still 0
    await worker.terminate();
  });

  it('returns the failed status (2) as set, also after a stale wake-up', async () => {
    const flags = new Int32Array(new SharedArrayBuffer(4));
    const worker = staleThenDone(flags, 2, 20);
    expect(awaitFlag(flags, 0, 10_000)).toBe(true);
    expect(Atomics.load(flags, 0)).toBe(2);
    await worker.terminate();
  });

  it('times out (false) when nobody sets the flag, after at least the timeout', () => {
    const flags = new Int32Array(new SharedArrayBuffer(4));
    const t0 = performance.now();
    expect(awaitFlag(flags, 0, 30)).toBe(false);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(29);
  });

  it('returns at once when the flag is already set, even with no time left', () => {
    const flags = new Int32Array(new SharedArrayBuffer(4)).fill(1);
    expect(awaitFlag(flags, 0, 0)).toBe(true);
  });
});
