/**
 * The worker-thread side of `enableThreads()`: claims chunks of rows of a GEMM or an
 * event-driven spike GEMM on shared memory until none are left, or runs a view of
 * view-parallel training on its encoder replica (./views.ts); then flags the job done (1)
 * or failed (2, with the error's text left in shared memory).
 */
import { parentPort } from 'node:worker_threads';
import { gemmChunks } from '../tensor/gemm';
import { spikeGemmChunks } from '../tensor/spikes';
import { type WasmKernelKind, useRelaxedSimd, useWasmKernels, wasmKernelKind } from '../tensor/wasm';
import { type ViewJob, runViewJob } from './views';
import { ERROR_BYTES, type WorkerJob, claimChunks } from './threads';

parentPort?.on('message', (job: WorkerJob | ViewJob) => {
  const done = new Int32Array(job.kind === 'view' ? job.flag : job.sync);
  const flag = job.kind === 'view' ? 0 : job.slot;
  let status = 1;
  try {
    matchKernels(job.kernels);
    if (job.kind === 'view') runViewJob(job);
    else rowJob(job);
  } catch (e) {
    status = 2;
    // The caller is blocked in Atomics.wait and cannot receive messages: leave the error text in shared memory.
    const text = new TextEncoder().encode(String((e as Error)?.stack ?? e)).subarray(0, ERROR_BYTES - 1);
    const slot = new Uint8Array(job.errors, job.slot * ERROR_BYTES, ERROR_BYTES);
    slot.fill(0);
    slot.set(text);
  }
  Atomics.store(done, flag, status);
  Atomics.notify(done, flag);
});

/**
 * Switches this worker to the caller's kind of kernels (TypeScript, SIMD or relaxed SIMD), whose
 * last bits differ: every thread must compute alike for results not to depend on the thread count.
 */
function matchKernels(kind: WasmKernelKind): void {
  useWasmKernels(kind !== 'none');
  if (kind !== 'none') useRelaxedSimd(kind === 'relaxed-simd');
  if (wasmKernelKind() !== kind) throw new Error(`this worker cannot run the caller's kernels (${kind}); it has ${wasmKernelKind()}`);
}

/** This worker's share of a GEMM or spike GEMM. */
function rowJob(job: WorkerJob): void {
  const B = new Float32Array(job.b);
  const C = new Float32Array(job.c);
  const schedule = (rows: (r0: number, r1: number) => void) => claimChunks(job, job.slot + 1, rows);
  if (job.kind === 'gemm') {
    const A = new Float32Array(job.a);
    // A is a compact copy: [M, K] (lda = K) or, transposed, [K, M] (lda = M).
    const lda = job.transA ? job.M : job.K;
    gemmChunks(job.transA, job.transB, job.M, job.N, job.K, A, 0, lda, B, 0, job.transB ? job.K : job.N, C, 0, job.N, job.accumulate, schedule);
  } else {
    const ix = { rows: job.M, cols: job.K, rowPtr: new Int32Array(job.rowPtr), idx: new Int32Array(job.idx, 0, job.nnz) };
    spikeGemmChunks(ix, B, job.N, C, job.accumulate, job.transB, schedule);
  }
}
