/**
 * The raw kernels, as the top-level entry's `kernels` namespace: values only. Their types
 * (Shape, Axes, SliceRange, …) are exported by name from the entry itself; a namespace that
 * re-exports types is emitted as values by the declaration bundler once the package has several
 * entries, which breaks every consumer's type-check (test-package/package.test.ts).
 */
export { checkShape, checkSize, allocate, sizeOf, stridesOf, shapesEqual, broadcastShapes, normAxis, normAxes, MAX_ELEMENTS } from './shape';
export { tensor, zeros, ones, full, zerosLike, arange, eye, rand, randn, Tensor } from './tensor';
export { where, neg, exp, log, sqrt, abs, sign, relu, sigmoid, tanh, clamp, powScalar, scale, addScalar, addInPlace, axpyInPlace, add, sub, mul, div, maximum, minimum, gt, ge, eq } from './elementwise';
export { sum, mean, variance, max, min, maxWithIndex, argmax, scatterToIndex, sumTo } from './reduce';
export { reshape, resolveShape, permute, transposeInto, transpose, concat, slice, unslice, indexSelect, gather, broadcastTo } from './layout';
export { matmul } from './matmul';
export { gemm } from './gemm';
export { toPair, windowGeometry, im2col, col2im, checkPoolPadding, maxPool2dPlanes, maxPool2dPlanesBackward, avgPool2dPlanes, avgPool2dPlanesBackward } from './conv';
export { spikeIndex, transposeIndex, spikeDensity, spikeGemm } from './spikes';
export { useWasmKernels, useRelaxedSimd, wasmKernelKind } from './wasm';
