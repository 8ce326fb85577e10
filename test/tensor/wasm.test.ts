/**
 * The WebAssembly runtime's own contract; each kernel is checked bit for bit, in the test of the
 * module that uses it (gemm, spikes, conv), against its float32 order written out in the test
 * (the weight gradient of the event convolution: against its TypeScript counterpart).
 */
import { describe, expect, it } from 'vitest';
import { useWasmKernels, wasmArena, wasmKernels } from '../../src/tensor/wasm';

describe('WebAssembly kernels', () => {
  it('are there in Node, switch off and on per thread, and report an arena they cannot grow as null', () => {
    expect(useWasmKernels(false)).toBe(false);
    expect(wasmKernels()).toBeNull();
    expect(useWasmKernels(true)).toBe(true);
    const k = wasmKernels()!;
    const before = k.memory.buffer.byteLength;
    expect(wasmArena(k, 100_000)!.byteLength).toBeGreaterThanOrEqual(100_000);
    // Past the 4 GiB of a 32-bit memory: the callers then take their TypeScript path.
    expect(wasmArena(k, 2 ** 33)).toBeNull();
    expect(k.memory.buffer.byteLength).toBeGreaterThanOrEqual(Math.max(before, 100_000));
  });
});
