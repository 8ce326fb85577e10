/**
 * Layers: the fused autograd nodes of src/nn/functional against their composed forms
 * (forward + backward), and conv2d / pooling throughput at the conv encoder's shapes.
 * Run: flock /tmp/spikessl-bench.lock node bench/run.mjs layers
 */
import * as F from '../src/autograd/functional';
import { backward } from '../src/autograd/engine';
import { avgPool2d, batchNorm, conv2d, linear, maxPool2d } from '../src/nn/functional';
import { Rng } from '../src/rng';
import { Tensor } from '../src/tensor/tensor';
import { medianMs, table } from './lib/measure';

const rng = new Rng(1);
const randn = (shape: number[], requiresGrad = true): Tensor =>
  new Tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()), shape, { requiresGrad });

/** Forward + backward of f on fresh leaves copied from `inputs`, with a fixed upstream gradient. */
function step(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], g: Tensor): void {
  const leaves = inputs.map((t) => new Tensor(t.data, t.shape, { requiresGrad: true }));
  backward(f(...leaves), g);
}

function composedBatchNorm(x: Tensor, w: Tensor, b: Tensor): Tensor {
  const axes = x.shape.map((_, i) => i).filter((i) => i !== x.ndim - 1);
  const centred = F.sub(x, F.mean(x, axes, true));
  const v = F.mean(F.square(centred), axes, true);
  return F.add(F.mul(F.div(centred, F.sqrt(F.add(v, 1e-5))), w), b);
}

export async function main() {
  const rows: Array<Record<string, string | number>> = [];
  const results: Record<string, number> = {};
  const reps = 5;

  // Linear [T=4, B=128, 784] → 512, fused vs composed (reshape, matmul with transB, add).
  {
    const x = randn([4, 128, 784], false);
    const w = randn([512, 784]);
    const b = randn([512]);
    const g = randn([4, 128, 512], false);
    const fused = medianMs(() => step((x, w, b) => linear(x, w, b), [x, w, b], g), reps);
    const composed = medianMs(() => step((x, w, b) => F.reshape(F.add(F.matmul(F.reshape(x, [512, 784]), w, { transB: true }), b), [4, 128, 512]), [x, w, b], g), reps);
    rows.push({ op: 'linear [4,128,784]→512 fwd+bwd', 'fused ms': fused, 'composed ms': composed, '×': composed / fused });
    Object.assign(results, { linearFusedMs: fused, linearComposedMs: composed });
  }

  // BatchNorm1d over [T=4, B=128, 512] (statistics over T·B), training mode.
  {
    const x = randn([4, 128, 512]);
    const w = randn([512]);
    const b = randn([512]);
    const g = randn([4, 128, 512], false);
    const fused = medianMs(() => step((x, w, b) => batchNorm(x, -1, { weight: w, bias: b }), [x, w, b], g), reps);
    const composed = medianMs(() => step(composedBatchNorm, [x, w, b], g), reps);
    rows.push({ op: 'batchNorm [4,128,512] fwd+bwd', 'fused ms': fused, 'composed ms': composed, '×': composed / fused });
    Object.assign(results, { batchNormFusedMs: fused, batchNormComposedMs: composed });
  }

  // Conv encoder shapes at T = 4, batch 32: conv 1→16 and 16→32, 3×3, padding 1.
  for (const [c, o, hw] of [
    [1, 16, 28],
    [16, 32, 14],
  ] as const) {
    const x = randn([4, 32, c, hw, hw]);
    const w = randn([o, c, 3, 3]);
    const b = randn([o]);
    const g = randn([4, 32, o, hw, hw], false);
    const fwd = medianMs(() => conv2d(x.detach(), w.detach(), b.detach(), { padding: 1 }), reps);
    const both = medianMs(() => step((x, w, b) => conv2d(x, w, b, { padding: 1 }), [x, w, b], g), reps);
    const flops = 2 * 4 * 32 * o * c * 9 * hw * hw;
    rows.push({ op: `conv2d [4,32,${c},${hw},${hw}]→${o} 3×3`, 'fused ms': both, 'composed ms': '—', '×': '—', 'fwd ms': fwd, 'fwd GFLOP/s': flops / fwd / 1e6, 'fwd+bwd GFLOP/s': (3 * flops) / both / 1e6 });
    results[`conv${c}to${o}FwdMs`] = fwd;
    results[`conv${c}to${o}FwdBwdMs`] = both;
  }

  // Pooling 2×2 over [4, 32, 16, 28, 28].
  {
    const x = randn([4, 32, 16, 28, 28]);
    const g = randn([4, 32, 16, 14, 14], false);
    const mx = medianMs(() => step((x) => maxPool2d(x, 2), [x], g), reps);
    const av = medianMs(() => step((x) => avgPool2d(x, 2), [x], g), reps);
    rows.push({ op: 'maxPool2d 2×2 [4,32,16,28,28] fwd+bwd', 'fused ms': mx, 'composed ms': '—', '×': '—' });
    rows.push({ op: 'avgPool2d 2×2 [4,32,16,28,28] fwd+bwd', 'fused ms': av, 'composed ms': '—', '×': '—' });
    Object.assign(results, { maxPoolMs: mx, avgPoolMs: av });
  }
  for (const r of rows) for (const k of ['fwd ms', 'fwd GFLOP/s', 'fwd+bwd GFLOP/s']) r[k] ??= '—';
  console.log(table(rows));
  return results;
}
