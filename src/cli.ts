#!/usr/bin/env node
/**
 * The `spikessl` command: `spikessl train` trains a spiking encoder without labels on an
 * MNIST-format dataset and evaluates its representation; `spikessl eval` evaluates a saved
 * model or checkpoint. Every flag and the `--help` text come from the options table of
 * ssl/config.ts (plus the few command-line-only options below); a command lists the entries it
 * takes. Bad options, bad files, bad data folders and files that cannot be read or written print
 * one line and exit with code 2.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataFormatError, FileError, OptionError, ShapeError, SpikesslError } from './errors';
import { runExport } from './node/export';
import { writeFileAtomic } from './node/fs';
import { predictFiles } from './node/model';
import { checkInputFile, resumeConfig, runEval, runTrain } from './node/run';
import { disableThreads, enableThreads } from './node/threads';
import { formatTable } from './report/progress';
import { type OptionSpec, type RunConfig, RUN_OPTIONS, booleanType, choiceType, defaultRunConfig, flagOf, inapplicable, intType, pathType, runConfigProblem } from './ssl/config';

/** Options of the command line that are not part of a run's description. */
const CLI_OPTIONS = {
  checkpoint: { type: pathType(false), default: null, help: 'model or checkpoint file written by spikessl train' },
  threads: { type: intType(0, 256), default: 0, help: 'threads for the big kernels (0 = every core)' },
  format: { type: choiceType(['nir', 'torch'] as const), default: null, help: 'nir: model.nir (NIR graph, HDF5); torch: encoder.py (plain PyTorch) + encoder.safetensors' },
  approximate: { type: booleanType, default: false, help: 'nir: export subtract reset as zero reset and max pooling as average pooling instead of refusing' },
  model: { type: pathType(false), default: null, help: 'model file written by spikessl train (runs/NAME/model.safetensors)' },
  json: { type: pathType(true), default: null, help: 'also write the result as JSON to this file' },
} satisfies Record<string, OptionSpec<unknown>>;

type OptionKey = keyof RunConfig | keyof typeof CLI_OPTIONS;

/** A command: the option entries it takes (in --help order), those it requires, and help texts of its own. */
interface Command {
  synopsis: string;
  summary: string;
  options: readonly OptionKey[];
  required?: readonly OptionKey[];
  help?: Partial<Record<OptionKey, string>>;
  /** The one argument without a flag the command takes, if any (its name in the synopsis). */
  positional?: string;
  /** The command takes any number (≥ 1) of such arguments, described so in --help. */
  many?: string;
}

const COMMANDS: Record<string, Command> = {
  train: {
    synopsis: 'spikessl train [options]',
    summary: 'train an encoder without labels, then evaluate it',
    options: [...(Object.keys(RUN_OPTIONS) as Array<keyof RunConfig>), 'threads'],
  },
  eval: {
    synopsis: 'spikessl eval --checkpoint F [options]',
    summary: 'evaluate a saved model or checkpoint as its run did',
    options: ['checkpoint', 'dataDir', 'probeSubset', 'evalSteps', 'representation', 'json', 'threads'],
    required: ['checkpoint'],
    help: { evalSteps: "time steps of the encodings the probes' features come from (0 = the run's)", representation: "the probed representation (default: the run's), as for train", json: 'where to write the result as JSON (default: eval.json beside the checkpoint)' },
  },
  predict: {
    synopsis: 'spikessl predict --model F FILE…',
    summary: 'classify 28×28 digit images (PNG, PGM or IDX files)',
    // One thread: a few images take milliseconds; an IDX file of 10,000 a few seconds.
    options: ['model', 'json'],
    required: ['model'],
    positional: 'image files',
    many: 'image files: PNG (8-bit gray or RGB), PGM, or IDX [N, 28, 28]',
  },
  export: {
    synopsis: 'spikessl export --format nir|torch RUN',
    summary: "write a run's encoder (RUN: its folder or model file) as NIR or a PyTorch module beside it",
    options: ['format', 'approximate'],
    required: ['format'],
    positional: 'RUN',
  },
};

function optionSpec(key: OptionKey): OptionSpec<unknown> {
  return (key in CLI_OPTIONS ? CLI_OPTIONS[key as keyof typeof CLI_OPTIONS] : RUN_OPTIONS[key as keyof RunConfig]) as OptionSpec<unknown>;
}

