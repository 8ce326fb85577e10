import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OptionError } from '../../src/index';
import { formatDuration, formatProgress, formatTable, formatTaskProgress } from '../../src/internals';
import { terminalProgress } from '../../src/node/progress';

const p = { epoch: 2, epochs: 10, batch: 45, batches: 120, loss: 0.123456, samplesPerSecond: 1234.5, etaSeconds: 65 };

describe('formatDuration', () => {
  it('fixed cases', () => {
    const cases: Array<[number, string]> = [
      [0, '0.0s'],
      [3.24, '3.2s'],
      [9.94, '9.9s'],
      [9.96, '10s'],
      [42.4, '42s'],
      [59.6, '1m 00s'],
      [65, '1m 05s'],
      [600, '10m 00s'],
      [3599.4, '59m 59s'],
      [3725, '1h 02m 05s'],
      [90000, '25h 00m 00s'],
      [-65, '-1m 05s'],
      [Infinity, '--'],
      [NaN, '--'],
    ];
    for (const [s, text] of cases) expect(formatDuration(s)).toBe(text);
  });
});

describe('formatProgress', () => {
  it('a plain log line when not a terminal', () => {
    expect(formatProgress(p, { tty: false })).toBe('epoch 2/10 batch 45/120 loss 0.1235 1235 samples/s ETA 1m 05s');
    expect(formatProgress({ ...p, loss: 1234.567, samplesPerSecond: 7.25, etaSeconds: Infinity }, { tty: false })).toBe('epoch 2/10 batch 45/120 loss 1235 7.3 samples/s ETA --');
    expect(formatProgress({ ...p, loss: NaN, batch: 0 }, { tty: false })).toBe('epoch 2/10 batch 0/120 loss NaN 1235 samples/s ETA 1m 05s');
    expect(formatProgress({ ...p, loss: 0.00012341 }, { tty: false })).toBe('epoch 2/10 batch 45/120 loss 1.234e-4 1235 samples/s ETA 1m 05s');
  });

  it('a bar that fills the terminal width minus one column', () => {
    expect(formatProgress(p, { tty: true, width: 60 })).toBe('epoch 2/10 [███░░░░░░] 45/120 loss 0.1235 1235/s ETA 1m 05s');
    expect(formatProgress({ ...p, batch: 120 }, { tty: true, width: 60 })).toBe('epoch 2/10 [████████] 120/120 loss 0.1235 1235/s ETA 1m 05s');
    expect(formatProgress({ ...p, batch: 0 }, { tty: true, width: 60 })).toBe('epoch 2/10 [░░░░░░░░░░] 0/120 loss 0.1235 1235/s ETA 1m 05s');
    // Too narrow for a bar: dropped, then the line is cut.
    expect(formatProgress(p, { tty: true, width: 50 })).toBe('epoch 2/10 45/120 loss 0.1235 1235/s ETA 1m 05s'.padEnd(49));
    expect(formatProgress(p, { tty: true, width: 21 })).toBe('epoch 2/10 45/120 lo');
  });

  it('is exactly width − 1 columns with a bar proportional to the batches done', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), fc.nat(), fc.integer({ min: 10, max: 200 }), (batches, b, width) => {
        const batch = b % (batches + 1);
        const line = formatProgress({ ...p, batch, batches }, { tty: true, width });
        expect(line.length).toBe(width - 1);
        const m = /\[(█*)(░*)\]/.exec(line);
        if (m) {
          const w = m[1].length + m[2].length;
          expect(m[1].length).toBe(Math.floor((batch / batches) * w));
        }
      }),
    );
  });

  it('rejects inconsistent counts', () => {
    expect(() => formatProgress({ ...p, batch: 121 }, { tty: false })).toThrow(OptionError);
    expect(() => formatProgress({ ...p, epoch: 11 }, { tty: false })).toThrow(OptionError);
    expect(() => formatProgress({ ...p, batches: 0, batch: 0 }, { tty: false })).toThrow(OptionError);
    expect(() => formatProgress(p, { tty: true, width: 1 })).toThrow(OptionError);
  });
});

describe('formatTable', () => {
  it('aligns strings left and number columns right', () => {
    const t = formatTable([
      { model: 'SSL encoder', linear: 0.94123, knn: '95.68 %' },
      { model: 'random-init encoder', linear: 0.3512, knn: '26.34 %' },
      { model: 'raw pixels', linear: 1, knn: '96.95 %' },
    ]);
    expect(t).toBe(
      [
        'model                linear  knn',
        '-------------------  ------  -------',
        'SSL encoder          0.9412  95.68 %',
        'random-init encoder  0.3512  26.34 %',
        'raw pixels                1  96.95 %',
      ].join('\n'),
    );
  });

  it('missing keys are empty cells; columns in first-seen order; no trailing spaces', () => {
    expect(formatTable([{ a: 'x' }, { b: 12, a: 'long value' }])).toBe(['a            b', '----------  --', 'x', 'long value  12'].join('\n'));
    expect(formatTable([])).toBe('');
  });
});

describe('task progress (features, probes, baselines)', () => {
  it('formatTaskProgress: a bar exactly width − 1 columns on a terminal, a plain line otherwise; ETA at a constant rate', () => {
    const p = { label: 'features of 10000 images', done: 2500, total: 10000, seconds: 5 };
    // 2500 done in 5 s: 7500 left take 15 s.
    expect(formatTaskProgress(p, { tty: false })).toBe('features of 10000 images: 2500/10000, 5.0s, ETA 15s');
    for (const width of [30, 50, 80, 200]) {
      const line = formatTaskProgress(p, { tty: true, width });
      expect(line).toHaveLength(width - 1);
      expect(line.startsWith(width >= 70 ? 'features of 10000 images [' : 'features of 10000 images')).toBe(true);
    }
    // A bar of 200 − 1 − label (24) − ' [' ']' (3) − tail (' 2500/10000 5.0s ETA 15s', 24) = 148 cells, a quarter filled.
    expect(formatTaskProgress(p, { tty: true, width: 200 }).split('█').length - 1).toBe(37);
    expect(formatTaskProgress({ ...p, done: 0 }, { tty: false })).toBe('features of 10000 images: 0/10000, 5.0s, ETA --');
    expect(() => formatTaskProgress({ ...p, done: 10001 }, { tty: false })).toThrow(/formatTaskProgress: done must be an integer in \[0, 10000\]/);
  });

  it('terminalProgress: redraws in place and ends the line on a terminal; in a log, the first and last lines only (within the interval)', () => {
    const tty: string[] = [];
    const bar = terminalProgress('kNN', { stream: { write: (s: string) => tty.push(s), isTTY: true, columns: 40 } });
    bar(0, 4);
    bar(4, 4);
    bar(4, 4); // after the end: nothing
    expect(tty).toHaveLength(2);
    expect(tty[0].startsWith('\rkNN [')).toBe(true);
    expect(tty[1].endsWith('\n')).toBe(true);
    expect(tty[1]).toHaveLength(1 + 39 + 1);
    const log: string[] = [];
    const plain = terminalProgress('kNN', { stream: { write: (s: string) => log.push(s) }, interval: 3600 });
    for (let i = 0; i <= 4; i++) plain(i, 4);
    expect(log.map((l) => l.replace(/, [\d.]+s, ETA .*/, ''))).toEqual(['kNN: 0/4\n', 'kNN: 4/4\n']);
  });
});
