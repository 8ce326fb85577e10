/**
 * spikessl/internals — the plumbing behind the public API, for extending the library (a new
 * differentiable op, a fused kernel, a report of one's own) and for tools built on it. Nothing
 * here is needed to train, evaluate or export a model, and it may change in any minor version;
 * the entry `spikessl` is the stable surface. Browser-safe, like `spikessl`.
 *
 * - The autograd engine: `record` attaches a node with a backward closure; `Node` is the graph
 *   node; `RULES` (the primitives) and `FUSED` (the fused ops) are the typed rule tables, run
 *   by `apply`, `applyFused` and `applyRule`; `accumulateGrad` adds a gradient computed
 *   elsewhere into a leaf.
 * - Report helpers: the palette and colour scale of the charts, XML escaping, histogram counts,
 *   the 2-D PCA of the report's scatter plot, and the terminal progress and table formatters.
 *
 * @example
 * ```ts
 * import { RULES, apply } from 'spikessl/internals';
 * const y = apply('tanh', [x], null); // what tanh(x) does
 * ```
 */
export { record, Node, accumulateGrad } from './autograd/engine';
export type { BackwardFn } from './autograd/engine';
export { RULES, apply, applyRule } from './autograd/ops';
export type { Ctx, OpName, OpSpec, OpSpecs, Rule } from './autograd/ops';
export { FUSED, applyFused } from './autograd/fused';
export type { FusedName, FusedSpecs, BatchNormAttrs, LifAttrs } from './autograd/fused';
export { escapeXml, histogramCounts, sequentialColor, TABLEAU10 } from './report/svg';
export { pca2 } from './report/pca';
export type { Pca2Options, Pca2Result } from './report/pca';
// Digit image decoders behind spikessl/node's readDigitImages (PNG's zlib step comes from the caller).
export { parsePng, parsePgm, mnistPixels, crc32 } from './data/image';
export type { DecodedImage, Inflate, MnistPixelsOptions } from './data/image';
export { MODEL_PROBE_FORMAT } from './ssl/model';
export { formatProgress, formatTaskProgress, formatTable, formatDuration } from './report/progress';
export type { Progress, ProgressFormatOptions, TaskProgress } from './report/progress';
// How a run config becomes model, optimizer, schedule and trainer (spikessl train and trainModel share it).
export { trainerFromConfig } from './ssl/train';
export type { ConfiguredTraining } from './ssl/train';
