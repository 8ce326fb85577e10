/**
 * The page's worker, on spikessl's public API only. The page runs two of them: one loads a model
 * (`loadModel`) and fits and answers the probes (the model's linear probe, `fitProbe` / `predict`,
 * and a kNN over the same representation), the other trains a fresh model (`trainModel`, stopped
 * by an `AbortSignal`) — so the page and the probe stay responsive while a network trains.
 */
import { type Dataset, KNN, Rng, type Tensor, type TrainedModel, loadModel, saveModel, trainModel } from 'spikessl';
import { parseDigits } from './lib';
import { type FromWorker, PROBE_STEPS, SEEDS, type Scores, type ToWorker, type TrainRequest } from './protocol';

let trainSet: Dataset | null = null;
let testSet: Dataset | null = null;
let fitted: { model: TrainedModel; knn: KNN } | null = null;
/** Aborts the run in hand (a 'stop' message). */
let stop: AbortController | null = null;

function post(message: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(message, { transfer });
}

/** A dataset's images as the [N, 784] matrix TrainedModel takes. */
const imagesOf = (d: Dataset) => ({ data: d.images, shape: [d.n, d.dim] });

function accuracy(predicted: Int32Array, labels: Int32Array): number {
  let c = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) c++;
  return labels.length === 0 ? 0 : c / labels.length;
}

function digits(): { train: Dataset; test: Dataset } {
  if (!trainSet || !testSet) throw new Error('the worker has no digits yet (init first)');
  return { train: trainSet, test: testSet };
}

async function prepare(id: number, bytes: Uint8Array): Promise<void> {
  const { train, test } = digits();
  const t0 = performance.now();
  const model = await loadModel(bytes);
  const options = { steps: PROBE_STEPS, rng: new Rng(SEEDS.train) };
  // The page's probe, fitted on the bundled digits (it replaces a probe the file may hold).
  model.fitProbe(imagesOf(train), train.labels, { ...options, onWarning: () => {} });
  // As in spikessl's probe(): k = 20, cosine distance, distance-weighted votes, on unscaled rates
  // (the same encodings the linear probe was fitted on: the same seed).
  const f = model.features(imagesOf(train), options);
  const knn = new KNN({ k: 20, metric: 'cosine', weights: 'distance' }).fit({ data: f.data, shape: [f.n, f.dim] }, train.labels);
  const testLinear = accuracy(model.predict(imagesOf(test), { rng: new Rng(SEEDS.test) }).labels, test.labels);
  const g = model.features(imagesOf(test), { steps: PROBE_STEPS, rng: new Rng(SEEDS.test) });
  const testKnn = accuracy(knn.predict({ data: g.data, shape: [g.n, g.dim] }), test.labels);
  fitted = { model, knn };
  post({ type: 'prepared', id, config: model.config, trainN: train.n, testN: test.n, testLinear, testKnn, seconds: (performance.now() - t0) / 1000 });
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
  const { model, knn } = fitted;
  const x = { data: image, shape: [1, 784] };
  // The same seed for every request: the same image always gets the same scores.
  const linear = model.predict(x, { rng: new Rng(SEEDS.digit) });
  const f = model.features(x, { steps: PROBE_STEPS, rng: new Rng(SEEDS.digit) });
  const scores: Scores = {
    linear: tenClasses(linear.probabilities, linear.classes),
    knn: tenClasses(knn.predictProba({ data: f.data, shape: [1, f.dim] }), knn.classes),
  };
  post({ type: 'scores', id, scores });
}

async function train(request: TrainRequest): Promise<void> {
  const { train, test } = digits();
  const t0 = performance.now();
  stop = new AbortController();
  const losses: number[] = [];
  let steps = 0;
  // The saved config says how this model was trained; its probe is fitted on the training digits
  // with the page's features (evalSteps).
  const config = { ...request.config, loss: request.loss, lr: request.lr, batch: request.batch, epochs: request.epochs, seed: request.seed, evalSteps: PROBE_STEPS };
  const { trained, stopped } = await trainModel(config, train, {
    signal: stop.signal,
    probe: train,
    onBatch: (p) => {
      losses.push(p.loss);
      steps = request.epochs * p.batches;
      post({ type: 'progress', step: losses.length, steps, epoch: p.epoch, loss: p.loss, samplesPerSecond: p.samplesPerSecond, density: p.density });
    },
  });
  stop = null;
  const testPredicted = trained.predict(imagesOf(test), { rng: new Rng(SEEDS.test) }).labels;
  const bytes = saveModel(trained);
  post(
    { type: 'trained', model: bytes, losses, seconds: (performance.now() - t0) / 1000, stopped, testPredicted: Array.from(testPredicted), testLinear: accuracy(testPredicted, test.labels) },
    [bytes.buffer as ArrayBuffer],
  );
}

function fail(m: ToWorker, e: unknown): void {
  const err = e as Error;
  post({ type: 'error', id: 'id' in m ? m.id : null, during: m.type, message: `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` });
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const m = event.data;
  try {
    if (m.type === 'init') {
      trainSet = parseDigits(m.train, 'assets/train');
      testSet = parseDigits(m.test, 'assets/test');
      post({ type: 'ready' });
    } else if (m.type === 'prepare') prepare(m.id, m.model).catch((e) => fail(m, e));
    else if (m.type === 'classify') classify(m.id, m.image);
    else if (m.type === 'train') train(m.request).catch((e) => fail(m, e));
    else if (m.type === 'stop') stop?.abort();
  } catch (e) {
    fail(m, e);
  }
};
