import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main, parseTrainArgs } from '../src/cli';
import { OptionError } from '../src/errors';

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
      [['train', '--augment', 'rotate'], /--augment must be none, shift:K, crop or affine/],
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
