/** Matrix products on top of the GEMM kernel: 2-D and batched, with transpose flags. */
import { ShapeError, fmtShape } from '../errors';
import { gemm } from './gemm';
import { broadcastShapes, sizeOf, stridesOf } from './shape';
import { Tensor } from './tensor';

/** Transpose flags of {@link matmul}. */
export interface MatmulOptions {
  /** Use the transpose of `a`'s last two axes (no copy is made). */
  transA?: boolean;
  /** Use the transpose of `b`'s last two axes (no copy is made): `matmul(x, w, {transB: true})` is x·wᵀ. */
  transB?: boolean;
}

/**
 * Matrix product op(a)·op(b) over the last two axes; leading (batch) axes broadcast as in
 * NumPy. Both operands need at least two dimensions.
 *
 * @example
 * ```ts
 * const y = matmul(x, w, { transB: true }); // [B, in] · [out, in]ᵀ = [B, out]
 * ```
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const transA = options.transA ?? false;
  const transB = options.transB ?? false;
  if (a.ndim < 2 || b.ndim < 2) {
    throw new ShapeError(`matmul: expected operands with at least 2 dimensions, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  const ar = a.shape[a.ndim - 2];
  const ac = a.shape[a.ndim - 1];
  const br = b.shape[b.ndim - 2];
  const bc = b.shape[b.ndim - 1];
  const M = transA ? ac : ar;
  const K = transA ? ar : ac;
  const Kb = transB ? bc : br;
  const N = transB ? br : bc;
  if (K !== Kb) {
    throw new ShapeError(
      `matmul: inner dimensions differ: ${fmtShape(a.shape)}${transA ? 'ᵀ' : ''} · ${fmtShape(b.shape)}${transB ? 'ᵀ' : ''} (${K} vs ${Kb})`,
    );
  }
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const batch = broadcastShapes(batchA, batchB, 'matmul');
  const outShape = [...batch, M, N];
  const out = new Float32Array(sizeOf(outShape));
  const nb = sizeOf(batch);
  const aMat = ar * ac;
  const bMat = br * bc;
  // Batch offsets of each operand, with stride 0 along its broadcast axes.
  const offA = batchOffsets(batchA, batch, aMat);
  const offB = batchOffsets(batchB, batch, bMat);
  for (let i = 0; i < nb; i++) {
    gemm(transA, transB, M, N, K, a.data, offA[i], ac, b.data, offB[i], bc, out, i * M * N, N, false);
  }
  return new Tensor(out, outShape);
}

function batchOffsets(own: readonly number[], batch: readonly number[], matSize: number): Int32Array {
  const nb = sizeOf(batch);
  const offs = new Int32Array(nb);
  const lead = batch.length - own.length;
  const st = stridesOf(own);
  const idx = new Array<number>(batch.length).fill(0);
  for (let i = 0; i < nb; i++) {
    let off = 0;
    for (let d = 0; d < own.length; d++) if (own[d] !== 1) off += idx[lead + d] * st[d];
    offs[i] = off * matSize;
    for (let d = batch.length - 1; d >= 0; d--) {
      if (++idx[d] < batch[d]) break;
      idx[d] = 0;
    }
  }
  return offs;
}
