/**
 * A trained model as one thing: the run config, the encoder and projector weights, and the fitted
 * linear probe (standardisation + logistic regression on the encoder's firing rates), saved to and
 * loaded from one safetensors file, and `predict(images)` → classes and probabilities.
 *
 * The file is a model file of ssl/modelfile.ts (`config` metadata, PyTorch-named weights) plus,
 * when a probe was fitted, a `probe` metadata entry and `probe.*` tensors:
 *
 * ```
 * metadata  config  the RunConfig as JSON
 *           probe   {"format": 1, "classifier": "logistic", "classes": [0, …, 9], "steps": T', "representation": "last"}
 * tensors   encoder.*, projector.*          the model's state dict
 *           probe.scaler.mean / var / scale F64 [F]     StandardScaler's statistics
 *           probe.linear.weight             F32 [R, F]  LogisticRegression's coef (R = 1 for 2 classes, else K)
 *           probe.linear.bias               F32 [R]
 * ```
 *
 * Prediction encodes each image as T' Poisson steps (T' = the steps the probe was fitted on),
 * takes the firing rates of the representation the probe was fitted on (`--representation`: the
 * last layer's, or chosen layers' rates, pooled; see `encoderFeatures`), standardises them and
 * applies the classifier — the features `spikessl train` fitted the probe on, computed alike. The encoding
 * is random: `predict` draws it from `options.rng`, by default a fresh `Rng(0)`, so the same
 * images give the same answer every time.
 */
import { LogisticRegression } from '../classifiers/logistic';
import { type LabelInput, type MatrixInput, toLabels, toMatrix } from '../classifiers/input';
import { StandardScaler } from '../classifiers/scaler';
import { makeDataset } from '../data/dataset';
import { DataFormatError, FileError, OptionError, ShapeError, fmtShape } from '../errors';
import { type RawTensor, decodeSafetensors, encodeSafetensors } from '../io/safetensors';
import { Rng } from '../rng';
import { Tensor } from '../tensor/tensor';
import { type RunConfig, runConfigProblem } from './config';
import { PROBE_PREFIX, checkModelTensors, modelFromState, parseConfigText } from './modelfile';
import { type SSLModel, type SpikingEncoder } from './models';
import { encoderFeatures, parseRepresentation } from './features';

/** The model-file probe format this version writes and reads. */
export const MODEL_PROBE_FORMAT = 1;

/** A fitted linear probe: standardisation, then logistic regression, on firing rates over `steps` Poisson steps. */
export interface LinearProbe {
  scaler: StandardScaler;
  classifier: LogisticRegression;
  /** Time steps of the Poisson encodings its features come from. */
  steps: number;
  /** The representation its features are (a `--representation` spec: `last`, `lif2`, `lif1+lif2@7`). */
  representation: string;
}

/** Features of N images: [N, dim] row-major. */
export interface ImageFeatures {
  data: Float32Array;
  n: number;
  dim: number;
}

/** What {@link TrainedModel.predict} returns. */
export interface Prediction {
  /** The predicted class of each image. */
  labels: Int32Array;
  /** Class probabilities [N, K], columns in `classes` order. */
  probabilities: Tensor;
  /** The classes the probe knows, ascending. */
  classes: Int32Array;
}

/** Options of {@link TrainedModel.features} and {@link TrainedModel.predict}. */
export interface EncodeOptions {
  /** Draws the Poisson encodings. Default a fresh `new Rng(0)` per call. */
  rng?: Rng;
  /** Poisson steps per image. Default: the probe's, else the config's evalSteps (or steps). */
  steps?: number;
  /** Which layers' rates (a `--representation` spec). Default: the probe's, else the config's. */
  representation?: string;
  /** Images per batch. Default 500. */
  batchSize?: number;
  /** Called after each batch with the images done and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** Options of {@link TrainedModel.fitProbe}. */
export interface FitProbeOptions extends EncodeOptions {
  /** L-BFGS iteration budget of the logistic regression. Default 1000, as `probe`'s. */
  maxIter?: number;
  /** Receives the logistic regression's non-convergence warning. Default console.warn. */
  onWarning?: (message: string) => void;
}

/**
 * A trained spiking encoder with its config and (once fitted) its linear probe.
 *
 * @example
 * ```ts
 * const trained = new TrainedModel(config, model); // from training, or: await loadModel(url)
 * trained.fitProbe(trainImages, trainLabels);      // images [N, 784] in [0, 1]; labels number[] or Int32Array
 * const bytes = saveModel(trained);                // one safetensors file
 * const { labels, probabilities } = (await loadModel(bytes)).predict(testImages);
 * ```
 */
export class TrainedModel {
  /** The fitted probe; null until {@link TrainedModel.fitProbe} (or a file that holds one). */
  probe: LinearProbe | null;

