/**
 * The main job end to end at toy size: `runTrain` writes the run folder, and `runEval`
 * rebuilding the encoder from either saved file reproduces the run's own accuracies.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { defaultMnistDir, loadMnist } from '../../src/node/mnist';
import { predictFiles, readModelFile } from '../../src/node/model';
import { runEval, runTrain } from '../../src/node/run';
import { type RunConfig, runStreams } from '../../src/ssl/config';

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
        // eval writes its result as JSON beside the file.
        const written = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8'));
        expect([written.linear, written.knn, written.testImages, written.probeImages, written.split, written.representation]).toEqual([ssl.linear, ssl.knn, 10000, 300, 'test', 'last']);
      }
      // The model file holds the run's fitted probe: predicting the test IDX file with the run's own
      // feature stream gives back the run's linear-probe accuracy exactly.
      const testFile = join(defaultMnistDir(), 't10k-images-idx3-ubyte');
      const predictions = predictFiles(join(out, 'model.safetensors'), [testFile], { rng: runStreams(3).testFeatures });
      const labels = loadMnist({ split: 'test' }).labels;
      expect(predictions).toHaveLength(10000);
      expect(predictions.filter((p, i) => p.label === labels[i]).length / 10000).toBe(ssl.linear);
      expect(Object.values(predictions[0].probabilities).reduce((a, b) => a + b)).toBeCloseTo(1, 5);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it("predict uses the run's --representation and --eval-steps: the test IDX file gives back the run's linear accuracy", async () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const dir = join(out, 'layers');
    try {
      const config: Partial<RunConfig> = {
        loss: 'vicreg', encoder: 'mlp', epochs: 1, batch: 50, steps: 2, evalSteps: 3, hidden: 24, projDim: 16, lr: 2e-3, seed: 5, representation: 'lif1+lif2',
        trainSubset: 100, probeSubset: 200, schedule: 'none', bn: true, baselines: false, dataDir: null, out: dir, resume: false,
      };
      const [ssl] = (await runTrain(config)).accuracy;
      const testFile = join(defaultMnistDir(), 't10k-images-idx3-ubyte');
      const predictions = predictFiles(join(dir, 'model.safetensors'), [testFile], { rng: runStreams(5).testFeatures });
      const labels = loadMnist({ split: 'test' }).labels;
      expect(predictions.filter((p, i) => p.label === labels[i]).length / 10000).toBe(ssl.linear);
      // Two layers of 24 neurons: the probe saw 48 features.
      expect(readModelFile(join(dir, 'model.safetensors')).probe?.scaler.mean).toHaveLength(48);
    } finally {
      vi.restoreAllMocks();
    }
  });
});
