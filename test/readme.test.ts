import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { project } from '../examples/project';
import { tour } from '../examples/tour';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const tourSource = ['tour.ts', 'project.ts', 'predict.ts', 'browser/worker.ts', 'browser/main.ts'].map((f) => readFileSync(new URL(`../examples/${f}`, import.meta.url), 'utf8')).join('');

describe('README', () => {
  it('shows the install and test commands first', () => {
    const firstBlock = readme.indexOf('```sh');
    expect(firstBlock).toBeGreaterThan(0);
    expect(readme.indexOf('npm install')).toBeGreaterThan(firstBlock);
    expect(readme.indexOf('npm test')).toBeGreaterThan(firstBlock);
  });

  it('every ts block is a region of an example (tour, project, predict, browser), verbatim', () => {
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(blocks.length).toBeGreaterThan(0);
    const regions = [...tourSource.matchAll(/\/\/ #region \S+\n([\s\S]*?)\s*\/\/ #endregion/g)].map((m) => m[1].trimEnd() + '\n');
    for (const b of blocks) expect(regions, `README block not found in examples/:\n${b}`).toContain(b);
  });

  it('shows every region of examples/tour.ts, its import line first', () => {
    const tour = readFileSync(new URL('../examples/tour.ts', import.meta.url), 'utf8');
    const regions = [...tour.matchAll(/\/\/ #region (\S+)\n([\s\S]*?)\s*\/\/ #endregion/g)];
    expect(regions[0][1]).toBe('tour-import');
    expect(regions[0][2]).toMatch(/^import \{[^}]+\} from 'spikessl';$/);
    const at = regions.map(([, name, code]) => {
      const i = readme.indexOf('```ts\n' + code.trimEnd() + '\n```');
      expect(i, `region ${name} of examples/tour.ts is not a README block`).toBeGreaterThan(0);
      return i;
    });
    expect(at).toEqual([...at].sort((x, y) => x - y));
  });

  it('the tour runs and computes what it says', () => {
    const r = tour();
    // crossEntropy of 2 classes lies in (0, ∞); gradients have the parameters' sizes.
    expect(r.loss).toBeGreaterThan(0);
    expect(Number.isFinite(r.loss)).toBe(true);
    expect(r.wGrad).toBe(6);
    expect(r.bGrad).toBe(2);
    expect(r.rows).toBe(4);
    // Firing rates over T = 8 steps lie in [0, 1].
    expect(r.rateMin).toBeGreaterThanOrEqual(0);
    expect(r.rateMax).toBeLessThanOrEqual(1);
    // NT-Xent with 2N = 32 views and τ = 0.5 lies in [0, log(31) + 2/τ] (cosines in [−1, 1]).
    expect(r.sslLoss).toBeGreaterThan(0);
    expect(r.sslLoss).toBeLessThan(Math.log(31) + 4);
    expect(r.featureRows).toBe(16);
  });

  it('"Use it in your project" runs at tiny settings: a trained model, saved, read back, predicts MNIST above chance', async () => {
    const out = mkdtempSync(join(tmpdir(), 'spikessl-project-'));
    const log = console.log;
    console.log = () => {};
    try {
      const r = await project(out, { hidden: 32, projDim: 16, epochs: 1, batch: 50 }, 200);
      expect(r.epochs).toBe(1);
      expect(r.same).toBe(true);
      // Ten classes: chance is 10 %; a probe on 200 images of an encoder trained for 4 batches does at least twice as well (27.8 % at seed 0).
      expect(r.accuracy).toBeGreaterThan(0.2);
    } finally {
      console.log = log;
      rmSync(out, { recursive: true, force: true });
    }
  });
});
