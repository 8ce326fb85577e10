/**
 * examples/browser (training in a Web Worker with the public API) run as a user would run it: both
 * files bundled for the browser with the package from source, served with the digits of the demo
 * page, and opened in Debian's Chromium through playwright-core. What the page reports is checked
 * against the same training replayed in Node (trainModel on the same digits and config, stopped
 * after as many batches): the same weights in the downloaded file, the same predicted classes.
 * Part of `npm test`: it needs `chromium` on the PATH (or $CHROMIUM_PATH); without one it is skipped,
 * saying so (SPIKESSL_REQUIRE_BROWSER=1, set by .ci/run, makes that a failure).
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunConfig, loadModel, mnistFromIdx, parseIdx, trainModel } from 'spikessl';
import { serveWeb } from '../../scripts/serve-web.mjs';
import { CHROMIUM_FLAGS, chromiumPath, hasChromium, matchBrowserKernels } from '../helpers/chromium';

const root = join(import.meta.dirname, '..', '..');
const example = join(root, 'examples', 'browser');
const assets = join(root, 'web', 'assets');
const IDX = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 'test-images-idx3-ubyte', 'test-labels-idx1-ubyte'];
/** The config examples/browser/index.html trains with. */
const CONFIG: Partial<RunConfig> = { hidden: 64, projDim: 32, bn: true, steps: 4, batch: 100, epochs: 2, loss: 'ntxent', temperature: 0.3, lr: 0.002, seed: 0 };

let dir: string;
let server: { url: string; close: () => Promise<unknown> };
let browser: Browser;
let kind: string;

const browserThere = hasChromium();
if (!browserThere) console.warn("examples/browser: skipped, no chromium on the PATH (apt-get install -y chromium, or set CHROMIUM_PATH)");

beforeAll(async () => {
  if (!browserThere) return;
  dir = mkdtempSync(join(tmpdir(), 'spikessl-browser-example-'));
  const { build } = await import('tsup');
  await build({
    config: false,
    entry: { main: join(example, 'main.ts'), worker: join(example, 'worker.ts') },
    outDir: join(dir, 'dist'),
    format: ['esm'],
    platform: 'browser',
    target: 'es2022',
    bundle: true,
    splitting: false,
    sourcemap: false,
    dts: false,
    silent: true,
    // `spikessl` resolves to src/ through tsconfig.json's paths, as in the tests.
    noExternal: ['spikessl'],
    tsconfig: join(root, 'tsconfig.json'),
  });
  copyFileSync(join(example, 'index.html'), join(dir, 'index.html'));
  mkdirSync(join(dir, 'assets'));
  for (const f of IDX) copyFileSync(join(assets, f), join(dir, 'assets', f));
  server = await serveWeb({ port: 0, dir });
  browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_FLAGS });
  // The replays below run the GEMM kernel the page's engine runs (relaxed SIMD in Chromium ≥ 114).
  const page = await browser.newPage();
  kind = await matchBrowserKernels(page);
  await page.close();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const digits = (split: 'train' | 'test') => {
  const read = (f: string) => new Uint8Array(readFileSync(join(assets, f)));
  return mnistFromIdx(parseIdx(read(`${split}-images-idx3-ubyte`)), parseIdx(read(`${split}-labels-idx1-ubyte`)), { images: split, labels: split });
};

interface Result {
  stopped: boolean;
  batches: number;
  losses: number[];
  accuracy: number;
  predicted: number[];
}

async function run(page: Page, query: string): Promise<Result> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}${query}`);
  await page.waitForSelector('body[data-result], body[data-error]', { timeout: 90_000 });
  expect(await page.getAttribute('body', 'data-error')).toBeNull();
  expect(errors).toEqual([]);
  return JSON.parse((await page.getAttribute('body', 'data-result'))!) as Result;
}

/** trainModel in Node on the same digits and config, stopped after `batches` batches, with its probe. */
async function replay(batches: number) {
  const halt = new AbortController();
  let done = 0;
  const train = digits('train');
  return trainModel(CONFIG, train, { signal: halt.signal, probe: train, onBatch: () => ++done === batches && halt.abort() });
}

describe.skipIf(!browserThere)('examples/browser: training in a Web Worker', () => {
  it('trains to the end; the page predicts the held-out digits as the same training replayed in Node', async () => {
    const page = await browser.newPage();
    const r = await run(page, '');
    expect(r.stopped).toBe(false);
    expect(r.batches).toBe(20); // 2 epochs × 10 batches of 100 of the 1000 digits
    expect(r.losses.length).toBe(20);
    expect(kind).not.toBe('none'); // Node's and Chromium's WebAssembly SIMD kernels, the same kind
    const { trained } = await replay(Infinity);
    const test = digits('test');
    const { labels } = trained.predict({ data: test.images, shape: [test.n, 784] });
    expect(r.predicted).toEqual(Array.from(labels));
    expect(r.accuracy).toBeCloseTo(labels.filter((c, i) => c === test.labels[i]).length / test.n, 12);
    // Ten classes: chance is 10 %; 20 batches and a probe on 1000 digits do far better.
    expect(r.accuracy).toBeGreaterThan(0.5);
    await page.close();
  }, 150_000);

  it('Stop keeps the model trained so far: the downloaded file holds the weights of as many batches replayed in Node', async () => {
    const page = await browser.newPage();
    const r = await run(page, '?stopAfter=3');
    expect(r.stopped).toBe(true);
    // The page asks to stop after batch 3; the worker may have begun batch 4 before the message came.
    expect(r.batches).toBeGreaterThanOrEqual(3);
    expect(r.batches).toBeLessThan(20);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    expect(download.suggestedFilename()).toBe('model.safetensors');
    const file = await loadModel(new Uint8Array(readFileSync((await download.path())!)));
    const { trained } = await replay(r.batches);
    const want = trained.model.stateDict();
    const got = file.model.stateDict();
    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    for (const k of Object.keys(want)) expect(Array.from(got[k].data), k).toEqual(Array.from(want[k].data));
    const test = digits('test');
    expect(r.predicted).toEqual(Array.from(trained.predict({ data: test.images, shape: [test.n, 784] }).labels));
    await page.close();
  }, 150_000);
});
