/**
 * Worker threads in Node: `enableThreads()` starts workers and installs a {@link RowParallel}
 * that splits the output rows of a GEMM or an event-driven spike GEMM between them and the
 * calling thread. Worker 0 also takes side jobs (./views.ts runs a training step's second view
 * there), during which it takes no row jobs.
 * Operands are copied into SharedArrayBuffers (a cost linear in their size, small next to the
 * product). The rows are cut into chunks that each
 * thread claims from a shared counter as it frees up, so a slower thread takes fewer; the
 * caller computes its chunks in place and waits on an Atomics flag per worker. GEMM chunks
 * are whole 8-row micro-tiles and each row is computed exactly as on one thread, so results
 * do not depend on the thread count or on who took which chunk.
 */
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { OptionError, SpikesslError } from '../errors';
import { gemmChunks } from '../tensor/gemm';
import { type RowParallel, rowParallel, setRowParallel } from '../tensor/parallel';
import { type SpikeIndex, spikeGemmChunks } from '../tensor/spikes';
import { type WasmKernelKind, wasmKernelKind } from '../tensor/wasm';
import type { ViewJob, ViewJobBody } from './views';

/**
 * A job for the workers: a GEMM or spike GEMM whose output rows are cut into chunks that every
 * thread, the caller included, claims one at a time from a shared counter until none are left.
 */
export type WorkerJob = {
  slot: number;
  /** Int32 words: a done flag per worker slot, then the chunk counter (see SYNC_COUNTER). */
  sync: SharedArrayBuffer;
  /** Int32 per chunk: who computed it (0 = the caller, slot + 1 = a worker). */
  owners: SharedArrayBuffer;
  /** A failed worker's error message, UTF-8, ERROR_BYTES per slot. */
  errors: SharedArrayBuffer;
  /** The caller's kernels: a worker runs the same kind, so results do not depend on the thread count. */
  kernels: WasmKernelKind;
  M: number;
  N: number;
  K: number;
  chunk: number;
  b: SharedArrayBuffer;
  c: SharedArrayBuffer;
  accumulate: boolean;
} & (
  | { kind: 'gemm'; a: SharedArrayBuffer; transA: boolean; transB: boolean }
  | { kind: 'spikeGemm'; rowPtr: SharedArrayBuffer; idx: SharedArrayBuffer; nnz: number; transB: boolean }
);

/** Index of the chunk counter in the sync words (after the 64 done flags). */
export const SYNC_COUNTER = 64;
/** Room for one worker's error message. */
export const ERROR_BYTES = 1024;

/**
 * Claims chunks of `job` from the shared counter until none are left, runs `rows` on each
 * and records the claimant in the owners table.
 */
export function claimChunks(job: Pick<WorkerJob, 'sync' | 'owners' | 'M' | 'chunk'>, claimant: number, rows: (r0: number, r1: number) => void): void {
  const sync = new Int32Array(job.sync);
  const owners = new Int32Array(job.owners);
  const chunks = Math.ceil(job.M / job.chunk);
  for (let k = Atomics.add(sync, SYNC_COUNTER, 1); k < chunks; k = Atomics.add(sync, SYNC_COUNTER, 1)) {
    const r0 = k * job.chunk;
    rows(r0, Math.min(job.M, r0 + job.chunk));
    owners[k] = claimant;
  }
}

/**
 * Waits until `flags[index]` is no longer 0 (a worker's done or failed status), for at most
 * `timeoutMs`; false if it timed out. `Atomics.wait` can return "ok" while the flag is still
 * 0: a worker that stored its status for the previous job and was preempted before its
 * `Atomics.notify` wakes whoever waits on the same word for the next job. So the flag, not the
 * wake-up, says the job is done: wait again until it changes.
 */
export function awaitFlag(flags: Int32Array, index: number, timeoutMs: number): boolean {
  const deadline = performance.now() + timeoutMs;
  while (Atomics.load(flags, index) === 0) {
    const left = deadline - performance.now();
    if (left <= 0) return false;
    Atomics.wait(flags, index, 0, left);
  }
  return true;
}

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
  doubles(n: number): Float64Array {
    if (this.buffer.byteLength < 8 * n) this.buffer = new SharedArrayBuffer(8 * Math.max(n, Math.ceil(this.buffer.byteLength / 4)));
    return new Float64Array(this.buffer, 0, n);
  }
}

const WAIT_MS = 120_000;
/** Chunks per thread: enough to even out threads of unequal speed, few enough that per-chunk bookkeeping (A panels, counter, copy-back) stays small. */
const CHUNKS_PER_THREAD = 4;

