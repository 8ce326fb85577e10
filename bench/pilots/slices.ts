/**
 * Features computed in slices (the default since session 11: at most `chunk` images per forward
 * pass) against whole batches of 500 (the earlier definition), on real data: the values that
 * differ (0 when slicing changed no bit), and the seconds of each. For the model file's trained
 * encoder, and with `"untrained": true` also for the same architecture at its run's initial
 * weights (BatchNorm calibrated as `spikessl train`'s baseline is).
 *
 *   node bench/pilots/run.mjs slices '{"from":"runs/conv/model.safetensors","evalSteps":16,"representations":["last","lif2"]}'
 */
import { readFileSync } from 'node:fs';
import { loadDataset } from '../../src/node/datasets';
import { enableThreads } from '../../src/node/threads';
import { threadedViews } from '../../src/node/views';
import { Rng } from '../../src/rng';
import { calibrateBatchNorm } from '../../src/ssl/calibrate';
import { runStreams } from '../../src/ssl/config';
import { encoderFeatures, parseRepresentation } from '../../src/ssl/features';
import { loadModelFile } from '../../src/ssl/modelfile';
import { type SpikingEncoder, buildModel } from '../../src/ssl/models';

export async function main(): Promise<void> {
  const c = { dataset: 'mnist', split: 'test', n: 0, representations: ['last'], evalSteps: 16, seed: 1, threads: 2, untrained: false, from: '', ...(JSON.parse(process.argv[3] ?? '{}') as Record<string, unknown>) } as {
    dataset: string; split: 'train' | 'test'; n: number; representations: string[]; evalSteps: number; seed: number; threads: number; untrained: boolean; from: string;
  };
  enableThreads(c.threads);
  const { model, config } = loadModelFile(readFileSync(c.from), c.from);
  let data = loadDataset({ name: c.dataset, split: c.split });
  if (c.n > 0) data = { ...data, n: c.n, images: data.images.subarray(0, c.n * data.dim), labels: data.labels.subarray(0, c.n) };
  const encoders: Array<[string, SpikingEncoder]> = [['trained', model.encoder]];
  if (c.untrained) {
    const again = runStreams(config.seed);
    const random = buildModel(config, again.init).encoder;
    calibrateBatchNorm(random, data, { steps: config.steps, rng: again.calibrate });
    encoders.push(['untrained', random]);
  }
  for (const [which, encoder] of encoders) {
    for (const representation of c.representations) {
      const run = (chunk: number | undefined) => {
        const t0 = performance.now();
        const f = encoderFeatures(encoder, data, { steps: c.evalSteps, rng: new Rng(c.seed), views: threadedViews(), chunk, ...parseRepresentation(representation) });
        return { f, seconds: (performance.now() - t0) / 1000 };
      };
      const sliced = run(undefined);
      const whole = run(500);
      let differ = 0;
      let maxAbs = 0;
      for (let i = 0; i < sliced.f.data.length; i++) {
        const d = Math.abs(sliced.f.data[i] - whole.f.data[i]);
        if (d !== 0 || Object.is(sliced.f.data[i], -0) !== Object.is(whole.f.data[i], -0)) differ++;
        maxAbs = Math.max(maxAbs, d);
      }
      console.log(JSON.stringify({ from: c.from, encoder: which, dataset: c.dataset, split: c.split, images: data.n, representation, evalSteps: c.evalSteps, dim: sliced.f.dim, values: sliced.f.data.length, differ, maxAbs, seconds: { sliced: Number(sliced.seconds.toFixed(1)), whole: Number(whole.seconds.toFixed(1)) } }));
    }
  }
}
