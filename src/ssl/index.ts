export { barlowTwinsLoss, ntXentLoss, vicregLoss } from './losses';
export type { BarlowTwinsOptions, NtXentOptions, VicregOptions } from './losses';
export { randomShift, randomResizedCrop, randomAffine, randomHorizontalFlip, colorJitter, randomErasing, parseAugmentation } from './augment';
export type { ImageShape, ShiftOptions, ResizedCropOptions, AffineOptions, FlipOptions, JitterOptions, ErasingOptions, ViewTransform } from './augment';
export { SpikingMlp, SpikingConvNet, projector, SSLModel, buildModel, encoderFromConfig, modelStateShapes } from './models';
export type { SpikingEncoder, NeuronOptions, SpikingMlpOptions, SpikingConvOptions } from './models';
export {
  RUN_OPTIONS,
  NEURON_DEFAULTS,
  SURROGATE_NAMES,
  defaultRunConfig,
  checkRunConfig,
  parseRunConfig,
  resumedConfig,
  runConfigArgs,
  encoderConfig,
  modelConfig,
  neuronConfig,
  lossConfig,
  lossFunction,
  augmentation,
  runStreams,
} from './config';
export type { RunConfig, ModelConfig, NeuronConfig, EncoderConfig, LossConfig, SurrogateConfig, SurrogateName, OptionSpec, RunOptions, ValueType } from './config';
export { encodeModelFile, decodeModelFile, checkModelTensors, modelFromState, loadModelFile } from './modelfile';
export type { ModelFile } from './modelfile';
export { SSLTrainer, sslLoss, representations, datasetFeatures } from './trainer';
export { calibrateBatchNorm } from './calibrate';
export type { CalibrateOptions } from './calibrate';
export { localViews } from './views';
export type { ViewsRunner, TrainViews } from './views';
export type { SslLossName, SslLossFn, Augmentation, SSLTrainerOptions, StepResult, BatchProgress, EpochResult, FitOptions } from './trainer';
// A trained model as one thing: config, weights and fitted probe in one file; predict(images).
export { TrainedModel, saveModel, decodeModel, loadModel } from './model';
export type { LinearProbe, Prediction, EncodeOptions, FitProbeOptions, ImageFeatures } from './model';
// Training from a run config without Node: asynchronous, stoppable, for a page or a Web Worker.
export { trainModel } from './train';
export type { TrainModelOptions, TrainModelResult } from './train';
export { probe, DEFAULT_PROBE_K } from './evaluate';
export type { FeatureSet, ProbeOptions, ProbeResult, LinearFit } from './evaluate';
export { encoderFeatures, parseRepresentation } from './features';
export type { RepresentationSpec, EncoderFeatureOptions } from './features';
