/**
 * Worker threads for the big kernels in Node: `enableThreads()` starts workers and installs
 * a {@link RowParallel} that splits the output rows of a GEMM or an event-driven spike GEMM
 * between them and the calling thread. Operands are copied into SharedArrayBuffers (a cost
 * linear in their size, small next to the product); the caller computes its own rows in
 * place and waits on an Atomics flag per worker. Each row is computed exactly as on one
 * thread, so results do not depend on the thread count.
 */
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { OptionError, SpikesslError } from '../errors';
import { gemmOneThread } from '../tensor/gemm';
import { type RowParallel, rowParallel, setRowParallel } from '../tensor/parallel';
import { type SpikeIndex, spikeGemmRows } from '../tensor/spikes';

/** A job for one worker: rows [r0, r1) of the output, operands in shared memory. */
export type WorkerJob = {
  slot: number;
  done: SharedArrayBuffer;
  r0: number;
  r1: number;
  M: number;
  N: number;
  K: number;
  b: SharedArrayBuffer;
  c: SharedArrayBuffer;
  accumulate: boolean;
} & (
  | { kind: 'gemm'; a: SharedArrayBuffer; transA: boolean; transB: boolean }
  | { kind: 'spikeGemm'; rowPtr: SharedArrayBuffer; idx: SharedArrayBuffer; nnz: number; transB: boolean }
);

/** A growable shared buffer. */
class Shared {
  buffer = new SharedArrayBuffer(0);
  floats(n: number): Float32Array {
    if (this.buffer.byteLength < 4 * n) this.buffer = new SharedArrayBuffer(4 * Math.max(n, Math.ceil(this.buffer.byteLength / 2)));
    return new Float32Array(this.buffer, 0, n);
  }
  ints(n: number): Int32Array {
    if (this.buffer.byteLength < 4 * n) this.buffer = new SharedArrayBuffer(4 * Math.max(n, Math.ceil(this.buffer.byteLength / 2)));
    return new Int32Array(this.buffer, 0, n);
  }
}

const WAIT_MS = 120_000;

class WorkerPool implements RowParallel {
  readonly threads: number;
  private readonly workers: Worker[];
  private readonly done = new SharedArrayBuffer(4 * 64);
  private readonly a = new Shared();
  private readonly b = new Shared();
  private readonly c = new Shared();
  private readonly rowPtr = new Shared();
  private readonly idx = new Shared();

  constructor(threads: number, script: URL) {
    this.threads = threads;
    this.workers = Array.from({ length: threads - 1 }, () => {
      const w = new Worker(script);
      w.unref();
      return w;
    });
  }

  terminate(): Promise<number[]> {
    return Promise.all(this.workers.map((w) => w.terminate()));
  }

  /** Posts one job per worker, runs `own` on this thread, then waits for every worker. */
  private run(jobs: WorkerJob[], own: () => void): void {
    const flags = new Int32Array(this.done);
    jobs.forEach((job, i) => {
      Atomics.store(flags, job.slot, 0);
      this.workers[i].postMessage(job);
    });
    own();
    for (const job of jobs) {
      if (Atomics.wait(flags, job.slot, 0, WAIT_MS) === 'timed-out') throw new SpikesslError(`enableThreads: worker ${job.slot} did not answer within ${WAIT_MS / 1000} s`);
      if (Atomics.load(flags, job.slot) !== 1) throw new SpikesslError(`enableThreads: worker ${job.slot} failed (its error is on stderr); call disableThreads() to run on one thread`);
    }
  }

  gemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number,
    A: Float32Array, aOff: number, lda: number,
    B: Float32Array, bOff: number, ldb: number,
    C: Float32Array, cOff: number, ldc: number,
    accumulate: boolean,
  ): boolean {
    // Compact copies: op(A) rows of the workers' share read from a [M, K] (or [K, M]) copy.
    const a = this.a.floats(M * K);
    copyMatrix(A, aOff, lda, transA ? K : M, transA ? M : K, a);
    const b = this.b.floats(K * N);
    copyMatrix(B, bOff, ldb, transB ? N : K, transB ? K : N, b);
    const c = this.c.floats(M * N);
    const bounds = splitEven(M, this.threads);
    if (accumulate) copyMatrix(C, cOff, ldc, bounds[this.threads - 1], N, c);
    const jobs: WorkerJob[] = this.workers.map((_, w) => ({
      kind: 'gemm', slot: w, done: this.done, r0: bounds[w], r1: bounds[w + 1], M, N, K, transA, transB, accumulate,
      a: this.a.buffer, b: this.b.buffer, c: this.c.buffer,
    }));
    const mine = bounds[this.threads - 1];
    this.run(jobs, () => {
      const rows = M - mine;
      gemmOneThread(transA, transB, rows, N, K, A, aOff + (transA ? mine : mine * lda), lda, B, bOff, ldb, C, cOff + mine * ldc, ldc, accumulate);
    });
    for (let r = 0; r < mine; r++) C.set(c.subarray(r * N, r * N + N), cOff + r * ldc);
    return true;
  }

  spikeGemm(ix: SpikeIndex, B: Float32Array, N: number, C: Float32Array, accumulate: boolean, transB: boolean): boolean {
    const rowPtr = this.rowPtr.ints(ix.rows + 1);
    rowPtr.set(ix.rowPtr);
    const nnz = ix.idx.length;
    this.idx.ints(nnz).set(ix.idx);
    this.b.floats(ix.cols * N).set(B.subarray(0, ix.cols * N));
    const c = this.c.floats(ix.rows * N);
    const bounds = splitBySpikes(ix, this.threads);
    const mine = bounds[this.threads - 1];
    if (accumulate) c.set(C.subarray(0, mine * N));
    const jobs: WorkerJob[] = this.workers.map((_, w) => ({
      kind: 'spikeGemm', slot: w, done: this.done, r0: bounds[w], r1: bounds[w + 1], M: ix.rows, N, K: ix.cols, accumulate,
      b: this.b.buffer, c: this.c.buffer, rowPtr: this.rowPtr.buffer, idx: this.idx.buffer, nnz, transB,
    }));
    this.run(jobs, () => spikeGemmRows(ix, B, N, C, accumulate, transB, mine, ix.rows));
    C.set(c.subarray(0, mine * N));
    return true;
  }
}

/** Copies a rows×cols block (row stride ld, from off) into a compact array. */
function copyMatrix(src: Float32Array, off: number, ld: number, rows: number, cols: number, dst: Float32Array): void {
  if (ld === cols) {
    dst.set(src.subarray(off, off + rows * cols));
    return;
  }
  for (let r = 0; r < rows; r++) dst.set(src.subarray(off + r * ld, off + r * ld + cols), r * cols);
}

/** Row boundaries splitting m rows into `parts` near-equal ranges. */
function splitEven(m: number, parts: number): number[] {
  return Array.from({ length: parts + 1 }, (_, i) => Math.round((i * m) / parts));
}

/** Row boundaries giving each part about the same number of spikes (the work of a spike GEMM). */
function splitBySpikes(ix: SpikeIndex, parts: number): number[] {
  const bounds = [0];
  let r = 0;
  for (let p = 1; p < parts; p++) {
    const target = (p * ix.idx.length) / parts;
    while (r < ix.rows && ix.rowPtr[r] < target) r++;
    bounds.push(r);
  }
  bounds.push(ix.rows);
  return bounds;
}

let pool: WorkerPool | null = null;

/**
 * Runs the big kernels (GEMM, event-driven spike GEMM) on `threads` threads: this one and
 * threads − 1 workers. Default: the machine's available parallelism. `enableThreads(1)` is
 * the same as {@link disableThreads}. Needs the built package (`dist/worker.js`).
 *
 * @example
 * ```ts
 * import { enableThreads } from 'spikessl/node';
 * enableThreads(); // 2 threads on a 2-core machine
 * ```
 */
export function enableThreads(threads = availableParallelism()): void {
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw new OptionError(`enableThreads: threads must be an integer in [1, 64], got ${threads}`);
  void disableThreads();
  if (threads === 1) return;
  const script = new URL('./worker.js', import.meta.url);
  if (!existsSync(fileURLToPath(script))) {
    throw new OptionError(`enableThreads: no worker script at ${fileURLToPath(script)}; threads need the built package (npm run build)`);
  }
  pool = new WorkerPool(threads, script);
  setRowParallel(pool);
}

/** Back to one thread; stops the workers. */
export function disableThreads(): Promise<void> {
  const p = pool;
  pool = null;
  if (rowParallel() === p) setRowParallel(null);
  return p ? p.terminate().then(() => undefined) : Promise.resolve();
}

/** Threads the kernels use now (1 when none were enabled). */
export function threadCount(): number {
  return rowParallel()?.threads ?? 1;
}