/** The workers, and the row-parallel kernels run on them. */
export class WorkerPool implements RowParallel {
  readonly threads: number;
  /** Jobs run so far: row-split kernels, and encoder passes (training views, feature batches) run on a worker. */
  readonly activity = { rowJobs: 0, views: 0 };
  private readonly workers: Worker[];
  private readonly sync = new SharedArrayBuffer(4 * (SYNC_COUNTER + 1));
  /** Each worker's error message, ERROR_BYTES per slot. */
  readonly errors: SharedArrayBuffer;
  private readonly owners = new Shared();
  private readonly a = new Shared();
  private readonly b = new Shared();
  private readonly c = new Shared();
  private readonly rowPtr = new Shared();
  private readonly idx = new Shared();
  /** The side job in flight on worker 0 (it takes no row jobs meanwhile), or null. */
  private side: { flag: Int32Array; what: string } | null = null;
  private readonly sideFlag = new SharedArrayBuffer(4);

  constructor(threads: number, script: URL) {
    this.threads = threads;
    this.errors = new SharedArrayBuffer(ERROR_BYTES * threads);
    this.workers = Array.from({ length: threads - 1 }, () => {
      const w = new Worker(script);
      w.unref();
      return w;
    });
  }

  terminate(): Promise<number[]> {
    return Promise.all(this.workers.map((w) => w.terminate()));
  }

  /**
   * Posts the job to every worker, claims chunks on this thread too (`own` is handed the
   * schedule of this thread's chunks and computes their rows straight into the caller's
   * output), waits for every worker, then copies the rows the workers computed from the shared
   * output `c` (row length N) into C.
   */
  private run(
    job: Omit<WorkerJob, 'slot' | 'sync' | 'owners' | 'errors' | 'kernels'>, own: (schedule: (rows: (r0: number, r1: number) => void) => void) => void,
    c: Float32Array, C: Float32Array, cOff: number, ldc: number,
  ): void {
    const flags = new Int32Array(this.sync);
    Atomics.store(flags, SYNC_COUNTER, 0);
    const chunks = Math.ceil(job.M / job.chunk);
    this.owners.ints(chunks);
    const shared = { sync: this.sync, owners: this.owners.buffer, errors: this.errors };
    const slots = this.rowSlots();
    for (const slot of slots) {
      Atomics.store(flags, slot, 0);
      this.workers[slot].postMessage({ ...job, ...shared, slot, kernels: wasmKernelKind() } as WorkerJob);
    }
    own((rows) => claimChunks({ ...shared, M: job.M, chunk: job.chunk }, 0, rows));
    for (const slot of slots) {
      if (!awaitFlag(flags, slot, WAIT_MS)) throw new SpikesslError(`enableThreads: worker ${slot} did not answer within ${WAIT_MS / 1000} s`);
      if (Atomics.load(flags, slot) !== 1) throw new SpikesslError(`enableThreads: worker ${slot} failed: ${workerError(this.errors, slot)} (call disableThreads() to run on one thread)`);
    }
    this.activity.rowJobs++;
    const owners = new Int32Array(this.owners.buffer, 0, chunks);
    const N = job.N;
    for (let k = 0; k < chunks; k++) {
      if (owners[k] === 0) continue;
      for (let r = k * job.chunk; r < Math.min(job.M, (k + 1) * job.chunk); r++) C.set(c.subarray(r * N, r * N + N), cOff + r * ldc);
    }
  }

  gemm(
    transA: boolean, transB: boolean, M: number, N: number, K: number,
    A: Float32Array, aOff: number, lda: number,
    B: Float32Array, bOff: number, ldb: number,
    C: Float32Array, cOff: number, ldc: number,
    accumulate: boolean,
  ): boolean {
    if (this.rowSlots().length === 0) return false;
    // Compact copies of the operands; C too when accumulating, since any thread may take any rows.
    const a = this.a.floats(M * K);
    copyMatrix(A, aOff, lda, transA ? K : M, transA ? M : K, a);
    const b = this.b.floats(K * N);
    copyMatrix(B, bOff, ldb, transB ? N : K, transB ? K : N, b);
    const c = this.c.floats(M * N);
    if (accumulate) copyMatrix(C, cOff, ldc, M, N, c);
    // Chunks of whole 8-row micro-tiles, so every row is computed exactly as on one thread.
    const chunk = Math.max(8, Math.ceil(M / (this.threads * CHUNKS_PER_THREAD) / 8) * 8);
    const job = { kind: 'gemm' as const, M, N, K, chunk, transA, transB, accumulate, a: this.a.buffer, b: this.b.buffer, c: this.c.buffer };
    this.run(
      job,
      (schedule) => gemmChunks(transA, transB, M, N, K, A, aOff, lda, B, bOff, ldb, C, cOff, ldc, accumulate, schedule),
      c, C, cOff, ldc,
    );
    return true;
  }

