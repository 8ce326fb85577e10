// PLACEHOLDER written by the lead so other work can run; the GEMM helper replaces this whole file.
export function gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, A: Float32Array, aOff: number, lda: number, B: Float32Array, bOff: number, ldb: number, C: Float32Array, cOff: number, ldc: number, accumulate: boolean): void {
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s = 0;
    for (let p = 0; p < K; p++) s += A[aOff + (transA ? p * lda + i : i * lda + p)] * B[bOff + (transB ? j * ldb + p : p * ldb + j)];
    C[cOff + i * ldc + j] = (accumulate ? C[cOff + i * ldc + j] : 0) + s;
  }
}

export const gemmNaive = gemm;
