// The README's API tour. Each block between `#region` markers appears verbatim in README.md;
// test/readme.test.ts checks that and runs this file, so the README's code always compiles and runs.
// #region tour-import
import { Adam, KNN, Leaky, Linear, Rng, SSLTrainer, SpikingMlp, add, crossEntropy, firingRate, matmul, noGrad, poisson, projector, rand, randn, tensor, zeros } from 'spikessl';
// #endregion tour-import

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

  // #region neurons
  const images = rand([16, 784], rng); // 16 images with pixels in [0, 1]
  const spikes = poisson(images, { steps: 8, rng }); // [T = 8, 16, 784] of 0/1, marked binary
  const fc = new Linear(784, 128, { rng }); // one GEMM for all 8 steps; event-driven on spikes
  const lif = new Leaky({ beta: 0.9 }); // θ = 1, subtract reset, atan surrogate: snnTorch's defaults
  const rates = firingRate(lif.forward(fc.forward(spikes))); // [16, 128] spikes per step
  // #endregion neurons

  // #region ssl
  const encoder = new SpikingMlp({ hidden: [128, 128], rng }); // Linear → Leaky, twice
  const head = projector(encoder.features, 64, { rng }); // Linear, BatchNorm1d, ReLU, Linear
  const trainer = new SSLTrainer({
    encoder, projector: head, loss: 'ntxent', steps: 8, rng,
    optimizer: new Adam([...encoder.parameters(), ...head.parameters()], { lr: 1e-3 }),
  });
  const step = trainer.trainStep(images); // two Poisson views → encoder → projector → NT-Xent → Adam
  const features = trainer.represent(images, new Rng(1)); // frozen firing rates [16, 128]
  const knn = new KNN({ k: 3, metric: 'cosine' }).fit(features, Int32Array.from({ length: 16 }, (_, i) => i % 2));
  // #endregion ssl

  return {
    loss: loss.item(),
    wGrad: w.grad!.size,
    bGrad: b.grad!.size,
    rows: predictions.shape[0],
    rateMin: Math.min(...rates.data),
    rateMax: Math.max(...rates.data),
    sslLoss: step.loss,
    featureRows: features.shape[0],
    knnTrain: knn.score(features, Int32Array.from({ length: 16 }, (_, i) => i % 2)),
  };
}
