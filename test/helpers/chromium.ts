/**
 * Debian's Chromium for the tests that drive a page (playwright-core, no browser download):
 * the binary and the flags of a headless, offline, profile-less run, and the kernels to replay
 * the page's training with in Node.
 */
import { execFileSync } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import type { Page } from 'playwright-core';
import { type WasmKernelKind, kernels } from 'spikessl';

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

/**
 * Whether a Chromium is there to drive ($CHROMIUM_PATH or `chromium` on the PATH). `npm test`
 * skips its browser example without one, saying so, so that a fresh clone's two commands pass
 * on a machine without a browser; with SPIKESSL_REQUIRE_BROWSER=1 (as .ci/run sets it) a missing
 * Chromium is a failure instead.
 */
export function hasChromium(): boolean {
  if (process.env.SPIKESSL_REQUIRE_BROWSER === '1') return true;
  try {
    chromiumPath();
    return true;
  } catch {
    return false;
  }
}

/** $CHROMIUM_PATH, else `chromium` on the PATH; throws saying how to install it. */
export function chromiumPath(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error("no chromium on the PATH: install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH");
  }
}

/**
 * A WebAssembly module of one function, `f32x4.relaxed_madd` of its three v128 parameters: it
 * validates where the engine has relaxed SIMD.
 */
const RELAXED_SIMD_MODULE = [
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type: (v128, v128, v128) → v128
  0x03, 0x02, 0x01, 0x00, // function 0 has type 0
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b, // local.get 0 1 2; f32x4.relaxed_madd
];

/**
 * Makes this process run the GEMM micro-kernel the browser runs, so that training replayed here
 * gives the page's bits: spikessl uses relaxed SIMD where the engine has it (Chromium ≥ 114 does;
 * Node 20 has it behind a V8 flag, which can be set at run time before the kernels are built
 * again), and its results differ from plain SIMD's in the last bits. Returns the kind now in use here.
 */
export async function matchBrowserKernels(page: Page): Promise<WasmKernelKind> {
  const relaxed = await page.evaluate((bytes) => WebAssembly.validate(new Uint8Array(bytes)), RELAXED_SIMD_MODULE);
  if (relaxed) setFlagsFromString('--experimental-wasm-relaxed-simd');
  return kernels.useRelaxedSimd(relaxed);
}
