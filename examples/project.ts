// The README's "Use it in your project": train from code, save, load, predict. Each block between
// `#region` markers appears verbatim in README.md; test/readme.test.ts runs `project` at tiny settings.
// #region project-import
import { type RunConfig, loadModel, saveModel, subset, trainModel } from 'spikessl';
import { loadDataset, readModelFile, writeModelFile } from 'spikessl/node';
// #endregion project-import

export async function project(out: string, settings: Partial<RunConfig> = {}, images = 60_000): Promise<{ accuracy: number; same: boolean; epochs: number }> {
  // #region project-train
  const train = subset(loadDataset({ name: 'mnist', split: 'train' }), images); // pixels in [0, 1]
  const test = loadDataset({ name: 'mnist', split: 'test' });
  const stop = new AbortController(); // stop.abort() ends training after the batch in hand
  const { trained, epochs } = await trainModel(
    { loss: 'ntxent', temperature: 0.3, bn: true, steps: 4, batch: 128, lr: 0.002, epochs: 3, ...settings },
    train,
    { signal: stop.signal, probe: train, onEpoch: (e) => console.log(`epoch ${e.epoch}: loss ${e.meanLoss.toFixed(3)}`) },
  );
  writeModelFile(`${out}/model.safetensors`, trained); // what `spikessl predict --model` reads
  // #endregion project-train

  // #region project-predict
  const model = readModelFile(`${out}/model.safetensors`); // or: await loadModel(url or bytes) in a browser
  const { labels, probabilities } = model.predict({ data: test.images, shape: [test.n, 784] });
  const accuracy = labels.filter((c, i) => c === test.labels[i]).length / test.n;
  // #endregion project-predict
  const again = await loadModel(saveModel(trained));
  const same = Array.from(again.predict({ data: test.images.subarray(0, 784 * 5), shape: [5, 784] }).labels).every((c, i) => c === labels[i]);
  void probabilities;
  return { accuracy, same, epochs: epochs.length };
}
