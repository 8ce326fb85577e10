/** Messages between the page and its workers (web/worker.ts). */
import type { RunConfig } from 'spikessl';
import type { DigitFiles } from './lib';

/** Options of a "train here" run. */
export interface TrainRequest {
  epochs: number;
  batch: number;
  lr: number;
  loss: 'ntxent' | 'barlow' | 'vicreg';
  seed: number;
  /** Architecture of the fresh model (the loaded model's by default). */
  config: RunConfig;
}

export type ToWorker =
  /** The bundled digits: the set the probe is fitted on and trained here on, and a held-out set. */
  | { type: 'init'; train: DigitFiles; test: DigitFiles }
  /** Load a model and fit the linear probe and kNN on its representations of the training digits. */
  | { type: 'prepare'; id: number; model: Uint8Array; source: string }
  /** Class scores of one 28×28 image under the prepared model. */
  | { type: 'classify'; id: number; image: Float32Array }
  | { type: 'train'; request: TrainRequest };

export interface Scores {
  /** Softmax probabilities of the linear probe, classes 0–9. */
  linear: number[];
  /** Distance-weighted vote shares of the kNN, classes 0–9. */
  knn: number[];
}

export type FromWorker =
  | { type: 'ready' }
  | { type: 'prepared'; id: number; config: RunConfig; trainN: number; testN: number; testLinear: number; testKnn: number; seconds: number }
  | { type: 'scores'; id: number; scores: Scores }
  | { type: 'progress'; step: number; steps: number; epoch: number; loss: number; samplesPerSecond: number; density: number[] }
  | { type: 'trained'; model: Uint8Array; losses: number[]; seconds: number }
  | { type: 'error'; id: number | null; during: string; message: string };