  constructor(
    readonly config: RunConfig,
    readonly model: SSLModel,
    probe: LinearProbe | null = null,
  ) {
    this.probe = probe;
  }

  get encoder(): SpikingEncoder {
    return this.model.encoder;
  }

  /** Pixels per image the encoder takes (784 for every built-in encoder). */
  get inputs(): number {
    return 784;
  }

  /**
   * The representation of `images` ([N, 784] pixel intensities in [0, 1]: a Tensor,
   * `{data, shape}` or `number[][]`), in eval mode without a graph: one Poisson encoding of
   * `steps` steps per image, drawn from `rng` batch by batch, and the firing rates of the
   * representation's layers — `encoderFeatures`, as `spikessl train` computes the probes' features.
   */
  features(images: MatrixInput, options: EncodeOptions = {}): ImageFeatures {
    const op = 'TrainedModel.features';
    const m = this.checkImages(images, op);
    const steps = options.steps ?? this.probe?.steps ?? (this.config.evalSteps || this.config.steps);
    if (!Number.isSafeInteger(steps) || steps < 1) throw new OptionError(`${op}: steps must be an integer ≥ 1, got ${steps}`);
    const spec = parseRepresentation(options.representation ?? this.probe?.representation ?? this.config.representation);
    const data = makeDataset(m.data, new Int32Array(m.rows), [m.cols]);
    const f = encoderFeatures(this.encoder, data, { ...spec, steps, rng: options.rng ?? new Rng(0), batchSize: options.batchSize, onProgress: options.onProgress });
    return { data: f.data, n: f.n, dim: f.dim };
  }

  /**
   * Fits the linear probe on the features of labelled images as `spikessl train` does after
   * training (`probe`'s linear half: standardisation, then L2 logistic regression with C = 1 run
   * until the gradient of the mean objective is below 1e-4); returns this.
   */
  fitProbe(images: MatrixInput, labels: LabelInput, options: FitProbeOptions = {}): this {
    const op = 'TrainedModel.fitProbe';
    const m = this.checkImages(images, op);
    const y = toLabels(labels, op);
    if (y.length !== m.rows) throw new ShapeError(`${op}: ${m.rows} images but ${y.length} labels`);
    const steps = options.steps ?? (this.config.evalSteps || this.config.steps);
    const representation = options.representation ?? this.config.representation;
    const f = this.features(m, { ...options, steps, representation });
    const X = { data: f.data, shape: [f.n, f.dim] };
    const scaler = new StandardScaler().fit(X);
    // probe()'s settings: its tol bounds the mean objective's gradient, LogisticRegression's the summed one.
    const classifier = new LogisticRegression({ C: 1, maxIter: options.maxIter ?? 1000, tol: 1e-4 * Math.max(1, f.n), onWarning: options.onWarning }).fit(scaler.transform(X), y);
    this.probe = { scaler, classifier, steps, representation };
    return this;
  }

  /** The class and class probabilities of each image ([N, 784] in [0, 1]); needs a fitted probe. */
  predict(images: MatrixInput, options: EncodeOptions = {}): Prediction {
    const op = 'TrainedModel.predict';
    const probe = this.probe;
    if (probe === null) throw new OptionError(`${op}: the model has no fitted probe; call fitProbe(images, labels) first or load a model file that holds one`);
    const m = this.checkImages(images, op);
    // Always the probe's representation: the classifier knows no other columns.
    const f = this.features(m, { ...options, steps: options.steps ?? probe.steps, representation: probe.representation });
    const X = { data: f.data, shape: [f.n, f.dim] };
    const Z = probe.scaler.transform(X);
    return { labels: probe.classifier.predict(Z), probabilities: probe.classifier.predictProba(Z), classes: probe.classifier.classes };
  }