/** The `--help` text, derived from the tables. */
export function usage(): string {
  const lines = ['spikessl — self-supervised spiking neural networks in pure TypeScript', '', 'usage:'];
  for (const c of Object.values(COMMANDS)) lines.push(`  ${c.synopsis.padEnd(40)}${c.summary}`);
  lines.push(`  ${'spikessl --help | --version'.padEnd(40)}this text | the version`);
  for (const [name, c] of Object.entries(COMMANDS)) {
    lines.push('', `${name} options:`);
    if (c.many) lines.push(`  ${'FILE…'.padEnd(22)}${c.many}`);
    for (const key of c.options) {
      const o = optionSpec(key);
      const flag = o.type.flag ? `--${flagOf(key)}` : `--${flagOf(key)} <v>`;
      const shown = o.default === null ? '' : o.type.show(o.default);
      const def = c.required?.includes(key) ? ' (required)' : shown === '' ? '' : ` (default: ${shown})`;
      const applies = o.appliesWhen ? ` [with ${Object.entries(o.appliesWhen).map(([k, v]) => `--${flagOf(k)} ${(v as unknown[]).join('|')}`).join(', ')}]` : '';
      lines.push(`  ${flag.padEnd(22)}${c.help?.[key] ?? o.help}${applies}${def}`);
    }
  }
  lines.push('', 'With --resume, train takes the run\'s saved settings; an option that contradicts them is an error.');
  return lines.join('\n');
}

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}

function unknownOption(name: string, command: string, flags: string[]): OptionError {
  const near = flags.map((f) => [f, distance(name, f)] as const).filter(([f, d]) => d <= 2 || f.startsWith(name)).sort((a, b) => a[1] - b[1]);
  if (near.length > 0) return new OptionError(`unknown option --${name} for ${command}; did you mean --${near[0][0]}?`);
  const elsewhere = Object.entries(COMMANDS).find(([, c]) => c.options.some((k) => flagOf(k) === name));
  if (elsewhere) return new OptionError(`--${name} is an option of ${elsewhere[0]}, not of ${command} (see spikessl --help)`);
  return new OptionError(`unknown option --${name} for ${command} (see spikessl --help)`);
}

/**
 * The options given on the command line, by config key, each parsed and checked by its table
 * entry: `--name value`, `--name=value`, `--flag` / `--no-flag` for on/off options. Throws an
 * OptionError naming the option for anything else.
 */
function parseOptions(command: string, args: readonly string[], positionals: string[] = []): Map<OptionKey, unknown> {
  const cmd = COMMANDS[command];
  const byFlag = new Map(cmd.options.map((k) => [flagOf(k), k]));
  const values = new Map<OptionKey, unknown>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (cmd.positional && !arg.startsWith('--') && (cmd.many !== undefined || positionals.length === 0)) {
      positionals.push(arg);
      continue;
    }
    if (!arg.startsWith('--') || arg === '--') throw new OptionError(`unexpected argument '${arg}' (options start with --; see spikessl --help)`);
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    let text = eq < 0 ? undefined : arg.slice(eq + 1);
    let key = byFlag.get(name);
    let negated = false;
    const positive = name.startsWith('no-') ? byFlag.get(name.slice(3)) : undefined;
    if (key === undefined && positive !== undefined && optionSpec(positive).type.flag) {
      key = positive;
      negated = true;
    }
    if (key === undefined) throw unknownOption(name, command, [...byFlag.keys()]);
    const o = optionSpec(key);
    if (values.has(key)) throw new OptionError(`--${flagOf(key)} is given twice`);
    let value: unknown;
    if (o.type.flag && (text === undefined || negated)) {
      if (text !== undefined) throw new OptionError(`--${name} takes no value, got '${text}'`);
      value = !negated;
    } else {
      if (text === undefined) {
        // A value may start with one dash (--epochs -1), never with two.
        if (i + 1 >= args.length || args[i + 1].startsWith('--')) throw new OptionError(`--${name} needs a value: ${o.type.expected}`);
        text = args[++i];
      }
      value = o.type.text(text);
      if (value === undefined) throw new OptionError(`--${name} must be ${o.type.expected}, got '${text.length > 80 ? `${text.slice(0, 80)}…` : text}'`);
    }
    values.set(key, value);
  }
  for (const key of cmd.required ?? []) {
    if (!values.has(key)) throw new OptionError(`${command} needs --${flagOf(key)}`);
  }
  if (cmd.positional && positionals.length === 0) throw new OptionError(`${command} needs ${cmd.positional} (see spikessl --help)`);
  return values;
}

/** The run options among `values`. */
function runOptions(values: Map<OptionKey, unknown>): Partial<RunConfig> {
  const given: Record<string, unknown> = {};
  for (const [k, v] of values) if (k in RUN_OPTIONS) given[k] = v;
  return given as Partial<RunConfig>;
}

