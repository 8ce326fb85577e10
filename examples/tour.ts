// The README's API tour. Each block between `#region` markers appears verbatim in README.md;
// test/readme.test.ts checks that and runs this file, so the README's code always compiles and runs.
import { Rng, add, crossEntropy, matmul, noGrad, randn, tensor, zeros } from 'spikessl';

export function tour(): Record<string, number> {
  // #region tensors
  const rng = new Rng(42); // every random function takes an Rng: same seed, same numbers
  const x = randn([4, 3], rng); // [batch 4, features 3], standard normal
  const w = tensor([[0.5, -1, 2], [1, 0, -0.5]], undefined, { requiresGrad: true }); // [out 2, in 3]
  const b = zeros([2], { requiresGrad: true });
  // #endregion tensors

  // #region autograd
  const logits = add(matmul(x, w, { transB: true }), b); // x·wᵀ + b, without copying w
  const loss = crossEntropy(logits, Int32Array.of(0, 1, 1, 0)); // fused, stable, mean over the batch
  loss.backward(); // fills w.grad [2, 3] and b.grad [2]
  const predictions = noGrad(() => matmul(x, w, { transB: true })); // no graph is recorded
  // #endregion autograd

  return { loss: loss.item(), wGrad: w.grad!.size, bGrad: b.grad!.size, rows: predictions.shape[0] };
}