  /** Images as a checked [N, 784] matrix of values in [0, 1]. */
  private checkImages(images: MatrixInput, op: string): { data: Float32Array; rows: number; cols: number; shape: number[] } {
    const m = toMatrix(images, op, 'images');
    if (m.cols !== this.inputs) throw new ShapeError(`${op}: expected images [N, ${this.inputs}] (28×28 pixels each), got ${fmtShape([m.rows, m.cols])}`);
    const d = m.data;
    for (let i = 0; i < d.length; i++) {
      if (!(d[i] >= 0 && d[i] <= 1)) {
        throw new OptionError(`${op}: pixel intensities must lie in [0, 1], got ${d[i]} in image ${Math.floor(i / m.cols)} (divide 8-bit pixels by 255)`);
      }
    }
    return { ...m, shape: [m.rows, m.cols] };
  }
}

/** The bytes of one safetensors file holding `trained`'s config, weights and probe (if fitted). */
export function saveModel(trained: TrainedModel): Uint8Array {
  const tensors: Record<string, Tensor | RawTensor> = { ...trained.model.stateDict() };
  const metadata: Record<string, string> = { format: 'pt', config: JSON.stringify(trained.config) };
  const probe = trained.probe;
  if (probe !== null) {
    const F = probe.scaler.mean.length;
    const f64 = (a: Float64Array): RawTensor => ({ dtype: 'F64', shape: [F], data: a });
    tensors[`${PROBE_PREFIX}scaler.mean`] = f64(probe.scaler.mean);
    tensors[`${PROBE_PREFIX}scaler.var`] = f64(probe.scaler.var);
    tensors[`${PROBE_PREFIX}scaler.scale`] = f64(probe.scaler.scale);
    tensors[`${PROBE_PREFIX}linear.weight`] = probe.classifier.coef;
    const b = probe.classifier.intercept;
    tensors[`${PROBE_PREFIX}linear.bias`] = new Tensor(b, [b.length]);
    metadata.probe = JSON.stringify({ format: MODEL_PROBE_FORMAT, classifier: 'logistic', classes: Array.from(probe.classifier.classes), steps: probe.steps, representation: probe.representation });
  }
  return encodeSafetensors(tensors, metadata);
}

/**
 * Reads a model file (see the module doc) and builds its model, in eval mode. The config is
 * validated, every tensor's name and shape checked against it and the probe's against the
 * encoder, before anything is built; a `DataFormatError` naming `source` says what is wrong.
 */
export function decodeModel(bytes: Uint8Array, source = 'model file'): TrainedModel {
  const { tensors, raw, metadata } = decodeSafetensors(bytes, source);
  const config = parseConfigText(metadata.config, source);
  checkModelTensors(config, tensors, source);
  const probe = metadata.probe === undefined ? null : decodeProbe(metadata.probe, raw, source, config);
  if (probe === null) {
    const stray = Object.keys(tensors).find((k) => k.startsWith(PROBE_PREFIX));
    if (stray !== undefined) throw new DataFormatError(`${source}: tensor '${stray}' but no 'probe' metadata`);
  }
  const model = modelFromState(config, tensors);
  if (probe !== null) {
    // The representation's width, from a one-step pass on one blank image (cheap; draws nothing).
    const blank = makeDataset(new Float32Array(784), new Int32Array(1), [784]);
    const dim = encoderFeatures(model.encoder, blank, { ...parseRepresentation(probe.representation), steps: 1, rng: new Rng(0) }).dim;
    const F = probe.scaler.mean.length;
    if (F !== dim) throw new DataFormatError(`${source}: probe: fitted on ${F} features, but the representation '${probe.representation}' of its encoder has ${dim}`);
  }
  return new TrainedModel(config, model, probe);
}

function decodeProbe(text: string, raw: Record<string, RawTensor>, source: string, config: RunConfig): LinearProbe {
  const fail = (why: string) => new DataFormatError(`${source}: probe: ${why}`);
  let meta: { format?: unknown; classifier?: unknown; classes?: unknown; steps?: unknown; representation?: unknown };
  try {
    meta = JSON.parse(text);
  } catch {
    throw fail('the metadata is not JSON');
  }
  if (meta === null || typeof meta !== 'object') throw fail('the metadata is not an object');
  if (meta.format !== MODEL_PROBE_FORMAT) throw fail(`format ${JSON.stringify(meta.format)}; this version of spikessl reads format ${MODEL_PROBE_FORMAT} (written by another version?)`);
  if (meta.classifier !== 'logistic') throw fail(`classifier ${JSON.stringify(meta.classifier)}; expected 'logistic'`);
  const classes = meta.classes;
  if (!Array.isArray(classes) || classes.length < 2 || !classes.every((c, i) => Number.isSafeInteger(c) && c >= 0 && c <= 2147483647 && (i === 0 || c > classes[i - 1]))) {
    throw fail('classes must be at least 2 ascending non-negative integers');
  }
  const steps = meta.steps;
  if (!Number.isSafeInteger(steps) || (steps as number) < 1) throw fail(`steps must be an integer ≥ 1, got ${JSON.stringify(steps)}`);
  const representation = meta.representation;
  if (typeof representation !== 'string') throw fail(`representation must be a string such as 'last' or 'lif2', got ${JSON.stringify(representation)}`);
  try {
    parseRepresentation(representation);
  } catch (e) {
    throw fail((e as Error).message);
  }
  // The sizes prediction allocates, and the representation's layers against the encoder's.
  const problem = runConfigProblem({ ...config, evalSteps: steps as number, representation }, (k) => k);
  if (problem !== null) throw fail(problem);
  // The features' width is checked against the encoder once it is built (decodeModel).
  const mean = raw[`${PROBE_PREFIX}scaler.mean`];
  if (mean === undefined) throw fail(`tensor '${PROBE_PREFIX}scaler.mean' is missing`);
  if (mean.shape.length !== 1) throw fail(`tensor '${PROBE_PREFIX}scaler.mean' is ${fmtShape(mean.shape)}; expected [F]`);
  const F = mean.shape[0];
  const K = classes.length;
  const R = K === 2 ? 1 : K;
  const expected: Record<string, { dtype: string; shape: number[] }> = {
    'scaler.mean': { dtype: 'F64', shape: [F] },
    'scaler.var': { dtype: 'F64', shape: [F] },
    'scaler.scale': { dtype: 'F64', shape: [F] },
    'linear.weight': { dtype: 'F32', shape: [R, F] },
    'linear.bias': { dtype: 'F32', shape: [R] },
  };
  for (const name of Object.keys(raw)) {
    if (name.startsWith(PROBE_PREFIX) && !(name.slice(PROBE_PREFIX.length) in expected)) throw fail(`unexpected tensor '${name.slice(0, 80)}'`);
  }
  const get = <T>(name: string): T => {
    const t = raw[PROBE_PREFIX + name];
    const e = expected[name];
    if (t === undefined) throw fail(`tensor '${PROBE_PREFIX}${name}' is missing`);
    if (t.dtype !== e.dtype || fmtShape(t.shape) !== fmtShape(e.shape)) {
      throw fail(`tensor '${PROBE_PREFIX}${name}' is ${t.dtype} ${fmtShape(t.shape)}; expected ${e.dtype} ${fmtShape(e.shape)} for ${K} classes and ${F} features`);
    }
    return t.data as T;
  };
  try {
    const scaler = StandardScaler.fromParameters({ mean: get('scaler.mean'), var: get('scaler.var'), scale: get('scaler.scale') });
    const classifier = LogisticRegression.fromParameters({ coef: get('linear.weight'), intercept: get('linear.bias'), classes: Int32Array.from(classes), features: F });
    return { scaler, classifier, steps: steps as number, representation };
  } catch (e) {
    if (e instanceof DataFormatError) throw e;
    throw fail((e as Error).message);
  }
}

/**
 * Loads a model file from bytes, or fetches it from a URL (in a browser, or in Node ≥ 18 from
 * http(s); in Node read files with `readModelFile` from `spikessl/node`). See {@link decodeModel}.
 *
 * @example
 * ```ts
 * const trained = await loadModel('assets/model.safetensors');
 * const { labels } = trained.predict(images); // images [N, 784] in [0, 1]
 * ```
 */
export async function loadModel(source: Uint8Array | ArrayBuffer | string | URL): Promise<TrainedModel> {
  if (source instanceof Uint8Array) return decodeModel(source);
  if (source instanceof ArrayBuffer) return decodeModel(new Uint8Array(source));
  const url = String(source);
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new FileError(`loadModel: could not fetch ${url}: ${(e as Error).message}`);
  }
  if (!response.ok) throw new FileError(`loadModel: could not fetch ${url}: HTTP ${response.status} ${response.statusText}`);
  return decodeModel(new Uint8Array(await response.arrayBuffer()), url);
}
