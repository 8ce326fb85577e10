/** Checkpoints: one safetensors file, atomic; resuming from it continues bit for bit. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Adam,
  BatchNorm1d,
  CosineAnnealingLR,
  DataFormatError,
  Dropout,
  LinearWarmup,
  Linear,
  OptionError,
  ReLU,
  Rng,
  SGD,
  Sequential,
  Tensor,
  crossEntropy,
  decodeSafetensors,
  encodeSafetensors,
  loadCheckpoint,
  restoreCheckpoint,
  saveCheckpoint,
  writeFileAtomic,
} from '../../src/node';

const dir = mkdtempSync(join(tmpdir(), 'spikessl-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A small MLP with batch norm (buffers) and dropout drawing from `rng`. */
function buildModel(initSeed: number, rng: Rng): Sequential {
  const init = new Rng(initSeed);
  return new Sequential(new Linear(6, 12, { rng: init }), new BatchNorm1d(12), new ReLU(), new Dropout(0.2, { rng }), new Linear(12, 3, { rng: init }));
}

interface Run {
  model: Sequential;
  optimizer: Adam;
  scheduler: LinearWarmup;
  rng: Rng;
}

function buildRun(initSeed: number): Run {
  const rng = new Rng(2024);
  const model = buildModel(initSeed, rng);
  const optimizer = new Adam(model.parameters(), { lr: 0.01, weightDecay: 1e-3 });
  const scheduler = new LinearWarmup(optimizer, { warmupSteps: 3, then: new CosineAnnealingLR(optimizer, { tMax: 10 }) });
  return { model, optimizer, scheduler, rng };
}

/** One training step on a batch drawn from the run's generator (data and dropout share it). */
function trainStep({ model, optimizer, scheduler, rng }: Run): void {
  const x = new Tensor(Float32Array.from({ length: 8 * 6 }, () => rng.normal()), [8, 6]);
  const y = Int32Array.from({ length: 8 }, () => rng.int(0, 3));
  optimizer.zeroGrad();
  crossEntropy(model.forward(x), y).backward();
  optimizer.step();
  scheduler.step();
}

describe('checkpoints', () => {
  it('k steps, save, load into fresh objects, m more steps = k + m uninterrupted steps, bit for bit', () => {
    const k = 6;
    const m = 5;
    const whole = buildRun(1);
    for (let i = 0; i < k + m; i++) trainStep(whole);

    const first = buildRun(1);
    for (let i = 0; i < k; i++) trainStep(first);
    const path = join(dir, 'resume.safetensors');
    saveCheckpoint(path, { ...first, epoch: 2, step: k, extra: { note: 'k steps', losses: [1.5, 0.25] } });

    const fresh = buildRun(77); // other initial weights, everything else rebuilt from scratch
    const ckpt = loadCheckpoint(path);
    const info = restoreCheckpoint(ckpt, fresh);
    expect(info).toEqual({ epoch: 2, step: k, extra: { note: 'k steps', losses: [1.5, 0.25] } });
    for (let i = 0; i < m; i++) trainStep(fresh);

    const a = whole.model.stateDict();
    const b = fresh.model.stateDict();
    expect(Object.keys(b)).toEqual(Object.keys(a));
    for (const key of Object.keys(a)) expect(Array.from(b[key].data), key).toEqual(Array.from(a[key].data));
    expect(fresh.optimizer.lr).toBe(whole.optimizer.lr);
    expect(fresh.rng.state()).toEqual(whole.rng.state());
  });

  it('writes one safetensors file with model.* and optim.* tensors and JSON metadata, and no temporary files', () => {
    const run = buildRun(3);
    trainStep(run);
    const path = join(dir, 'layout.safetensors');
    saveCheckpoint(path, run);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const { tensors, metadata } = decodeSafetensors(readFileSync(path));
    expect(Object.keys(tensors).filter((k) => k.startsWith('model.')).sort()).toEqual(Object.keys(run.model.stateDict()).map((k) => `model.${k}`).sort());
    expect(Object.keys(tensors)).toContain('optim.0.exp_avg');
    expect(Object.keys(tensors)).toContain('optim.5.exp_avg_sq');
    expect(metadata.format).toBe('spikessl-checkpoint');
    expect(JSON.parse(metadata.optimizer).name).toBe('Adam');
    expect(JSON.parse(metadata.scheduler).name).toBe('LinearWarmup');
    expect(JSON.parse(metadata.rng)).toEqual(run.rng.state());
  });

  it('rejects files that are not checkpoints and restores that do not fit, naming the problem', () => {
    const other = join(dir, 'plain.safetensors');
    writeFileAtomic(other, encodeSafetensors({ w: new Tensor(new Float32Array(2), [2]) }));
    expect(() => loadCheckpoint(other)).toThrow(DataFormatError);
    expect(() => loadCheckpoint(other)).toThrow(/plain\.safetensors: not a spikessl checkpoint/);
    const bad = join(dir, 'bad.safetensors');
    writeFileSync(bad, encodeSafetensors({ 'model.w': new Tensor(new Float32Array(2), [2]) }, { format: 'spikessl-checkpoint', version: '1', optimizer: '{not json' }));
    expect(() => loadCheckpoint(bad)).toThrow(/metadata 'optimizer' is not valid JSON/);

    const run = buildRun(3);
    trainStep(run);
    const path = join(dir, 'fit.safetensors');
    saveCheckpoint(path, { model: run.model, optimizer: run.optimizer });
    const ckpt = loadCheckpoint(path);
    const sgd = new SGD(run.model.parameters(), { lr: 0.1 });
    expect(() => restoreCheckpoint(ckpt, { optimizer: sgd })).toThrow(/holds a Adam state, not a SGD/);
    expect(() => restoreCheckpoint(ckpt, { scheduler: run.scheduler })).toThrow(/no scheduler state/);
    const smaller = new Sequential(new Linear(6, 12, { rng: new Rng(0) }));
    expect(() => restoreCheckpoint(ckpt, { model: smaller })).toThrow(/unexpected keys: .*1\.running_mean.*4\.weight/);
    expect(() => saveCheckpoint(path, { model: run.model, extra: { f: () => 1 } })).toThrow(OptionError);
    expect(() => saveCheckpoint(path, { model: run.model, extra: { x: NaN } })).toThrow(/extra\.x is NaN/);
  });
});
