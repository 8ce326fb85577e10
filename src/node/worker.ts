/**
 * The worker-thread side of `enableThreads()`: runs the rows it is given of a GEMM or an
 * event-driven spike GEMM on shared memory, then flags its slot done (1) or failed (2).
 */
import { parentPort } from 'node:worker_threads';
import { gemmOneThread } from '../tensor/gemm';
import { spikeGemmRows } from '../tensor/spikes';
import type { WorkerJob } from './threads';

parentPort?.on('message', (job: WorkerJob) => {
  const done = new Int32Array(job.done);
  let status = 1;
  try {
    const B = new Float32Array(job.b);
    const C = new Float32Array(job.c);
    if (job.kind === 'gemm') {
      const A = new Float32Array(job.a);
      const rows = job.r1 - job.r0;
      // A is a compact copy: [M, K] (lda = K) or, transposed, [K, M] (lda = M).
      const aOff = job.transA ? job.r0 : job.r0 * job.K;
      gemmOneThread(job.transA, job.transB, rows, job.N, job.K, A, aOff, job.transA ? job.M : job.K, B, 0, job.transB ? job.K : job.N, C, job.r0 * job.N, job.N, job.accumulate);
    } else {
      const ix = { rows: job.M, cols: job.K, rowPtr: new Int32Array(job.rowPtr), idx: new Int32Array(job.idx, 0, job.nnz) };
      spikeGemmRows(ix, B, job.N, C, job.accumulate, job.transB, job.r0, job.r1);
    }
  } catch (e) {
    status = 2;
    console.error('spikessl worker:', e);
  }
  Atomics.store(done, job.slot, status);
  Atomics.notify(done, job.slot);
});
