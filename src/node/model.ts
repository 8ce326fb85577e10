/**
 * Model files on disk (see ssl/model.ts for the format) and `spikessl predict`: read a model,
 * read digit images (PNG, PGM, IDX), predict their classes.
 */
import { datasetInfo } from '../data/registry';
import { DataFormatError } from '../errors';
import { type EncodeOptions, type Prediction, type TrainedModel, decodeModel, saveModel } from '../ssl/model';
import { readFileChecked, writeFileAtomic } from './fs';
import { readDigitImages } from './image';

/** Reads a model file written by `spikessl train` or {@link writeModelFile} (checked; see `decodeModel`). */
export function readModelFile(path: string): TrainedModel {
  return decodeModel(readFileChecked(path), path);
}

/** Writes `trained` (config, weights and fitted probe) to `path` atomically. */
export function writeModelFile(path: string, trained: TrainedModel): void {
  writeFileAtomic(path, saveModel(trained));
}

/** One image's prediction, as `spikessl predict` prints and writes it. */
export interface FilePrediction {
  /** The file, with `[i]` for the i-th image of an IDX file. */
  image: string;
  label: number;
  /** The class's name in the model's dataset (`'7'` for MNIST, `'Trouser'` for Fashion-MNIST's 1). */
  name: string;
  /** The probability of `label`. */
  probability: number;
  /** The probability of every class, by label. */
  probabilities: Record<string, number>;
  /** Whether the image was inverted (a dark digit on a light background). */
  inverted: boolean;
}

/**
 * Predicts the class of every image in `files` (PNG, PGM, IDX) with the model file at
 * `modelPath`. The model and every image are read and checked before any prediction is made.
 */
export function predictFiles(modelPath: string, files: readonly string[], options: EncodeOptions = {}): FilePrediction[] {
  const trained = readModelFile(modelPath);
  if (trained.probe === null) throw new DataFormatError(`${modelPath}: holds no fitted probe to predict with (written before spikessl train saved its probe?); train again, or fit one with TrainedModel.fitProbe and writeModelFile`);
  const images = readDigitImages(files);
  const p: Prediction = trained.predict({ data: images.images, shape: [images.n, 784] }, options);
  const K = p.classes.length;
  const names = datasetInfo(trained.config.dataset).classes;
  return images.names.map((image, i) => {
    const probabilities: Record<string, number> = {};
    let probability = 0;
    for (let c = 0; c < K; c++) {
      const v = p.probabilities.data[i * K + c];
      probabilities[String(p.classes[c])] = v;
      if (p.classes[c] === p.labels[i]) probability = v;
    }
    return { image, label: p.labels[i], name: names[p.labels[i]] ?? String(p.labels[i]), probability, probabilities, inverted: images.inverted[i] };
  });
}
