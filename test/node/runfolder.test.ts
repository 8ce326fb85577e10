/**
 * The run folder and resume, from the command line: bad --out places and data folders are one
 * line and exit code 2 before any work, a failed run leaves no empty folder, and --resume takes
 * the run's saved settings — a resumed run is the uninterrupted one, bit for bit.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main, parseTrainArgs } from '../../src/cli';
import { DataFormatError, OptionError } from '../../src/errors';
import { Rng } from '../../src/rng';
import { type RunConfig, defaultRunConfig } from '../../src/ssl/config';
import { buildModel } from '../../src/ssl/models';
import { saveCheckpoint } from '../../src/node/checkpoint';
import { loadMnist } from '../../src/node/mnist';
import { runTrain } from '../../src/node/run';

const root = mkdtempSync(join(tmpdir(), 'spikessl-runfolder-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** An MNIST-format folder with the first `nTrain` / `nTest` images of MNIST, written as plain IDX. */
function tinyMnist(dir: string, nTrain: number, nTest: number): string {
  mkdirSync(dir, { recursive: true });
  const write = (name: string, dims: number[], bytes: Uint8Array, type: number) => {
    const header = new Uint8Array(4 + 4 * dims.length);
    const v = new DataView(header.buffer);
    v.setUint8(2, type);
    v.setUint8(3, dims.length);
    dims.forEach((d, i) => v.setUint32(4 + 4 * i, d));
    writeFileSync(join(dir, name), Buffer.concat([header, bytes]));
  };
  for (const [split, prefix, n] of [['train', 'train', nTrain], ['test', 't10k', nTest]] as const) {
    const d = loadMnist({ split });
    const px = Uint8Array.from(d.images.subarray(0, n * 784), (x) => Math.round(x * 255));
    write(`${prefix}-images-idx3-ubyte`, [n, 28, 28], px, 0x08);
    write(`${prefix}-labels-idx1-ubyte`, [n], Uint8Array.from(d.labels.subarray(0, n)), 0x08);
  }
  return dir;
}

