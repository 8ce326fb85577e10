/**
 * Event-driven kernels on binary inputs against the dense GEMM, for a Linear layer's
 * forward (X·Wᵀ) and weight gradient (Gᵀ·X) at the reference shapes
 * [T·B = 2048, 784] → 512 and [2048, 512] → 512, at spike densities 0.05–0.40.
 * The event-driven times include building the spike index and the transposes they need, as
 * `linear` runs them.
 * Each figure is the median of 7 rounds in which the four kernels alternate.
 *
 * Then `conv2d` at the conv encoder's shapes (T·B = 512 images, 5×5, padding 2), forward and
 * backward with a max pool's output gradient (one nonzero per 2×2 window): at spike densities
 * up to EVENT_MAX_DENSITY the output and dW take the event-driven kernels; their dense route
 * (im2col + GEMM, whose cost does not depend on the density) is timed at density 0.6. dX (the
 * second shape only) takes the event-driven kernels in every row: its sparsity is the gradient's.
 * Run: node bench/run.mjs spikes
 */
import { backward } from '../src/autograd/engine';
import { EVENT_MAX_DENSITY, conv2d } from '../src/nn/functional';
import { Rng } from '../src/rng';
import { gemm } from '../src/tensor/gemm';
import { transposeInto } from '../src/tensor/layout';
import { Tensor } from '../src/tensor/tensor';
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

  const convRows: Array<Record<string, string | number>> = [];
  for (const [C, O, HW] of [
    [1, 8, 28],
    [8, 16, 14],
  ] as const) {
    const imgs = 512;
    const w = new Tensor(Float32Array.from({ length: O * C * 25 }, () => rng.uniformRange(-0.2, 0.2)), [O, C, 5, 5], { requiresGrad: true });
    // One nonzero per 2×2 window of each output plane, as a max pool passes back.
    const g = new Float32Array(imgs * O * HW * HW);
    for (let p = 0; p < imgs * O; p++) {
      for (let y = 0; y < HW; y += 2) for (let x = 0; x < HW; x += 2) g[p * HW * HW + (y + (rng.uniform() < 0.5 ? 1 : 0)) * HW + x + (rng.uniform() < 0.5 ? 1 : 0)] = rng.uniformRange(-1, 1);
    }
    const spikes = (density: number) => Float32Array.from({ length: imgs * C * HW * HW }, () => +(rng.uniform() < density));
    const densities = [0.13, 0.25, 0.4, 0.6];
    const inputs = densities.map(spikes);
    const cases: Record<string, () => () => void> = {};
    densities.forEach((d, k) => {
      cases[`fwd${d}`] = () => () => conv2d(new Tensor(inputs[k], [imgs, C, HW, HW], { binary: true }), w.detach(), null, { padding: 2 });
      cases[`both${d}`] = () => () => {
        const x = new Tensor(inputs[k], [imgs, C, HW, HW], { binary: true, requiresGrad: C > 1 });
        backward(conv2d(x, w, null, { padding: 2 }), new Tensor(g, [imgs, O, HW, HW]));
        w.grad = null;
      };
    });
    const t = interleavedMedianMs(cases, 5, 1);
    for (const d of densities) {
      const route = d <= EVENT_MAX_DENSITY ? 'event' : 'dense';
      results.push({ convIn: C, convOut: O, density: d, fwdMs: t[`fwd${d}`], fwdBwdMs: t[`both${d}`] });
      convRows.push({ conv: `[${imgs}, ${C}, ${HW}, ${HW}] → ${O}, 5×5`, density: d, route, 'fwd ms': t[`fwd${d}`], 'fwd+bwd ms': t[`both${d}`], 'fwd+bwd × dense': t['both0.6'] / t[`both${d}`] });
    }
  }
  console.log('\n' + table(convRows));
  return results;
}
