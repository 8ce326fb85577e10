/**
 * The page's worker. The page runs two of them: one fits and answers the probes (linear probe
 * and kNN over the learned representation), the other runs "train here" — so the page and the
 * probe stay responsive while a network trains.
 */
import { Adam, type Dataset, KNN, LogisticRegression, Rng, SSLTrainer, StandardScaler, Tensor, representations } from 'spikessl';
import { type DemoModel, buildDemoModel, loadDemoModel, parseDigits, saveDemoModel } from './lib';
import type { FromWorker, Scores, ToWorker, TrainRequest } from './protocol';

/**
 * A representation is the mean firing rate over this many independent Poisson encodings, for
 * the training features, the held-out score and the page's digit alike: one encoding of T = 4
 * steps is a noisy estimate of the rates.
 */
const REPEATS = 8;

let trainSet: Dataset | null = null;
let testSet: Dataset | null = null;
let fitted: { model: DemoModel; scaler: StandardScaler; logistic: LogisticRegression; knn: KNN } | null = null;

function post(message: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(message, { transfer });
}

/** Mean firing rates [n, F] of the encoder over {@link REPEATS} encodings of each row of x [n, 784]. */
function features(model: DemoModel, x: Float32Array, n: number, rng: Rng): Float32Array {
  const F = model.encoder.features;
  const out = new Float32Array(n * F);
  const chunk = 64;
  for (let r0 = 0; r0 < n; r0 += chunk) {
    const rows = Math.min(chunk, n - r0);
    const batch = new Float32Array(rows * REPEATS * 784);
    for (let i = 0; i < rows; i++) {
      const src = x.subarray((r0 + i) * 784, (r0 + i + 1) * 784);
      for (let k = 0; k < REPEATS; k++) batch.set(src, (i * REPEATS + k) * 784);
    }
    const rates = representations(model.encoder, new Tensor(batch, [rows * REPEATS, 784]), { steps: model.config.steps, rng }).data;
    for (let i = 0; i < rows; i++) {
      const o = (r0 + i) * F;
      for (let k = 0; k < REPEATS; k++) {
        const s = (i * REPEATS + k) * F;
        for (let f = 0; f < F; f++) out[o + f] += rates[s + f] / REPEATS;
      }
    }
  }
  return out;
}

function accuracy(predicted: Int32Array, labels: Int32Array): number {
  let c = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) c++;
  return labels.length === 0 ? 0 : c / labels.length;
}

function prepare(id: number, bytes: Uint8Array, source: string): void {
  if (!trainSet || !testSet) throw new Error('the worker has no digits yet (init first)');
  const t0 = performance.now();
  const model = loadDemoModel(bytes, source);
  const F = model.encoder.features;
  const xTrain = { data: features(model, trainSet.images, trainSet.n, new Rng(1)), shape: [trainSet.n, F] };
  const xTest = { data: features(model, testSet.images, testSet.n, new Rng(2)), shape: [testSet.n, F] };
  const scaler = new StandardScaler().fit(xTrain);
  const logistic = new LogisticRegression({ maxIter: 200, onWarning: () => {} }).fit(scaler.transform(xTrain), trainSet.labels);
  // As in spikessl's probe(): k = 20, cosine distance, distance-weighted votes, on unscaled rates.
  const knn = new KNN({ k: 20, metric: 'cosine', weights: 'distance' }).fit(xTrain, trainSet.labels);
  const testLinear = accuracy(logistic.predict(scaler.transform(xTest)), testSet.labels);
  const testKnn = accuracy(knn.predict(xTest), testSet.labels);
  fitted = { model, scaler, logistic, knn };
  post({ type: 'prepared', id, config: model.config, trainN: trainSet.n, testN: testSet.n, testLinear, testKnn, seconds: (performance.now() - t0) / 1000 });
}

/** Probabilities [N, K] in `classes` order spread onto the ten digit classes. */
function tenClasses(p: Tensor, classes: Int32Array): number[] {
  const out = new Array<number>(10).fill(0);
  classes.forEach((c, j) => (out[c] = p.data[j]));
  return out;
}

function classify(id: number, image: Float32Array): void {
  if (!fitted) throw new Error('no model is prepared yet');
  if (image.length !== 784) throw new Error(`expected a 28×28 image (784 pixels), got ${image.length}`);
  // The same seed for every request: the same image always gets the same scores.
  const f = { data: features(fitted.model, image, 1, new Rng(7)), shape: [1, fitted.model.encoder.features] };
  const scores: Scores = {
    linear: tenClasses(fitted.logistic.predictProba(fitted.scaler.transform(f)), fitted.logistic.classes),
    knn: tenClasses(fitted.knn.predictProba(f), fitted.knn.classes),
  };
  post({ type: 'scores', id, scores });
}

function train(request: TrainRequest): void {
  if (!trainSet) throw new Error('the worker has no digits yet (init first)');
  const t0 = performance.now();
  const rng = new Rng(request.seed);
  // The saved config says how this model was trained.
  const model = buildDemoModel({ ...request.config, loss: request.loss, lr: request.lr, batch: request.batch, epochs: request.epochs, seed: request.seed }, rng);
  const optimizer = new Adam(model.net.parameters(), { lr: request.lr });
  const trainer = new SSLTrainer({
    encoder: model.encoder,
    projector: model.projector,
    loss: request.loss,
    optimizer,
    steps: request.config.steps,
    batchSize: request.batch,
    rng,
  });
  const losses: number[] = [];
  trainer.fit(trainSet, {
    epochs: request.epochs,
    onBatch: (p) => {
      losses.push(p.loss);
      post({ type: 'progress', step: losses.length, steps: request.epochs * p.batches, epoch: p.epoch, loss: p.loss, samplesPerSecond: p.samplesPerSecond, density: p.density });
    },
  });
  model.net.eval();
  const bytes = saveDemoModel(model);
  post({ type: 'trained', model: bytes, losses, seconds: (performance.now() - t0) / 1000 }, [bytes.buffer as ArrayBuffer]);
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const m = event.data;
  try {
    if (m.type === 'init') {
      trainSet = parseDigits(m.train, 'assets/train');
      testSet = parseDigits(m.test, 'assets/test');
      post({ type: 'ready' });
    } else if (m.type === 'prepare') prepare(m.id, m.model, m.source);
    else if (m.type === 'classify') classify(m.id, m.image);
    else if (m.type === 'train') train(m.request);
  } catch (e) {
    const err = e as Error;
    post({ type: 'error', id: 'id' in m ? m.id : null, during: m.type, message: `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` });
  }
};
