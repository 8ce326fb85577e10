/**
 * Issue 23, "widen the net": `spikessl train` killed (kill -9) at random moments, once during
 * evaluation, then resumed — the finished run equals an uninterrupted one bit for bit (model
 * tensors, loss curve, epochs, accuracies, firing rates), and the temporary files of killed
 * writes are removed by the resumed run. A bounded version (one run, three kills) of
 * scripts/fault-train.mjs, which runs many.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { bundleCli, faultTrials } from '../../scripts/fault-train.mjs';

const work = mkdtempSync(join(tmpdir(), 'spikessl-fault-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

it.skipIf(process.platform === 'win32')('a run killed three times (once mid-evaluation) and resumed equals the uninterrupted run', async () => {
  const runner = await bundleCli(join(work, 'bundle'));
  const summary = await faultTrials({ runner, work, trials: 1, killsPerTrial: 3, seed: 1 });
  expect(summary.trials).toBe(1);
  // The first kill (a moment of a fresh run) and the second (during the evaluation of the resumed run)
  // land by construction; the third, a moment drawn over the whole reference run, may come after a
  // shorter resumed run has already finished, depending on the machine's load.
  expect(summary.kills).toBeGreaterThanOrEqual(2);
  expect(summary.killedInEvaluation).toBeGreaterThanOrEqual(1);
  expect(summary.stalesRemoved).toBeGreaterThanOrEqual(1); // the planted temporaries of killed processes
}, 120_000);