/**
 * Parses `train` options into a complete run config (absent options take their defaults);
 * throws an OptionError for a bad value, an option that does not apply with the others
 * (`--temperature` with `--loss barlow`), or a configuration too large to allocate. With
 * `--resume`, the run's saved settings are read from its checkpoint first.
 */
export function parseTrainArgs(args: readonly string[]): RunConfig {
  const given = runOptions(parseOptions('train', args));
  const config = given.resume ? resumeConfig(given.out ?? RUN_OPTIONS.out.default, given) : { ...defaultRunConfig(), ...given };
  const problem = inapplicable(config, Object.keys(given) as Array<keyof RunConfig>) ?? runConfigProblem(config);
  if (problem) throw new OptionError(problem);
  return config;
}

function useThreads(values: Map<OptionKey, unknown>): void {
  const n = (values.get('threads') as number | undefined) ?? 0;
  enableThreads(n === 0 ? undefined : n);
}

/** The package's version, from the package.json beside src/ or dist/. */
function version(): string {
  // In the CommonJS build `import.meta` is empty and `__filename` exists; in ESM the reverse.
  const metaUrl: unknown = (import.meta as { url?: unknown } | undefined)?.url;
  const here = typeof metaUrl === 'string' && metaUrl !== '' ? fileURLToPath(metaUrl) : __filename;
  return (JSON.parse(readFileSync(join(here, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
}

/** Runs the CLI on `argv` (without node and script); returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === '--version' || command === '-v' || command === 'version') {
      console.log(version());
      return 0;
    }
    if (command === undefined || command === '--help' || command === '-h' || command === 'help' || rest.includes('--help') || rest.includes('-h')) {
      console.log(usage());
      return command === undefined ? 2 : 0;
    }
    if (command === 'train') {
      const config = parseTrainArgs(rest);
      useThreads(parseOptions('train', rest));
      await runTrain(config);
      console.log(`\nrun folder: ${config.out} (report: ${join(config.out, 'report.html')})`);
      return 0;
    }
    if (command === 'eval') {
      const v = parseOptions('eval', rest);
      checkInputFile(v.get('checkpoint') as string, '--checkpoint'); // before threads start
      useThreads(v);
      await runEval({
        checkpoint: v.get('checkpoint') as string,
        dataDir: (v.get('dataDir') as string | null | undefined) ?? undefined,
        probeSubset: (v.get('probeSubset') as number | undefined) ?? 0,
        evalSteps: (v.get('evalSteps') as number | undefined) ?? 0,
        representation: v.get('representation') as string | undefined,
        json: (v.get('json') as string | null | undefined) ?? undefined,
      });
      return 0;
    }
    if (command === 'predict') {
      const files: string[] = [];
      const v = parseOptions('predict', rest, files);
      checkInputFile(v.get('model') as string, '--model');
      const results = predictFiles(v.get('model') as string, files);
      console.log(formatTable(results.map((r) => ({ image: r.image, class: r.name === String(r.label) ? r.label : `${r.label} (${r.name})`, probability: r.probability.toFixed(3), ...(r.inverted ? { note: 'inverted (dark on light)' } : {}) }))));
      const json = v.get('json') as string | null | undefined;
      if (json) writeFileAtomic(json, new TextEncoder().encode(JSON.stringify(results, null, 1)));
      return 0;
    }
    if (command === 'export') {
      const run: string[] = [];
      const v = parseOptions('export', rest, run);
      const written = runExport({ model: run[0], format: v.get('format') as 'nir' | 'torch', approximate: v.get('approximate') as boolean | undefined });
      for (const path of written) console.log(`wrote ${path}`);
      return 0;
    }
    throw new OptionError(`unknown command '${command}' (expected ${Object.keys(COMMANDS).join(' or ')}; see spikessl --help)`);
  } catch (e) {
    void disableThreads();
    const err = e as Error & { code?: unknown };
    // Bad options, files and data folders, and files that cannot be read or written: exit code 2.
    if (e instanceof OptionError || e instanceof DataFormatError || e instanceof ShapeError || e instanceof FileError) {
      console.error(`spikessl: ${firstLine(err.message)}`);
      return 2;
    }
    if (e instanceof SpikesslError) {
      console.error(`spikessl: ${firstLine(err.message)}`);
      return 1;
    }
    // The environment failed (disk full, permissions, a path that is a directory): one line, no stack.
    if (typeof err.code === 'string' && /^E[A-Z]+$/.test(err.code)) {
      console.error(`spikessl: ${firstLine(err.message)}`);
      return 1;
    }
    throw e;
  }
}

function firstLine(message: string): string {
  const line = message.split('\n')[0];
  return line.length > 500 ? `${line.slice(0, 500)}…` : line;
}