  spikeGemm(ix: SpikeIndex, B: Float32Array, N: number, C: Float32Array, accumulate: boolean, transB: boolean): boolean {
    if (this.rowSlots().length === 0) return false;
    const rowPtr = this.rowPtr.ints(ix.rows + 1);
    rowPtr.set(ix.rowPtr);
    const nnz = ix.idx.length;
    this.idx.ints(nnz).set(ix.idx);
    this.b.floats(ix.cols * N).set(B.subarray(0, ix.cols * N));
    const c = this.c.floats(ix.rows * N);
    if (accumulate) c.set(C.subarray(0, ix.rows * N));
    const chunk = Math.max(1, Math.ceil(ix.rows / (this.threads * 2 * CHUNKS_PER_THREAD)));
    const job = { kind: 'spikeGemm' as const, M: ix.rows, N, K: ix.cols, chunk, accumulate, transB, b: this.b.buffer, c: this.c.buffer, rowPtr: this.rowPtr.buffer, idx: this.idx.buffer, nnz };
    this.run(job, (schedule) => spikeGemmChunks(ix, B, N, C, accumulate, transB, schedule), c, C, 0, N);
    return true;
  }

  /** The workers free for row jobs: all but worker 0 while it runs a side job. */
  private rowSlots(): number[] {
    const slots = this.workers.map((_, slot) => slot);
    return this.side && Atomics.load(this.side.flag, 0) === 0 ? slots.slice(1) : slots;
  }

  /** Whether there is a worker 0 to take side jobs. */
  get hasSideWorker(): boolean {
    return this.workers.length > 0;
  }

  /** Waits for the side job in flight on worker 0, if any; throws if it failed. */
  awaitSide(): void {
    const v = this.side;
    if (!v) return;
    this.side = null;
    if (!awaitFlag(v.flag, 0, WAIT_MS)) throw new SpikesslError(`enableThreads: worker 0 did not finish the ${v.what} within ${WAIT_MS / 1000} s`);
    if (Atomics.load(v.flag, 0) !== 1) throw new SpikesslError(`enableThreads: worker 0 failed in the ${v.what}: ${workerError(this.errors, 0)} (call disableThreads() to run on one thread)`);
  }

  /**
   * Posts a side job to worker 0 after the previous one finished; `what` names it in errors.
   * Worker 0 flags it done (1) or failed (2) in the job's `flag` word.
   */
  postSide(job: ViewJobBody, what: string): void {
    this.awaitSide();
    const flag = new Int32Array(this.sideFlag);
    Atomics.store(flag, 0, 0);
    this.side = { flag, what };
    this.activity.views += job.op === 'forward' ? 1 : 0;
    this.workers[0].postMessage({ ...job, kind: 'view', flag: this.sideFlag, errors: this.errors, slot: 0, kernels: wasmKernelKind() } as ViewJob);
  }
}

/** The message a failed worker left in its slot of the shared error buffer. */
function workerError(errors: SharedArrayBuffer, slot: number): string {
  const bytes = new Uint8Array(errors, slot * ERROR_BYTES, ERROR_BYTES).slice();
  const end = bytes.indexOf(0);
  const text = new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
  return text || 'no message';
}

/** Copies a rows×cols block (row stride ld, from off) into a compact array. */
function copyMatrix(src: Float32Array, off: number, ld: number, rows: number, cols: number, dst: Float32Array): void {
  if (ld === cols) {
    dst.set(src.subarray(off, off + rows * cols));
    return;
  }
  for (let r = 0; r < rows; r++) dst.set(src.subarray(off + r * ld, off + r * ld + cols), r * cols);
}

let pool: WorkerPool | null = null;

/**
 * Runs the big kernels (GEMM, event-driven spike GEMM) on `threads` threads: this one and
 * threads − 1 workers. With `threadedViews()` as its `views`, `SSLTrainer` also runs the two
 * views of a step side by side, the second on worker 0 (the other workers, if any, meanwhile
 * split the first view's kernels), and its features two batches at a time. Results are the
 * same bits on any number of threads. Default: the machine's available parallelism. `enableThreads(1)` is
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

/** What the threads did since {@link enableThreads}: kernels split by rows, and encoder passes (training views, feature batches) run on a worker. */
export function threadActivity(): { rowJobs: number; views: number } {
  return pool ? { ...pool.activity } : { rowJobs: 0, views: 0 };
}

/** The running pool, or null on one thread. */
export function workerPool(): WorkerPool | null {
  return pool;
}

/** Threads the kernels use now (1 when none were enabled). */
export function threadCount(): number {
  return rowParallel()?.threads ?? 1;
}
