/**
 * spikessl — self-supervised spiking neural networks in pure TypeScript.
 * This is the browser-safe entry: nothing here touches Node's modules. What extends the
 * library rather than uses it (the autograd engine's rule tables, report helpers) is in
 * `spikessl/internals` (src/internals.ts).
 */
export * from './errors';
export { Rng } from './rng';
export type { RngState } from './rng';
export { Tensor, tensor, zeros, ones, full, zerosLike, arange, eye, rand, randn } from './tensor/tensor';
export type { NestedArray, TensorOptions, GradNode } from './tensor/tensor';
export type { Shape } from './tensor/shape';
export type { SliceRange } from './tensor/layout';
export type { Axes } from './tensor/reduce';
export type { MatmulOptions } from './tensor/matmul';
export type { SpikeIndex } from './tensor/spikes';
export type { WindowGeometry } from './tensor/conv';
export type { WasmKernelKind } from './tensor/wasm';
/** Raw kernels without autograd (they never record a graph). */
export * as kernels from './tensor/kernels';
// The differentiable API; the engine's plumbing (record, Node, RULES, apply) is in spikessl/internals.
export * from './autograd';
// Weight files: safetensors bytes in and out.
export { encodeSafetensors, decodeSafetensors } from './io/safetensors';
export type { SafetensorsDType, RawTensor, DecodedSafetensors } from './io/safetensors';
// HDF5 (the subset NIR files use) and NIR, the SNN frameworks' exchange format: bytes in and out.
export { readHdf5, writeHdf5, hdf5Group, hdf5Dataset } from './io/hdf5';
export type { Hdf5DType, Hdf5Data, Hdf5Dataset, Hdf5Group, Hdf5Node } from './io/hdf5';
export { toNir, fromNir, nirGraph, encodeNir, decodeNir, NirNetwork, NIR_DT, NIR_VERSION } from './interop/nir';
export type { NirGraph, NirNode, NirArray, ToNirOptions } from './interop/nir';
export { toTorch } from './interop/torch';
export type { TorchExport, ToTorchOptions } from './interop/torch';
// Data: IDX parsing, datasets, mini-batches.
export { parseIdx } from './data/idx';
export { mnistFromIdx } from './data/mnist';
export type { IdxDType, IdxArray } from './data/idx';
export { makeDataset, subset, batches, batchCount } from './data/dataset';
export type { Dataset, BatchOptions, Batch } from './data/dataset';
export { DATASETS, datasetInfo, holdOut } from './data/registry';
export type { DatasetName, DatasetInfo } from './data/registry';
// Spiking neurons and spike encoders. Surrogates live under the `surrogate` namespace, as in snnTorch.
export * as surrogate from './neurons/surrogate';
export type { Surrogate } from './neurons/surrogate';
export { lif, spike, firingRate, spikeCount, Leaky, IF, Synaptic } from './neurons/index';
export type { LifParameters, LifState, LifResult, ResetMechanism, LeakyOptions, LeakyStep, IFOptions, SynapticOptions, Decay } from './neurons/index';
export { poisson, latency, delta } from './encoding/index';
export type { PoissonOptions, LatencyOptions, DeltaOptions } from './encoding/index';
// Classic classifiers and metrics for judging learned representations.
export * from './classifiers';
// Layers (torch.nn counterparts), their functional forms and weight initialisation.
export * from './nn/index';
// Optimizers, gradient clipping and learning-rate schedules.
export * from './optim/index';
// Run report: SVG charts and the self-contained HTML page (their helpers: spikessl/internals).
export { lineChart, raster, histogram, heatmap, scatter, renderReportHtml } from './report/index';
export type { LineSeries, LineChartOptions, RasterSpikes, RasterOptions, HistogramOptions, HeatmapOptions, ScatterOptions, RunReport, ReportRaster } from './report/index';
// Self-supervised learning: two-branch losses, view augmentations, spiking encoders, the trainer, probes.
export * from './ssl/index';
