/**
 * The hook through which the big kernels (GEMM, event-driven spike GEMM) split their output
 * rows across threads. The browser-safe core only defines the interface and a registry; in
 * Node, `enableThreads()` from `spikessl/node` installs a worker-thread implementation. With
 * nothing installed (the default, and always in a browser) every kernel runs on the caller's
 * thread. Rows are independent, so results do not depend on the thread count.
 */
import type { SpikeIndex } from './spikes';

/** Row-partitioned kernels on several threads; each returns false to decline (then the caller runs alone). */
export interface RowParallel {
  /** Threads in use, the caller's included. */
  readonly threads: number;
  gemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number,
    A: Float32Array, aOff: number, lda: number,
    B: Float32Array, bOff: number, ldb: number,
    C: Float32Array, cOff: number, ldc: number,
    accumulate: boolean,
  ): boolean;
  spikeGemm(ix: SpikeIndex, B: Float32Array, N: number, C: Float32Array, accumulate: boolean, transB: boolean): boolean;
}

let current: RowParallel | null = null;

/** Installs (or with null removes) the multi-threaded kernels. */
export function setRowParallel(p: RowParallel | null): void {
  current = p;
}

/** The installed multi-threaded kernels, or null. */
export function rowParallel(): RowParallel | null {
  return current;
}

/** Work below this many multiply-adds stays on one thread: a hand-off costs tens of microseconds. */
export const PARALLEL_MIN_WORK = 1 << 21;
