// Training in a browser Web Worker with spikessl's public API (the page's side is main.ts).
// The page posts the training digits and a run config; the worker trains with `trainModel`, which
// yields to the worker's event loop after every batch so that a 'stop' message can abort it; the
// model trained so far — config, weights and the linear probe fitted on the same digits — comes
// back as the bytes of one model file (`saveModel`), which `loadModel` reads on the page.
// Bundle it as its own module (esbuild, Vite, tsup: `new Worker(new URL('./worker.js', import.meta.url), { type: 'module' })`).
import { type RunConfig, makeDataset, saveModel, trainModel } from 'spikessl';

/** What the page sends: the digits to train on (pixels in [0, 1], 784 per image) and a run config, or a stop. */
export type ToTrainer = { type: 'train'; images: Float32Array; labels: Int32Array; config: Partial<RunConfig> } | { type: 'stop' };

/** What the worker sends back: every batch's loss, then the model file, or an error. */
export type FromTrainer =
  | { type: 'batch'; epoch: number; batch: number; batches: number; loss: number }
  | { type: 'done'; model: Uint8Array; stopped: boolean; batches: number }
  | { type: 'error'; message: string };

// #region browser-worker
let stop: AbortController | null = null;

async function train(images: Float32Array, labels: Int32Array, config: Partial<RunConfig>): Promise<void> {
  const digits = makeDataset(images, labels, [28, 28]);
  stop = new AbortController();
  let batches = 0;
  const { trained, stopped } = await trainModel(config, digits, {
    signal: stop.signal, // 'stop' aborts it after the batch in hand; the model trained so far is returned
    probe: digits, // fit the linear probe on the same labelled digits
    onBatch: (p) => {
      batches++;
      post({ type: 'batch', epoch: p.epoch, batch: p.batch, batches: p.batches, loss: p.loss });
    },
  });
  const model = saveModel(trained); // one safetensors file: config, weights, probe
  post({ type: 'done', model, stopped, batches }, [model.buffer as ArrayBuffer]);
}

self.onmessage = (event: MessageEvent<ToTrainer>) => {
  const m = event.data;
  if (m.type === 'stop') stop?.abort();
  else train(m.images, m.labels, m.config).catch((e: Error) => post({ type: 'error', message: `${e.name}: ${e.message}` }));
};
// #endregion browser-worker

function post(message: FromTrainer, transfer: Transferable[] = []): void {
  self.postMessage(message, { transfer });
}
