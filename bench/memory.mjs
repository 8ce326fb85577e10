#!/usr/bin/env node
// Peak memory of a `spikessl train` (or `eval`) run, stage by stage. Run `npm run build` first.
//
//   node bench/memory.mjs [--label NAME] -- train --encoder conv ... --out /tmp/m
//
// Spawns `node bin/spikessl.mjs ARGS`, samples the child's resident set (/proc/PID/status VmRSS)
// every 100 ms and ties each sample to the last line the run printed, so the peak of every stage
// (training, the SSL encoder's features, its probes, the baselines) is seen. The run's own peak is
// the kernel's count, not a sample: the child prints process.resourceUsage().maxRSS at exit (a
// preload given with --import). Prints a table and one JSON line (append it to a file with
// `--json FILE`). Linux only (/proc).
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
if (sep < 0 || sep === argv.length - 1) {
  console.error('usage: node bench/memory.mjs [--label NAME] [--json FILE] -- train|eval OPTIONS...');
  process.exit(2);
}
const own = argv.slice(0, sep);
const args = argv.slice(sep + 1);
const opt = (name) => {
  const i = own.indexOf(name);
  return i >= 0 ? own[i + 1] : undefined;
};
const label = opt('--label') ?? args.join(' ');

// The preload: the kernel's peak resident set of the whole process (main thread and workers) at exit.
const dir = mkdtempSync(join(tmpdir(), 'spikessl-memory-'));
const hook = join(dir, 'maxrss.mjs');
writeFileSync(hook, "import { writeSync } from 'node:fs';\nprocess.on('exit', () => writeSync(2, `\\nspikessl-memory maxrss ${process.resourceUsage().maxRSS}\\n`));\n");

const MiB = 1024 * 1024;
const rssOf = (pid) => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
};

/** A stage is named by the line that starts it; progress lines are folded into their stage. */
function stageOf(line) {
  if (/^epoch \d+|^\s*\[?epoch|^epoch/.test(line) || /samples\/s/.test(line)) return 'training';
  const m = /^(SSL encoder|random-init encoder|raw pixels): (features|linear probe|kNN)/.exec(line);
  if (m) return `${m[1]}: ${m[2]}`;
  if (line.startsWith('evaluating')) return 'evaluation start';
  return undefined;
}

const t0 = performance.now();
const child = spawn(process.execPath, ['--import', pathToFileURL(hook).href, join(root, 'bin/spikessl.mjs'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
const stages = new Map(); // name → { peak, first, last }
let stage = 'start';
let evalStart;
const note = (bytes) => {
  const now = (performance.now() - t0) / 1000;
  const s = stages.get(stage) ?? { peak: 0, first: now, last: now };
  s.peak = Math.max(s.peak, bytes);
  s.last = now;
  stages.set(stage, s);
};
let out = '';
child.stdout.on('data', (chunk) => {
  out += chunk;
  let i;
  while ((i = out.indexOf('\n')) >= 0) {
    const line = out.slice(0, i).trim();
    out = out.slice(i + 1);
    const s = stageOf(line);
    if (s && s !== stage) {
      note(rssOf(child.pid));
      stage = s;
      if (s === 'evaluation start') evalStart ??= (performance.now() - t0) / 1000;
    }
    // The run's results table and its closing line.
    if (/^train .*total|^representation |^(SSL encoder|random-init encoder|raw pixels)\s{2}|WARNING/.test(line)) process.stdout.write(`${line}\n`);
  }
});
let err = '';
child.stderr.on('data', (chunk) => (err += chunk));
const timer = setInterval(() => note(rssOf(child.pid)), 100);
const code = await new Promise((resolve) => child.on('close', resolve));
clearInterval(timer);
const seconds = (performance.now() - t0) / 1000;
const m = /spikessl-memory maxrss (\d+)/.exec(err);
if (code !== 0 || !m) {
  process.stderr.write(err);
  console.error(`memory: the run exited with code ${code}`);
  process.exit(1);
}
const peak = Number(m[1]) * 1024;
const rows = [...stages].map(([name, s]) => ({ stage: name, 'peak RSS (MiB)': (s.peak / MiB).toFixed(0), 'from (s)': s.first.toFixed(1), 'to (s)': s.last.toFixed(1) }));
console.log(`\n${label}`);
console.log('| stage | peak RSS (MiB) | from (s) | to (s) |\n|---|---|---|---|');
for (const r of rows) console.log(`| ${r.stage} | ${r['peak RSS (MiB)']} | ${r['from (s)']} | ${r['to (s)']} |`);
const evalSeconds = evalStart === undefined ? null : seconds - evalStart;
console.log(`peak RSS ${(peak / MiB).toFixed(0)} MiB (${(peak / 2 ** 30).toFixed(2)} GiB), ${seconds.toFixed(1)} s in all${evalSeconds === null ? '' : `, evaluation ${evalSeconds.toFixed(1)} s`}`);
const record = { label, args, date: new Date().toISOString(), peakRssMiB: Math.round(peak / MiB), seconds: Number(seconds.toFixed(1)), evalSeconds: evalSeconds === null ? null : Number(evalSeconds.toFixed(1)), stages: Object.fromEntries([...stages].map(([k, s]) => [k, { peakMiB: Math.round(s.peak / MiB), from: Number(s.first.toFixed(1)), to: Number(s.last.toFixed(1)) }])) };
console.log(JSON.stringify(record));
const jsonFile = opt('--json');
if (jsonFile) appendFileSync(jsonFile, `${JSON.stringify(record)}\n`);
