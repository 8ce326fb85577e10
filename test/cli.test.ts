import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main, parseTrainArgs } from '../src/cli';
import { OptionError } from '../src/errors';
import { augmentation } from '../src/node/run';
import { Rng } from '../src/rng';
import { randomAffine, randomShift } from '../src/ssl/augment';
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

  it('--help lists every option with its default and exits 0', async () => {
    expect(await main(['--help'])).toBe(0);
    const text = logs.join('\n');
    for (const flag of ['--loss', '--temperature', '--encoder', '--epochs', '--batch', '--steps', '--hidden', '--channels', '--eval-steps', '--lr', '--seed', '--train-subset', '--augment', '--data-dir', '--out', '--checkpoint', '--threads']) {
      expect(text).toContain(flag);
    }
    expect(text).toMatch(/--epochs <v>\s+training epochs \(default: 1\)/);
  });

  it('bad options give a one-line error and exit code 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['train', '--epochs=-1'], /--epochs must be an integer ≥ 0, got '-1'/],
      [['train', '--epochs', '2.5'], /--epochs must be an integer ≥ 0, got '2.5'/],
      [['train', '--loss', 'simclr'], /--loss must be one of barlow, ntxent, vicreg, got 'simclr'/],
      [['train', '--lr', 'fast'], /--lr must be a positive number/],
      [['train', '--temperature', '0'], /--temperature must be a positive number/],
      [['train', '--augment', 'rotate'], /--augment must be none, shift:K, crop, affine or affine:R,T \(degrees, pixels\), got 'rotate'/],
      [['train', '--augment', 'affine:15'], /--augment must be .* got 'affine:15'/],
      [['train', '--augment', 'affine:-5,1'], /--augment must be .* got 'affine:-5,1'/],
      [['train', '--augment', 'shift:'], /--augment must be .* got 'shift:'/],
      [['train', '--channels', '8'], /--channels must be two integers ≥ 1 as C1,C2, got '8'/],
      [['train', '--channels', '8,0'], /--channels must be an integer ≥ 1, got '0'/],
      [['train', '--eval-steps=-4'], /--eval-steps must be an integer ≥ 0, got '-4'/],
      [['train', '--bogus'], /Unknown option '--bogus'/],
      [['eval'], /eval needs --checkpoint/],
      [['fly'], /unknown command 'fly'/],
    ];
    for (const [args, message] of cases) {
      errors.length = 0;
      expect(await main(args)).toBe(2);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(message);
      expect(errors[0]).not.toContain('\n');
    }
    expect(() => parseTrainArgs(['--batch', '1'])).toThrow(OptionError);
  });
});
