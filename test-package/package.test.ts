/**
 * The package as a user installs it: `npm pack` of this checkout (which builds it through the
 * `prepare` script), installed offline into fresh ESM and CommonJS TypeScript projects, type-checked
 * under every moduleResolution TypeScript offers for them (node16/nodenext, node10, bundler), compiled
 * and run. The program prints what it computes; the expected line is worked out by hand below.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let dir = '';
let tarball = '';
let packed: string[] = [];

// What a user writes first: both entries, a computation with a known result, the classes and types.
const program = `
import { KNN, Rng, SpikingMlp, decodeSafetensors, encodeSafetensors, firingRate, kernels, matmul, poisson, tensor, type Shape, type Tensor } from 'spikessl';
import { loadMnist, type LoadMnistOptions } from 'spikessl/node';
import { RULES } from 'spikessl/internals';

// [1, 2]·[3, 4]ᵀ = 11.
const dot: number = matmul(tensor([[1, 2]]), tensor([[3], [4]])).item();
// An encoder's weights survive a safetensors round trip bit for bit.
const encoder = new SpikingMlp({ inputs: 8, hidden: [8, 4], rng: new Rng(1) });
const state: Record<string, Tensor> = encoder.stateDict();
const back = decodeSafetensors(encodeSafetensors(state)).tensors;
const same = Object.keys(state).every((k) => state[k].data.every((v, i) => v === back[k].data[i]));
// Firing rates of one 8-pixel image over 4 steps: the last layer's 4 features.
const rates = firingRate(encoder.forward(poisson(tensor([[0, 1, 0.5, 1, 0, 0, 1, 1]]), { steps: 4, rng: new Rng(2) })));
// The nearest neighbour of 0.9 among {0 → class 0, 1 → class 1} is class 1.
const knn = new KNN({ k: 1 }).fit(tensor([[0], [1]]), Int32Array.of(0, 1));
const options: LoadMnistOptions = { split: 'test' };
// The raw kernels' namespace and the internals entry: a [2, 3] shape holds 6 elements; tanh is a primitive.
const shape: Shape = [2, 3];
console.log(dot, same, rates.shape.join('x'), knn.predict(tensor([[0.9]]))[0], typeof loadMnist, options.split, kernels.sizeOf(shape), 'tanh' in RULES);
`;
const expected = '11 true 1x4 1 function test 6 true';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'spikessl-package-'));
  const out = execFileSync(npm, ['pack', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  // npm prints the prepare script's output before the JSON array.
  const info = JSON.parse(out.slice(out.indexOf('\n[') + 1)) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = join(dir, info[0].filename);
  packed = info[0].files.map((f) => f.path);
}, 240_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A fresh project of the given module type with the tarball installed (offline: it has no dependencies). */
function project(name: string, type: 'module' | 'commonjs'): string {
  const p = join(dir, name);
  mkdirSync(p);
  writeFileSync(join(p, 'package.json'), JSON.stringify({ name, private: true, type }));
  execFileSync(npm, ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: p, stdio: 'pipe' });
  writeFileSync(join(p, 'main.ts'), program);
  return p;
}

/** Type-checks `main.ts` (and emits it to out/ when `emit`) with the given module settings; returns tsc's output. */
function check(p: string, module: string, moduleResolution: string, emit: boolean): string {
  const config = {
    compilerOptions: {
      target: 'ES2022', module, moduleResolution, lib: ['ES2022', 'DOM'], types: [], strict: true,
      // The package's own declaration files are checked too.
      skipLibCheck: false, outDir: 'out', noEmit: !emit, ...(module === 'commonjs' ? { esModuleInterop: true } : {}),
    },
    files: ['main.ts'],
  };
  const name = `tsconfig.${moduleResolution}.json`;
  writeFileSync(join(p, name), JSON.stringify(config));
  try {
    return execFileSync(process.execPath, [tsc, '-p', name], { cwd: p, encoding: 'utf8' });
  } catch (e) {
    throw new Error(`tsc -p ${name} in ${p} failed:\n${(e as { stdout?: string }).stdout ?? ''}`);
  }
}

describe('the packed tarball', () => {
  it('holds the built code, types for import and require, LICENSE and README, and no source maps or sources', () => {
    for (const f of ['LICENSE', 'README.md', 'package.json', 'bin/spikessl.mjs', 'dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts', 'dist/node.js', 'dist/node.cjs', 'dist/node.d.ts', 'dist/node.d.cts', 'dist/worker.js', 'dist/cli.js']) {
      expect(packed, f).toContain(f);
    }
    expect(packed.filter((f) => f.endsWith('.map') || f.startsWith('src/') || f.startsWith('test'))).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: object; license: string };
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
  });

  it('resolves to types and code for every entry under every moduleResolution (are-the-types-wrong)', () => {
    const attw = join(root, 'node_modules/@arethetypeswrong/cli/dist/index.js');
    try {
      execFileSync(process.execPath, [attw, tarball, '--format', 'table-flipped'], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
    } catch (e) {
      throw new Error(`attw found problems:\n${(e as { stdout?: string }).stdout ?? ''}`);
    }
  });

  it('type-checks and runs in an ESM TypeScript project (nodenext, bundler)', () => {
    const p = project('esm-consumer', 'module');
    check(p, 'nodenext', 'nodenext', true);
    check(p, 'esnext', 'bundler', false);
    expect(execFileSync(process.execPath, ['out/main.js'], { cwd: p, encoding: 'utf8' }).trim()).toBe(expected);
  });

  it('type-checks and runs in a CommonJS TypeScript project (node16, node10)', () => {
    const p = project('cjs-consumer', 'commonjs');
    check(p, 'node16', 'node16', true);
    check(p, 'commonjs', 'node10', false);
    // Compiled to require() calls: the CommonJS build is what runs.
    expect(readFileSync(join(p, 'out/main.js'), 'utf8')).toContain('require("spikessl")');
    expect(execFileSync(process.execPath, ['out/main.js'], { cwd: p, encoding: 'utf8' }).trim()).toBe(expected);
  });
});
