/**
 * Event-driven kernels on binary inputs against the dense GEMM, for a Linear layer's
 * forward (X·Wᵀ) and weight gradient (Gᵀ·X) at the reference shapes
 * [T·B = 2048, 784] → 512 and [2048, 512] → 512, at spike densities 0.05–0.40.
 * The event-driven times include building the spike index and the transposes they need, as
 * `linear` runs them.
 * Each figure is the median of 7 rounds in which the four kernels alternate.
 * Run: node bench/run.mjs spikes
 */
import { Rng } from '../src/rng';
import { gemm } from '../src/tensor/gemm';
import { transposeInto } from '../src/tensor/layout';
import { spikeGemm, spikeIndex, transposeIndex } from '../src/tensor/spikes';
import { interleavedMedianMs, table } from './lib/measure';

export async function main() {
  const rng = new Rng(1);
  const M = 2048;
  const N = 512;
  const rows: Array<Record<string, string | number>> = [];
  const results: Array<Record<string, number>> = [];
  for (const K of [784, 512]) {
    const W = Float32Array.from({ length: N * K }, () => rng.uniformRange(-0.05, 0.05));
    const G = Float32Array.from({ length: M * N }, () => rng.uniformRange(-1, 1));
    const Y = new Float32Array(M * N);
    const dW = new Float32Array(N * K);
    const dWt = new Float32Array(K * N);
    for (const density of [0.05, 0.13, 0.25, 0.4, 0.5, 0.6]) {
      const X = new Float32Array(M * K);
      for (let i = 0; i < X.length; i++) X[i] = rng.uniform() < density ? 1 : 0;
      // Dense and event-driven alternate, round by round, so a slow spell hits both alike.
      const t = interleavedMedianMs(
        {
          denseFwd: () => () => gemm(false, true, M, N, K, X, 0, K, W, 0, K, Y, 0, N, false),
          eventFwd: () => () => spikeGemm(spikeIndex(X, M, K), W, N, Y, false, true),
          denseGrad: () => () => gemm(true, false, N, K, M, G, 0, N, X, 0, K, dW, 0, K, false),
          eventGrad: () => () => {
            const ixT = transposeIndex(spikeIndex(X, M, K));
            spikeGemm(ixT, G, N, dWt);
            transposeInto(dWt, K, N, dW);
          },
        },
        7,
        1,
      );
      const { denseFwd, eventFwd, denseGrad, eventGrad } = t;
      const r = { K, density, denseFwdMs: denseFwd, eventFwdMs: eventFwd, fwdSpeedup: denseFwd / eventFwd, denseGradMs: denseGrad, eventGradMs: eventGrad, gradSpeedup: denseGrad / eventGrad };
      results.push(r);
      rows.push({ shape: `[${M}, ${K}] → ${N}`, density, 'dense fwd ms': denseFwd, 'event fwd ms': eventFwd, 'fwd ×': denseFwd / eventFwd, 'dense dW ms': denseGrad, 'event dW ms': eventGrad, 'dW ×': denseGrad / eventGrad });
    }
  }
  console.log(table(rows));
  console.log('\ntarget: at density 0.13 the event-driven forward is ≥ 4× faster than the dense GEMM');
  return results;
}
