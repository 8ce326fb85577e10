/**
 * spikessl/node — the Node.js entry: everything of the browser-safe entry plus file
 * access (loaders, checkpoints) that needs `node:*` modules.
 */
export * from './index';
export { writeFileAtomic, readSafetensorsFile, writeSafetensorsFile } from './node/fs';
export { loadMnist, defaultMnistDir } from './node/mnist';
export type { LoadMnistOptions } from './node/mnist';
export { loadDataset, defaultDatasetDir, FASHION_MNIST_DIR } from './node/datasets';
export type { LoadDatasetOptions } from './node/datasets';
export { decodePng, readDigitImages } from './node/image';
export type { DigitImages } from './node/image';
export type { DecodedImage, MnistPixelsOptions } from './data/image';
// Model files (config, weights, fitted probe) and predictions on image files.
export { readModelFile, writeModelFile, predictFiles } from './node/model';
export type { FilePrediction } from './node/model';
// Progress bars on a terminal.
export { terminalProgress } from './node/progress';
export type { ProgressStream, TerminalProgressOptions } from './node/progress';
export { saveCheckpoint, loadCheckpoint, restoreCheckpoint } from './node/checkpoint';
export type { CheckpointContents, Checkpoint, CheckpointOptimizer, RestoreTargets } from './node/checkpoint';
// The main job behind the CLI: train, evaluate, write the run folder.
export { runTrain, runEval, resumeConfig } from './node/run';
export type { TrainConfig } from './node/run';
// Worker threads for the big kernels.
export { enableThreads, disableThreads, threadCount, threadActivity } from './node/threads';
export { threadedViews } from './node/views';
