/**
 * The main job end to end at toy size: `runTrain` writes the run folder, and `runEval`
 * rebuilding the encoder from either saved file reproduces the run's own accuracies.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runEval, runTrain } from '../../src/node/run';
import type { RunConfig } from '../../src/ssl/config';

const out = mkdtempSync(join(tmpdir(), 'spikessl-run-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('runTrain and runEval', () => {
  it('write a complete run folder, and evaluating the saved model gives the same accuracies', async () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const config: Partial<RunConfig> = {
        loss: 'barlow', encoder: 'mlp', epochs: 1, batch: 50, steps: 2, hidden: 32, projDim: 16, lr: 2e-3, temperature: 0.5, seed: 3,
        trainSubset: 300, probeSubset: 300, augment: 'shift:1', schedule: 'none', bn: true, baselines: false, dataDir: null, out, resume: false,
      };
      const report = await runTrain(config);
      for (const f of ['model.safetensors', 'checkpoint.safetensors', 'report.json', 'report.html']) expect(existsSync(join(out, f)), f).toBe(true);
      const json = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
      expect(json.batchLoss).toHaveLength(6); // 300 images in batches of 50
      expect(json.epochs[0].density).toHaveLength(3); // input, lif1, lif2
      expect(json.sample.views[0].data).toHaveLength(2 * 784);
      expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('<svg');
      const [ssl] = report.accuracy;
      for (const file of ['model.safetensors', 'checkpoint.safetensors']) {
        const again = await runEval({ checkpoint: join(out, file), dataDir: undefined, probeSubset: 300 });
        expect(again.linear).toBe(ssl.linear);
        expect(again.knn).toBe(ssl.knn);
      }
    } finally {
      vi.restoreAllMocks();
    }
  });
});
