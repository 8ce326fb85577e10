import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli';
import { decodeSafetensors } from '../../src/io/safetensors';
import { fromNir } from '../../src/interop/nir';
import { noGrad } from '../../src/autograd/engine';
import { poisson } from '../../src/encoding';
import { Rng } from '../../src/rng';
import { type RunConfig, defaultRunConfig } from '../../src/ssl/config';
import { encodeModelFile } from '../../src/ssl/modelfile';
import { buildModel } from '../../src/ssl/models';
import { rand } from '../../src/tensor/tensor';

describe('spikessl export', () => {
  let dir: string;
  let errors: string[];
  let logs: string[];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'spikessl-export-'));
    errors = [];
    logs = [];
    vi.spyOn(console, 'error').mockImplementation((m: string) => void errors.push(m));
    vi.spyOn(console, 'log').mockImplementation((m: string) => void logs.push(m));
  });
  afterEach(() => {
    vi.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  function run(config: Partial<RunConfig>) {
    const c = { ...defaultRunConfig(), hidden: 12, projDim: 8, bn: true, ...config };
    const model = buildModel(c, new Rng(1));
    model.eval();
    writeFileSync(join(dir, 'model.safetensors'), encodeModelFile(model, c));
    return model;
  }

  it('--format nir writes model.nir beside the model file; it runs with the encoder\'s spikes', async () => {
    const model = run({ reset: 'zero' });
    expect(await main(['export', '--format', 'nir', dir])).toBe(0);
    expect(logs).toEqual([`wrote ${join(dir, 'model.nir')}`]);
    const net = fromNir(new Uint8Array(readFileSync(join(dir, 'model.nir'))));
    const rng = new Rng(2);
    const x = poisson(rand([5, 784], rng), { steps: 4, rng });
    noGrad(() => expect([...net.forward(x).data]).toEqual([...model.encoder.forward(x).data]));
  });

  it('refuses a subtract-reset run for NIR in one line (exit 2), writing nothing, unless --approximate', async () => {
    run({ reset: 'subtract' });
    expect(await main(['export', '--format', 'nir', join(dir, 'model.safetensors')])).toBe(2);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^spikessl: toNir: lif1 resets by subtraction.*approximate/);
    expect(existsSync(join(dir, 'model.nir'))).toBe(false);
    expect(await main(['export', '--format', 'nir', '--approximate', dir])).toBe(0);
    expect(existsSync(join(dir, 'model.nir'))).toBe(true);
  });

  it('--format torch writes encoder.py and encoder.safetensors holding the model file\'s encoder weights', async () => {
    run({ encoder: 'mlp' });
    expect(await main(['export', dir, '--format', 'torch'])).toBe(0);
    const saved = decodeSafetensors(new Uint8Array(readFileSync(join(dir, 'model.safetensors')))).tensors;
    const exported = decodeSafetensors(new Uint8Array(readFileSync(join(dir, 'encoder.safetensors')))).tensors;
    const encoderNames = Object.keys(saved).filter((k) => k.startsWith('encoder.')).map((k) => k.slice('encoder.'.length)).sort();
    expect(Object.keys(exported).sort()).toEqual(encoderNames);
    for (const n of encoderNames) expect([...exported[n].data]).toEqual([...saved[`encoder.${n}`].data]);
    expect(readFileSync(join(dir, 'encoder.py'), 'utf8')).toMatch(/"hidden":\[12,12\]/);
  });

  it('bad invocations are one line and exit 2', async () => {
    expect(await main(['export', '--format', 'nir'])).toBe(2);
    expect(errors.pop()).toBe('spikessl: export needs RUN (see spikessl --help)');
    expect(await main(['export', dir])).toBe(2);
    expect(errors.pop()).toBe('spikessl: export needs --format');
    expect(await main(['export', '--format', 'onnx', dir])).toBe(2);
    expect(errors.pop()).toMatch(/--format must be one of nir, torch, got 'onnx'/);
    expect(await main(['export', '--format', 'nir', join(dir, 'nothing')])).toBe(2);
    expect(errors.pop()).toMatch(/no run folder or model file at/);
    writeFileSync(join(dir, 'model.safetensors'), 'not safetensors');
    expect(await main(['export', '--format', 'torch', dir])).toBe(2);
    expect(errors.pop()).toMatch(/^spikessl: .*model\.safetensors/);
    run({});
    expect(await main(['export', '--format', 'torch', '--approximate', dir])).toBe(2);
    expect(errors.pop()).toMatch(/--approximate applies to --format nir only/);
  });
});
