// The page's side of training in a browser Web Worker (worker.ts), with spikessl's public API:
// fetch MNIST-format digit files, train in the worker (a Stop button aborts it and keeps the model
// trained so far), load the model file it returns with `loadModel`, predict held-out digits, and
// offer the file as a download. index.html loads the bundle of this file; the tests run it in
// Chromium (test/examples/browser.test.ts).
import { type Dataset, type RunConfig, type TrainedModel, loadModel, mnistFromIdx, parseIdx } from 'spikessl';
import type { FromTrainer, ToTrainer } from './worker';

/** Fetches an MNIST-format pair of IDX files (images and labels) as a Dataset, pixels in [0, 1]. */
export async function fetchDigits(images: string, labels: string): Promise<Dataset> {
  const get = async (url: string) => {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`could not fetch ${url}: HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  };
  const [x, y] = await Promise.all([get(images), get(labels)]);
  return mnistFromIdx(parseIdx(x, images), parseIdx(y, labels), { images, labels });
}

/** A training run in a worker: `stop()` ends it after the batch in hand; `result` is the model trained so far. */
export interface WorkerTraining {
  stop(): void;
  result: Promise<{ model: TrainedModel; bytes: Uint8Array; stopped: boolean; batches: number }>;
}

// #region browser-page
export function trainInWorker(digits: Dataset, config: Partial<RunConfig>, onBatch: (loss: number, batch: number, batches: number) => void): WorkerTraining {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  const result = new Promise<{ model: TrainedModel; bytes: Uint8Array; stopped: boolean; batches: number }>((resolve, reject) => {
    worker.onerror = (e) => reject(new Error(`the worker failed: ${e.message}`));
    worker.onmessage = async (e: MessageEvent<FromTrainer>) => {
      const m = e.data;
      if (m.type === 'batch') onBatch(m.loss, m.batch, m.batches);
      else if (m.type === 'error') reject(new Error(m.message));
      else {
        worker.terminate();
        const bytes = m.model;
        // loadModel checks the file (config, every tensor's shape, the probe) before it builds anything.
        resolve({ model: await loadModel(bytes), bytes, stopped: m.stopped, batches: m.batches });
      }
    };
  });
  const send = (m: ToTrainer) => worker.postMessage(m);
  send({ type: 'train', images: digits.images, labels: digits.labels, config });
  return { stop: () => send({ type: 'stop' }), result };
}
// #endregion browser-page

/** The page: train on the digits of `base`, show the loss, predict the held-out digits, offer the download. */
export async function main(base: string, config: Partial<RunConfig>, stopAfter?: number): Promise<void> {
  const show = document.getElementById('status')!;
  const train = await fetchDigits(`${base}/train-images-idx3-ubyte`, `${base}/train-labels-idx1-ubyte`);
  const test = await fetchDigits(`${base}/test-images-idx3-ubyte`, `${base}/test-labels-idx1-ubyte`);
  const losses: number[] = [];
  const run = trainInWorker(train, config, (loss, batch, batches) => {
    losses.push(loss);
    show.textContent = `batch ${batch}/${batches}: loss ${loss.toFixed(4)}`;
    if (losses.length === stopAfter) run.stop();
  });
  document.getElementById('stop')!.onclick = () => run.stop();
  const { model, bytes, stopped, batches } = await run.result;

  // #region browser-predict
  const { labels } = model.predict({ data: test.images, shape: [test.n, 784] }); // [N, 784] in [0, 1]
  const accuracy = labels.filter((c, i) => c === test.labels[i]).length / test.n;
  const link = document.getElementById('download') as HTMLAnchorElement;
  link.href = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>])); // <a download="model.safetensors">
  // #endregion browser-predict

  show.textContent = `${stopped ? 'stopped' : 'done'} after ${batches} batches: ${(100 * accuracy).toFixed(1)} % of ${test.n} held-out digits`;
  document.body.dataset.result = JSON.stringify({ stopped, batches, losses, accuracy, predicted: Array.from(labels) });
}
