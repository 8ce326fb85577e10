import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeSafetensors } from '../src/io/safetensors';
import { encodeModelFile } from '../src/ssl/modelfile';
import { writeModelFile } from '../src/node/model';
import { TrainedModel } from '../src/ssl/model';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main, parseTrainArgs } from '../src/cli';
import { poisson } from '../src/encoding';
import { OptionError } from '../src/errors';
import { Leaky } from '../src/neurons/modules';
import { fastSigmoid } from '../src/neurons/surrogate';
import { Rng } from '../src/rng';
import { randomAffine, randomShift } from '../src/ssl/augment';
import { RUN_OPTIONS, augmentation, defaultRunConfig, flagOf, lossConfig, lossFunction, runConfigArgs } from '../src/ssl/config';
import { barlowTwinsLoss, ntXentLoss, vicregLoss } from '../src/ssl/losses';
import { SpikingMlp, buildModel } from '../src/ssl/models';
import { Tensor } from '../src/tensor/tensor';

describe('spikessl CLI options', () => {
  let errors: string[];
  let logs: string[];
  beforeEach(() => {
    errors = [];
    logs = [];
    vi.spyOn(console, 'error').mockImplementation((m: string) => void errors.push(m));
    vi.spyOn(console, 'log').mockImplementation((m: string) => void logs.push(m));
  });
  afterEach(() => vi.restoreAllMocks());

  it('parses train options with their defaults', () => {
    const c = parseTrainArgs(['--loss', 'vicreg', '--epochs', '3', '--lr', '5e-4', '--augment', 'shift:2', '--no-baselines']);
    expect(c).toMatchObject({ loss: 'vicreg', encoder: 'mlp', epochs: 3, lr: 5e-4, augment: 'shift:2', baselines: false, steps: 8, batch: 256, seed: 0, dataDir: null, bn: false, temperature: 0.5 });
    expect(parseTrainArgs(['--loss', 'ntxent', '--temperature', '0.2']).temperature).toBe(0.2);
    expect(c.channels).toEqual([32, 64]);
    expect(c.evalSteps).toBe(0);
    expect(parseTrainArgs(['--eval-steps', '16']).evalSteps).toBe(16);
    expect(parseTrainArgs(['--encoder', 'conv', '--channels', '8,16']).channels).toEqual([8, 16]);
    expect(parseTrainArgs(['--augment', 'affine:12.5,1']).augment).toBe('affine:12.5,1');
    expect(parseTrainArgs(['--dataset', 'fashion-mnist', '--val', '10000', '--augment', 'crop:0.5+flip+jitter', '--encoder', 'conv', '--representation', 'lif1+lif2@7'])).toMatchObject({
      dataset: 'fashion-mnist', val: 10000, augment: 'crop:0.5+flip+jitter', representation: 'lif1+lif2@7',
    });
    expect(parseTrainArgs([])).toMatchObject({ dataset: 'mnist', val: 0, representation: 'last' });
  });

  it('--augment affine:R,T is randomAffine with ±R degrees and ±T pixels, the other specs their own functions', () => {
    const x = new Tensor(Float32Array.from({ length: 3 * 784 }, (_, i) => ((i * 7919) % 256) / 255), [3, 784]);
    const cases: Array<[string, (r: Rng) => Tensor]> = [
      ['affine:15,1', (r) => randomAffine(x, { degrees: 15, translate: 1, rng: r })],
      ['affine:2.5,0', (r) => randomAffine(x, { degrees: 2.5, translate: 0, rng: r })],
      ['affine', (r) => randomAffine(x, { degrees: 10, scale: [0.85, 1.1], translate: 3, rng: r })],
      ['shift:2', (r) => randomShift(x, { maxShift: 2, rng: r })],
    ];
    for (const [spec, expected] of cases) {
      const f = augmentation(spec);
      if (!f) throw new Error(`no augmentation for ${spec}`);
      expect(Array.from(f(x, new Rng(7)).data)).toEqual(Array.from(expected(new Rng(7)).data));
    }
    // the spec's numbers reach randomAffine: another rotation range gives other images
    expect(Array.from(augmentation('affine:15,1')!(x, new Rng(7)).data)).not.toEqual(Array.from(randomAffine(x, { rng: new Rng(7) }).data));
    expect(augmentation('none')).toBeUndefined();
  });

  it('neuron options reach every LIF layer: --beta 0.95 --surrogate fastSigmoid:25 builds what SpikingMlp does with them', () => {
    const c = parseTrainArgs(['--beta', '0.95', '--surrogate', 'fastSigmoid:25', '--threshold', '0.5', '--reset', 'zero', '--hidden', '16', '--proj-dim', '8']);
    expect(c).toMatchObject({ beta: 0.95, threshold: 0.5, reset: 'zero', surrogate: { name: 'fastSigmoid', params: { slope: 25 } } });
    const built = buildModel(c, new Rng(4));
    const lifs = built.encoder.namedModules().filter(([, m]) => m instanceof Leaky).map(([, m]) => m as Leaky);
    expect(lifs).toHaveLength(2);
    for (const lif of lifs) {
      expect(lif.beta.item()).toBeCloseTo(0.95, 6);
      expect(lif.threshold.item()).toBe(0.5);
      expect(lif.reset).toBe('zero');
      // fast sigmoid: σ′(x) = 1 / (1 + 25·|x|)², by hand at x = 0.1
      expect(lif.surrogate.derivative(0.1)).toBeCloseTo(1 / 3.5 ** 2, 12);
    }
    // The same network written out by hand computes the same spikes.
    const byHand = new SpikingMlp({ hidden: [16, 16], beta: 0.95, threshold: 0.5, reset: 'zero', surrogate: fastSigmoid({ slope: 25 }), rng: new Rng(4) });
    const v = poisson(new Tensor(Float32Array.from({ length: 2 * 784 }, (_, i) => (i % 13) / 12), [2, 784]), { steps: 3, rng: new Rng(5) });
    const a = built.encoder.forwardLayers(v);
    const b = byHand.forwardLayers(v);
    a.forEach((t, i) => expect(Array.from(t.data)).toEqual(Array.from(b[i].data)));
    // The defaults are snnTorch's but β: 0.9, 1, subtract, atan(α = 2).
    expect(parseTrainArgs([])).toMatchObject({ beta: 0.9, threshold: 1, reset: 'subtract', surrogate: { name: 'atan', params: { alpha: 2 } } });
    expect(parseTrainArgs(['--surrogate', 'triangular:0.5']).surrogate).toEqual({ name: 'triangular', params: { width: 0.5 } });
    expect(parseTrainArgs(['--surrogate', 'straightThrough']).surrogate).toEqual({ name: 'straightThrough', params: {} });
  });

  it('loss options reach the loss: λ, τ and the VICReg weights', () => {
    const rng = new Rng(9);
    const z1 = new Tensor(Float32Array.from({ length: 6 * 4 }, () => rng.normal()), [6, 4]);
    const z2 = new Tensor(Float32Array.from({ length: 6 * 4 }, () => rng.normal()), [6, 4]);
    const value = (args: string[]) => lossFunction(lossConfig(parseTrainArgs(args)))(z1, z2).item();
    expect(value(['--loss', 'barlow', '--lambda', '0.02'])).toBe(barlowTwinsLoss(z1, z2, { lambda: 0.02 }).item());
    expect(value(['--loss', 'barlow'])).toBe(barlowTwinsLoss(z1, z2, { lambda: 5e-3 }).item());
    expect(value(['--loss', 'ntxent', '--temperature', '0.2'])).toBe(ntXentLoss(z1, z2, { temperature: 0.2 }).item());
    expect(value(['--loss', 'vicreg', '--vicreg-weights', '10,5,2'])).toBe(vicregLoss(z1, z2, { sim: 10, std: 5, cov: 2 }).item());
    expect(value(['--loss', 'vicreg'])).toBe(vicregLoss(z1, z2).item());
    expect(value(['--loss', 'vicreg', '--vicreg-weights', '10,5,2'])).not.toBe(value(['--loss', 'vicreg']));
  });

  it('runConfigArgs writes a config as the command line that parses back to it', () => {
    const configs = [
      parseTrainArgs([]),
      parseTrainArgs(['--loss', 'ntxent', '--temperature', '0.3', '--bn', '--steps', '4', '--batch', '128', '--lr', '0.002', '--epochs', '3', '--probe-subset', '20000']),
      parseTrainArgs(['--encoder', 'conv', '--channels', '16,32', '--loss', 'vicreg', '--vicreg-weights', '10,5,0.5', '--schedule', 'cosine', '--augment', 'affine:15,1', '--no-baselines', '--data-dir', '/data/fashion', '--out', 'runs/x']),
      parseTrainArgs(['--beta', '0.95', '--threshold', '0.75', '--reset', 'none', '--surrogate', 'straightThrough', '--lambda', '0.01', '--seed', '12', '--eval-steps', '16']),
    ];
    for (const c of configs) expect(parseTrainArgs(runConfigArgs(c))).toEqual(c);
    expect(runConfigArgs(configs[1])).toEqual(['--bn', '--steps', '4', '--loss', 'ntxent', '--temperature', '0.3', '--epochs', '3', '--batch', '128', '--lr', '0.002', '--probe-subset', '20000']);
    // Options that do not apply are left out (a saved config holds every field).
    expect(runConfigArgs({ ...configs[0], channels: [8, 16], temperature: 0.1 })).toEqual([]);
  });

  it('--help lists every option of the table with its default and exits 0; --version prints package.json\'s', async () => {
    expect(await main(['--help'])).toBe(0);
    const text = logs.join('\n');
    for (const key of Object.keys(RUN_OPTIONS)) expect(text).toContain(`--${flagOf(key)}`);
    for (const flag of ['--checkpoint', '--threads']) expect(text).toContain(flag);
    expect(text).toMatch(/--epochs <v>\s+training epochs \(default: 1\)/);
    expect(text).toMatch(/--beta <v>\s+membrane decay β of the LIF neurons \(default: 0\.9\)/);
    expect(text).toMatch(/--surrogate <v>\s+.*\(default: atan:2\)/);
    expect(text).toMatch(/--temperature <v>\s+NT-Xent temperature τ \[with --loss ntxent\] \(default: 0\.5\)/);
    logs.length = 0;
    expect(await main(['--version'])).toBe(0);
    expect(logs).toEqual([JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version]);
  });

  it("every --flag of the README's command-line section is an option of the table", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## The command line'), readme.indexOf('## API tour'));
    const flags = [...section.matchAll(/--([a-z][a-z-]*)/g)].map((m) => m[1]);
    expect(flags.length).toBeGreaterThan(10);
    const known = new Set([...Object.keys(RUN_OPTIONS).map(flagOf), 'checkpoint', 'threads', 'format', 'approximate', 'model', 'json', 'help', 'version', 'no-baselines']);
    for (const f of flags) expect(known, `--${f}`).toContain(f);
  });

  it('bad options give a one-line error and exit code 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spikessl-cli-'));
    const small = { ...defaultRunConfig(), hidden: 8, projDim: 4, steps: 2 };
    const modelFile = join(dir, 'model.safetensors');
    writeFileSync(modelFile, encodeModelFile(buildModel(small, new Rng(0)), small));
    const badModelFile = join(dir, 'bad.safetensors');
    writeFileSync(badModelFile, encodeSafetensors(buildModel(small, new Rng(0)).stateDict(), { config: JSON.stringify({ ...small, encoder: 'xyz' }) }));
    const cases: Array<[string[], RegExp]> = [
      [['train', '--epochs=-1'], /--epochs must be an integer ≥ 0, got '-1'/],
      [['train', '--epochs', '-1'], /--epochs must be an integer ≥ 0, got '-1'/],
      [['train', '--epochs', '2.5'], /--epochs must be an integer ≥ 0, got '2.5'/],
      [['train', '--epochs'], /--epochs needs a value: an integer ≥ 0/],
      [['train', '--epochs', '--bn'], /--epochs needs a value/],
      [['train', '--epochs', '0x10'], /--epochs must be an integer ≥ 0, got '0x10'/],
      [['train', '--epoch', '3'], /unknown option --epoch for train; did you mean --epochs\?/],
      [['train', '--tempreature', '3'], /did you mean --temperature\?/],
      [['train', '--checkpoint', 'x'], /--checkpoint is an option of eval, not of train/],
      [['train', '--epochs', '2', '--epochs', '3'], /--epochs is given twice/],
      [['train', 'extra'], /unexpected argument 'extra'/],
      [['train', '--loss', 'simclr'], /--loss must be one of barlow, ntxent, vicreg, got 'simclr'/],
      [['train', '--lr', 'fast'], /--lr must be a positive number/],
      [['train', '--temperature', '0', '--loss', 'ntxent'], /--temperature must be a positive number/],
      [['train', '--temperature', '0.3'], /--temperature applies only with --loss ntxent, not with --loss barlow/],
      [['train', '--loss', 'ntxent', '--lambda', '0.1'], /--lambda applies only with --loss barlow, not with --loss ntxent/],
      [['train', '--vicreg-weights', '1,1,1'], /--vicreg-weights applies only with --loss vicreg/],
      [['train', '--loss', 'vicreg', '--vicreg-weights', '1,1'], /--vicreg-weights must be three numbers ≥ 0 as SIM,STD,COV, got '1,1'/],
      [['train', '--channels', '8,16'], /--channels applies only with --encoder conv, not with --encoder mlp/],
      [['train', '--augment', 'rotate'], /--augment must be none, or shift:K, crop, crop:S, affine, affine:R,T, flip, jitter, jitter:B,C, erase, erase:P joined by '\+', got 'rotate'/],
      [['train', '--augment', 'crop+spin'], /--augment must be .* got 'crop\+spin'/],
      [['train', '--augment', 'none+flip'], /--augment must be .* got 'none\+flip'/],
      [['train', '--dataset', 'cifar10'], /--dataset must be one of mnist, fashion-mnist, got 'cifar10'/],
      [['train', '--val', '-1'], /--val must be an integer ≥ 0, got '-1'/],
      [['train', '--threads', '1', '--val', '60000', '--out', join(tmpdir(), 'spikessl-cli-val')], /--val 60000 must be less than the 60000 training images/],
      [['train', '--threads', '1', '--data-dir', tmpdir(), '--out', join(tmpdir(), 'spikessl-cli-dir')], /no train-images-idx3-ubyte in .* \(looked for train-images-idx3-ubyte and train-images-idx3-ubyte\.gz\)/],
      [['train', '--representation', 'conv2'], /--representation must be last, or layer names joined by '\+'/],
      [['train', '--representation', 'lif3'], /--representation lif3: the mlp encoder has spiking layers lif1–lif2, not lif3/],
      [['train', '--encoder', 'conv', '--representation', 'lif1+lif4@7'], /the conv encoder has spiking layers lif1–lif3, not lif4/],
      [['train', '--augment', 'affine:15'], /--augment must be .* got 'affine:15'/],
      [['train', '--augment', 'affine:-5,1'], /--augment must be .* got 'affine:-5,1'/],
      [['train', '--augment', 'shift:'], /--augment must be .* got 'shift:'/],
      [['train', '--encoder', 'conv', '--channels', '8'], /--channels must be two integers from 1 to 4096 as C1,C2, got '8'/],
      [['train', '--encoder', 'conv', '--channels', '8,0'], /--channels must be two integers from 1 to 4096 as C1,C2, got '8,0'/],
      [['train', '--eval-steps=-4'], /--eval-steps must be an integer from 0 to 10000, got '-4'/],
      [['train', '--beta', '1.5'], /--beta must be a number from 0 to 1, got '1.5'/],
      [['train', '--threshold', '0'], /--threshold must be a positive number, got '0'/],
      [['train', '--reset', 'half'], /--reset must be one of subtract, zero, none, got 'half'/],
      [['train', '--surrogate', 'gauss'], /--surrogate must be NAME or NAME:PARAM with NAME one of atan, fastSigmoid, .* got 'gauss'/],
      [['train', '--surrogate', 'atan:-2'], /--surrogate must be .* got 'atan:-2'/],
      [['train', '--surrogate', 'straightThrough:1'], /--surrogate must be .* got 'straightThrough:1'/],
      // sizes: caps per option, and the largest tensor a configuration allocates
      [['train', '--hidden', '1e9'], /--hidden must be an integer from 1 to 65536, got '1e9'/],
      [['train', '--proj-dim', '1e9'], /--proj-dim must be an integer from 1 to 65536, got '1e9'/],
      [['train', '--steps', '1e9'], /--steps must be an integer from 1 to 10000, got '1e9'/],
      [['train', '--eval-steps', '1e9'], /--eval-steps must be an integer from 0 to 10000/],
      [['train', '--encoder', 'conv', '--channels', '1e9,2'], /--channels must be two integers from 1 to 4096/],
      [['train', '--hidden', '60000'], /the hidden weights \(--hidden\) would need 3\.60e\+9 values in one tensor, over the limit of 268435456 \(1 GiB\)/],
      [['train', '--steps', '10000', '--batch', '4096'], /--steps × --batch × the widest layer would need .* over the limit/],
      [['train', '--encoder', 'conv', '--channels', '4096,4096', '--steps', '4'], /over the limit/],
      [['train', '--probe-subset', '5'], /--probe-subset must be 0 \(all\) or at least 20, kNN's k, got 5/],
      [['train', '--train-subset', '100'], /--train-subset 100 does not fill one batch of 256 \(--batch\)/],
      [['train', '--out', ''], /--out must be a non-empty path, got ''/],
      [['train', '--no-bn=true'], /--no-bn takes no value, got 'true'/],
      [['eval'], /eval needs --checkpoint/],
      [['eval', '--checkpoint', '/nonexistent/model.safetensors'], /--checkpoint: no file at \/nonexistent\/model\.safetensors/],
      [['eval', '--checkpoint', 'x', '--loss', 'ntxent'], /--loss is an option of train, not of eval/],
      [['eval', '--checkpoint', tmpdir()], /--checkpoint: .* is a directory, expected a model or checkpoint file/],
      [['eval', '--checkpoint', modelFile, '--probe-subset', '5', '--threads', '1'], /--probe-subset must be 0 \(all\) or at least 20, kNN's k, got 5/],
      [['eval', '--checkpoint', badModelFile, '--threads', '1'], /bad\.safetensors: config\.encoder must be one of mlp, conv, got "xyz"/],
      [['fly'], /unknown command 'fly'/],
      [['predict', 'digit.png'], /predict needs --model/],
      [['predict', '--model', 'web/assets/model.safetensors'], /predict needs image files \(see spikessl --help\)/],
      [['predict', '--model', '/nonexistent/model.safetensors', 'digit.png'], /--model: no file at \/nonexistent\/model\.safetensors/],
      [['predict', '--model', 'web/assets/model.safetensors', 'test/fixtures/images/seven.pgm'], /web\/assets\/model\.safetensors: holds no fitted probe to predict with/],
    ];
    for (const [args, message] of cases) {
      errors.length = 0;
      expect(await main(args), args.join(' ')).toBe(2);
      expect(errors, args.join(' ')).toHaveLength(1);
      expect(errors[0]).toMatch(message);
      expect(errors[0]).not.toContain('\n');
    }
    // Refused before any work: no run folder was made.
    expect(existsSync(join(tmpdir(), 'spikessl-cli-val'))).toBe(false);
    expect(existsSync(join(tmpdir(), 'spikessl-cli-dir'))).toBe(false);
    expect(() => parseTrainArgs(['--batch', '1'])).toThrow(OptionError);
    // On/off flags: --bn, --no-bn, --bn=false.
    expect(parseTrainArgs(['--bn']).bn).toBe(true);
    expect(parseTrainArgs(['--bn=false']).bn).toBe(false);
    expect(parseTrainArgs(['--no-baselines']).baselines).toBe(false);
  });

  it('predict: the class of each image file, as a table and JSON; a bad image or model exits 2 and writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spikessl-predict-'));
    try {
      // A probe that tells dim images (class 0) from bright ones (class 1); the MNIST 7 is mostly black.
      const config = { ...defaultRunConfig(), hidden: 16, projDim: 8, steps: 8, bn: false, threshold: 0.2 };
      const images = Array.from({ length: 20 }, (_, i) => new Array(784).fill(i % 2 === 0 ? 0.02 : 0.9));
      const trained = new TrainedModel(config, buildModel(config, new Rng(1))).fitProbe(images, images.map((_, i) => i % 2), { onWarning: () => {} });
      const model = join(dir, 'model.safetensors');
      writeModelFile(model, trained);
      const json = join(dir, 'out.json');
      const files = ['test/fixtures/images/seven-gray.png', 'test/fixtures/images/seven-drawn.png', 'test/fixtures/images/seven.pgm'];
      expect(await main(['predict', '--model', model, ...files, '--json', json])).toBe(0);
      expect(logs.join('\n')).toMatch(/image +class +probability/);
      const written = JSON.parse(readFileSync(json, 'utf8')) as Array<{ image: string; label: number; inverted: boolean }>;
      expect(written.map((r) => [r.image, r.label, r.inverted])).toEqual([[files[0], 0, false], [files[1], 0, true], [files[2], 0, false]]);
      for (const [bad, message] of [
        ['test/fixtures/images/seven-rgba.png', /seven-rgba\.png: PNG is 8-bit RGBA; expected an 8-bit grayscale or RGB image/],
        ['test/fixtures/images/seven-32.png', /seven-32\.png: image is 32×32 pixels; expected 28×28/],
      ] as const) {
        errors.length = 0;
        const out = join(dir, 'bad.json');
        expect(await main(['predict', '--model', model, files[0], bad, '--json', out])).toBe(2);
        expect(errors).toHaveLength(1);
        expect(errors[0]).toMatch(message);
        expect(existsSync(out)).toBe(false);
      }
      errors.length = 0;
      expect(await main(['predict', '--model', 'package.json', files[0]])).toBe(2);
      expect(errors[0]).toMatch(/package\.json: .*not a safetensors file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
