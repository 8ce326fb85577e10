// Shared by the interop check scripts (nir_export.mjs, torch_export.mjs): the library bundled from
// src/index.ts with tsup into a temporary folder and imported, and trained-looking BatchNorm state.
import { build } from 'tsup';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The repository root. */
export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** spikessl as built from src/index.ts (no dist/ needed). */
export async function loadSpikessl() {
  const tmp = mkdtempSync(join(tmpdir(), 'spikessl-script-'));
  try {
    await build({ entry: { index: join(root, 'src/index.ts') }, outDir: tmp, format: ['esm'], platform: 'neutral', target: 'node20', config: false, silent: true, dts: false, outExtension: () => ({ js: '.mjs' }) });
    return await import(pathToFileURL(join(tmp, 'index.mjs')).href);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Gives every BatchNorm of `model` random running statistics and affine parameters (drawn from
 * `rng`), as training would leave them, and switches the model to eval mode.
 */
export function randomizeNorms(lib, model, rng) {
  for (const m of model.modules()) {
    if (m instanceof lib.BatchNorm1d || m instanceof lib.BatchNorm2d) {
      for (let i = 0; i < m.numFeatures; i++) {
        m.runningMean.data[i] = rng.uniformRange(-0.3, 0.3);
        m.runningVar.data[i] = rng.uniformRange(0.02, 0.3);
        m.weight.data[i] = rng.uniformRange(0.5, 2);
        m.bias.data[i] = rng.uniformRange(-0.2, 0.5);
      }
    }
  }
  model.eval();
}
