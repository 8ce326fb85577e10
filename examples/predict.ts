// Load a trained model and predict digit images — what `spikessl predict --model F FILE…` does,
// from code: a model file written by `spikessl train` (runs/NAME/model.safetensors) or by
// writeModelFile, and PNG (8-bit grayscale or RGB), PGM or IDX images. The README shows it;
// test/examples/predict.test.ts runs it on a tiny model and MNIST test image 0 as PNG and PGM.
// #region predict
import { readDigitImages, readModelFile } from 'spikessl/node';

export function predictDigits(modelFile: string, imageFiles: string[]): Array<{ image: string; digit: number; probability: number }> {
  const model = readModelFile(modelFile); // config, weights and probe, each checked before use
  const { images, n, names } = readDigitImages(imageFiles); // 28×28, light digit on black, in [0, 1]
  const { labels, probabilities, classes } = model.predict({ data: images, shape: [n, 784] });
  const K = classes.length; // probabilities: [n, K], columns in `classes` order
  return names.map((image, i) => ({ image, digit: labels[i], probability: Math.max(...probabilities.data.subarray(i * K, (i + 1) * K)) }));
}
// #endregion predict