describe('the run folder from the command line', () => {
  let errors: string[];
  beforeEach(() => {
    errors = [];
    vi.spyOn(console, 'error').mockImplementation((m: string) => void errors.push(m));
    vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });
  afterEach(() => vi.restoreAllMocks());

  it('--out at a file, under a file, with an over-long name: one line, exit code 2, nothing left behind', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    const cases: Array<[string, RegExp]> = [
      [file, /--out .*a-file is a file, expected a run folder/],
      [join(file, 'run'), /--out .*a-file\/run: cannot write the run folder there \((ENOTDIR|EEXIST)\)/],
      ['/dev/null/run', /--out \/dev\/null\/run: cannot write the run folder there \(ENOTDIR\)/],
      [join(root, 'n'.repeat(300)), /cannot write the run folder there \(ENAMETOOLONG\)/],
    ];
    for (const [out, message] of cases) {
      errors.length = 0;
      expect(await main(['train', '--out', out, '--threads', '1']), out).toBe(2);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(message);
    }
    expect(readFileSync(file, 'utf8')).toBe('x');
  });

  it('a data folder that is not one: exit code 2, and the run folder it would have made is gone', async () => {
    const out = join(root, 'never', 'made');
    expect(await main(['train', '--data-dir', join(root, 'no-data'), '--out', out, '--threads', '1'])).toBe(2);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/no-data is not a directory/);
    expect(existsSync(out)).toBe(false);
    // An empty data folder: the file it lacks is named.
    mkdirSync(join(root, 'empty-data'));
    errors.length = 0;
    expect(await main(['train', '--data-dir', join(root, 'empty-data'), '--out', out, '--threads', '1'])).toBe(2);
    expect(errors[0]).toMatch(/no train-images-idx3-ubyte in .*empty-data/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('--resume takes the run\'s saved settings', () => {
  const saved = (over: Partial<RunConfig>, dir: string): RunConfig => {
    const config: RunConfig = { ...defaultRunConfig(), hidden: 8, projDim: 4, steps: 2, lr: 0.002, loss: 'ntxent', temperature: 0.3, out: dir, ...over };
    mkdirSync(dir, { recursive: true });
    saveCheckpoint(join(dir, 'checkpoint.safetensors'), { model: buildModel(config, new Rng(0)), epoch: 1, extra: { config } });
    return config;
  };

  it('without options it is the saved config; evaluation options may change, training options may not', () => {
    const dir = join(root, 'resume-a');
    const config = saved({}, dir);
    expect(parseTrainArgs(['--resume', '--out', dir])).toEqual({ ...config, resume: true });
    expect(parseTrainArgs(['--resume', '--out', dir, '--probe-subset', '100', '--eval-steps', '16', '--no-baselines'])).toEqual({ ...config, resume: true, probeSubset: 100, evalSteps: 16, baselines: false });
    // Repeating a saved value is fine; a constant learning rate lets the run grow.
    expect(parseTrainArgs(['--resume', '--out', dir, '--lr', '0.002', '--epochs', '3']).epochs).toBe(3);
    const refused: Array<[string[], RegExp]> = [
      [['--lr', '0.01'], /--resume: --lr 0.01 contradicts the run's --lr 0.002 saved in .*checkpoint\.safetensors; leave it out/],
      [['--steps', '4'], /--steps 4 contradicts the run's --steps 2/],
      [['--temperature', '0.5'], /--temperature 0.5 contradicts the run's --temperature 0.3/],
      [['--loss', 'barlow'], /--loss barlow contradicts the run's --loss ntxent/],
      [['--augment', 'shift:2'], /--augment shift:2 contradicts the run's --augment none/],
      [['--train-subset', '1000'], /--train-subset 1000 contradicts the run's --train-subset 0/],
      [['--surrogate', 'sigmoid'], /--surrogate sigmoid:25 contradicts the run's --surrogate atan:2/],
    ];
    for (const [args, message] of refused) {
      const f = () => parseTrainArgs(['--resume', '--out', dir, ...args]);
      expect(f, args.join(' ')).toThrow(OptionError);
      expect(f).toThrow(message);
    }
    const cosine = join(root, 'resume-cosine');
    saved({ schedule: 'cosine', epochs: 2 }, cosine);
    expect(() => parseTrainArgs(['--resume', '--out', cosine, '--epochs', '4'])).toThrow(/--epochs 4 contradicts the run's --epochs 2 .*with --schedule cosine the schedule's length is part of the run/);
    expect(() => parseTrainArgs(['--resume', '--out', join(root, 'nothing-here')])).toThrow(/--resume: no checkpoint at .*nothing-here\/checkpoint\.safetensors/);
  });

  it('a checkpoint whose config is broken, or does not fit its weights, is a DataFormatError naming it', () => {
    const dir = join(root, 'resume-broken');
    mkdirSync(dir);
    const model = buildModel({ ...defaultRunConfig(), hidden: 8, projDim: 4 }, new Rng(0));
    saveCheckpoint(join(dir, 'checkpoint.safetensors'), { model, extra: { config: { encoder: 'rnn', hidden: 8, projDim: 4, steps: 2 } } });
    expect(() => parseTrainArgs(['--resume', '--out', dir])).toThrow(DataFormatError);
    expect(() => parseTrainArgs(['--resume', '--out', dir])).toThrow(/checkpoint\.safetensors: config\.encoder must be one of mlp, conv, got "rnn"/);
    // A config that does not describe the checkpoint's weights.
    const lying = join(root, 'resume-lying');
    mkdirSync(lying);
    saveCheckpoint(join(lying, 'checkpoint.safetensors'), { model, extra: { config: { ...defaultRunConfig(), hidden: 16, projDim: 4, out: lying } } });
    expect(() => parseTrainArgs(['--resume', '--out', lying])).toThrow(/checkpoint\.safetensors: tensor 'encoder\.fc1\.\w+' has shape \[8.*needs \[16/);
  });

  it('a 1-epoch run resumed to 2 epochs ends where the uninterrupted 2-epoch run ends, bit for bit, and report.json says so', async () => {
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const data = tinyMnist(join(root, 'tiny'), 200, 100);
      const base: Partial<RunConfig> = { hidden: 16, projDim: 8, steps: 2, batch: 50, lr: 0.003, augment: 'shift:1', bn: true, baselines: false, dataDir: data, seed: 5, probeSubset: 200 };
      const whole = await runTrain({ ...base, epochs: 2, out: join(root, 'whole') });
      const parts = join(root, 'parts');
      await runTrain({ ...base, epochs: 1, out: parts });
      // A constant learning rate lets a finished run grow; the command line gives nothing else.
      const resumed = await runTrain(parseTrainArgs(['--resume', '--out', parts, '--epochs', '2']));
      expect(whole.batchLoss).toHaveLength(8); // 200 images in batches of 50, two epochs
      expect(resumed.batchLoss).toEqual(whole.batchLoss);
      expect(resumed.accuracy).toEqual(whole.accuracy);
      const report = JSON.parse(readFileSync(join(parts, 'report.json'), 'utf8'));
      expect(report.config).toMatchObject({ ...base, epochs: 2, resume: true, out: parts });
      expect(report.epochs.map((e: { epoch: number }) => e.epoch)).toEqual([1, 2]);
    } finally {
      vi.restoreAllMocks();
    }
  });
});
