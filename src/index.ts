/**
 * spikessl — self-supervised spiking neural networks in pure TypeScript.
 * This is the browser-safe entry: nothing here touches Node's modules.
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
/** Raw kernels without autograd (they never record a graph). */
export * as kernels from './tensor';
export * from './autograd';
