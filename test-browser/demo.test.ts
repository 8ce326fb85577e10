/**
 * The demo page in headless Chromium (Debian's `chromium` package, driven by playwright-core):
 * it loads the bundled model, classifies a digit drawn with the mouse, says so when the canvas
 * is empty or the model file is bad, and trains a network in a worker while the page keeps
 * animating, and Stop keeps the model, offered as a download that loads with loadModel. Run with `npm run test:browser`; a screenshot is saved under runs/browser-test/.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, loadModel, mnistFromIdx, parseIdx, trainModel } from 'spikessl';
import { buildWeb, serveWeb } from '../scripts/serve-web.mjs';
import { PROBE_STEPS, SEEDS } from '../web/protocol';
import { CHROMIUM_FLAGS, chromiumPath, matchBrowserKernels } from '../test/helpers/chromium';

const SHOTS = join(process.cwd(), 'runs', 'browser-test');

let server: { url: string; close: () => Promise<unknown> };
let context: BrowserContext;
let profile: string;
const pageErrors: string[] = [];

beforeAll(async () => {
  await buildWeb({ silent: true });
  server = await serveWeb({ port: 0 });
  profile = mkdtempSync(join(tmpdir(), 'spikessl-chromium-'));
  // hasTouch: the page also takes strokes from a finger (touch events turned into pointer events).
  context = await chromium.launchPersistentContext(profile, { executablePath: chromiumPath(), headless: true, hasTouch: true, args: CHROMIUM_FLAGS });
  mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await context?.close();
  await server?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

async function open(query = ''): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${server.url}${query}`);
  return page;
}

/** Draws polylines on the pad with the mouse; points in pad pixels (280 × 280). */
async function draw(page: Page, strokes: Array<Array<[number, number]>>): Promise<void> {
  const box = (await page.locator('#pad').boundingBox())!;
  for (const points of strokes) {
    await page.mouse.move(box.x + points[0][0], box.y + points[0][1]);
    await page.mouse.down();
    for (const [x, y] of points.slice(1)) await page.mouse.move(box.x + x, box.y + y, { steps: 4 });
    await page.mouse.up();
  }
}

/** Draws one stroke with a finger: raw touch events through the DevTools protocol; points in pad pixels. */
async function drawByTouch(page: Page, points: Array<[number, number]>): Promise<void> {
  const box = (await page.locator('#pad').boundingBox())!;
  const cdp = await context.newCDPSession(page);
  const at = ([x, y]: [number, number]) => [{ x: box.x + x, y: box.y + y }];
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: at(points[0]) });
  for (const p of points.slice(1)) await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: at(p) });
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  await cdp.detach();
}

/** The classes the page shows once the scores of the current image have arrived. */
async function prediction(page: Page): Promise<{ linear: number; knn: number }> {
  // data-pending is set while the scores of the latest image are on their way.
  await page.waitForSelector('#prediction[data-linear]:not([data-pending])', { timeout: 30_000 });
  return {
    linear: Number(await page.getAttribute('#prediction', 'data-linear')),
    knn: Number(await page.getAttribute('#prediction', 'data-knn')),
  };
}

async function frames(page: Page): Promise<number> {
  return Number(await page.getAttribute('#spike-panel', 'data-frames'));
}

describe('demo page', () => {
  it('loads the bundled model, animates the rasters and classifies a 7 and a 0 drawn with the mouse and a 1 drawn by touch', async () => {
    const page = await open();
    await page.waitForSelector('body[data-state="ready"]', { timeout: 60_000 });
    expect(await page.isHidden('#banner')).toBe(true);
    expect(await page.textContent('#status')).toContain('784-128-128 LIF MLP');
    // Ten pickable test digits, one per class.
    expect(await page.locator('#samples button').count()).toBe(10);
    const f0 = await frames(page);
    await page.waitForTimeout(500);
    expect(await frames(page)).toBeGreaterThan(f0);

    await page.click('#clear');
    await draw(page, [[[60, 45], [215, 45], [185, 110], [150, 180], [125, 245]]]);
    expect((await prediction(page)).linear).toBe(7);
    await page.screenshot({ path: join(SHOTS, 'drawn-7.png'), fullPage: true });

    await page.click('#clear');
    await drawByTouch(page, [[140, 35], [139, 80], [138, 140], [137, 200], [136, 245]]);
    expect((await prediction(page)).linear).toBe(1);

    await page.click('#clear');
    const ellipse: Array<[number, number]> = [];
    for (let i = 0; i <= 48; i++) ellipse.push([140 + 62 * Math.sin((2 * Math.PI * i) / 48), 140 - 100 * Math.cos((2 * Math.PI * i) / 48)]);
    await draw(page, [ellipse]);
    expect((await prediction(page)).linear).toBe(0);

    // Held-out accuracy over the 200 bundled test digits (the bundled model: ~90 % each).
    expect(Number(await page.getAttribute('#probe-info', 'data-test-linear'))).toBeGreaterThan(0.8);
    expect(Number(await page.getAttribute('#probe-info', 'data-test-knn'))).toBeGreaterThan(0.8);
    // The ten pickable digits (the first test digit of each class, not chosen to be easy): at 90 %
    // accuracy fewer than 6 right has a probability of 0.2 %; chance would get 1.
    const right = { linear: 0, knn: 0 };
    for (let d = 0; d < 10; d++) {
      await page.click(`#samples button[data-label="${d}"]`);
      const p = await prediction(page);
      if (p.linear === d) right.linear++;
      if (p.knn === d) right.knn++;
    }
    expect(right.linear).toBeGreaterThanOrEqual(6);
    expect(right.knn).toBeGreaterThanOrEqual(6);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('says so when the canvas is empty', async () => {
    const page = await open();
    await page.waitForSelector('body[data-state="ready"]', { timeout: 60_000 });
    await page.click('#clear');
    await expect.poll(() => page.textContent('#prediction')).toContain('The canvas is empty');
    expect(await page.getAttribute('#prediction', 'data-linear')).toBeNull();
    await page.close();
  });

  it('shows a clear message when the model file is missing or is not a model', async () => {
    let page = await open('?model=assets/no-such-model.safetensors');
    await page.waitForSelector('body[data-state="error"]', { timeout: 30_000 });
    expect(await page.textContent('#banner')).toMatch(/no-such-model\.safetensors.*HTTP 404/);
    // The rest of the page still works: training here is offered.
    await expect.poll(() => page.isEnabled('#train')).toBe(true);
    await page.close();

    page = await open('?model=assets/test-labels-idx1-ubyte');
    await page.waitForSelector('body[data-state="error"]', { timeout: 30_000 });
    const text = await page.textContent('#banner');
    expect(text).toContain('test-labels-idx1-ubyte failed to load');
    expect(text).toContain('DataFormatError');
    await page.close();
  });

  it('Stop keeps the model trained so far: the page offers it as model.safetensors, whose bytes load with loadModel and predict as the page reported', async () => {
    const page = await open('?epochs=3&seed=1');
    await page.waitForSelector('body[data-state="ready"]', { timeout: 60_000 });
    expect(await page.isHidden('#download')).toBe(true);
    await page.click('#train');
    // Stop is offered once a batch is done.
    await page.waitForSelector('#stop:not([disabled])', { timeout: 60_000 });
    await page.click('#stop');
    await page.waitForSelector('body[data-training="stopped"], body[data-training="error"]', { timeout: 60_000 });
    expect(await page.getAttribute('body', 'data-training')).toBe('stopped');
    const batches = Number(await page.getAttribute('#loss-curve', 'data-points'));
    expect(batches).toBeGreaterThanOrEqual(1);
    expect(batches).toBeLessThan(30); // 3 epochs × 10 batches: stopped before the end
    expect(await page.textContent('#train-status')).toMatch(new RegExp(`^Stopped after ${batches} batches`));
    expect(await page.isEnabled('#train')).toBe(true);
    expect(await page.isEnabled('#use')).toBe(true);

    // The download: the page's model file, read back in Node with spikessl's loadModel.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    expect(download.suggestedFilename()).toBe('model.safetensors');
    const bytes = new Uint8Array(readFileSync((await download.path())!));
    const trained = await loadModel(bytes);
    // The bundled model's architecture (and schedule), with the page's training settings.
    expect(trained.config).toMatchObject({ encoder: 'mlp', hidden: 128, projDim: 64, bn: true, steps: 4, schedule: 'cosine', loss: 'ntxent', seed: 1, epochs: 3, batch: 100, lr: 0.002, evalSteps: PROBE_STEPS });
    // The page reported what its model (in the worker, before saving) predicts for the held-out
    // digits; the downloaded file predicts the same classes from the same encodings.
    const reported = JSON.parse((await page.getAttribute('#train-status', 'data-test-predicted'))!) as number[];
    const files = (f: string) => new Uint8Array(readFileSync(join('web', 'assets', f)));
    const test = mnistFromIdx(parseIdx(files('test-images-idx3-ubyte')), parseIdx(files('test-labels-idx1-ubyte')), { images: 'test images', labels: 'test labels' });
    expect(reported.length).toBe(test.n);
    const predicted = trained.predict({ data: test.images, shape: [test.n, 784] }, { rng: new Rng(SEEDS.test) }).labels;
    expect(Array.from(predicted)).toEqual(reported);
    // The reported accuracy is that of those classes against the labels (a model stopped early is
    // still well above chance, 10 %, on the 200 held-out digits).
    const right = reported.filter((c, i) => c === test.labels[i]).length / test.n;
    expect(Number(await page.getAttribute('#train-status', 'data-test-linear'))).toBeCloseTo(right, 10);
    // Its weights are those of the same training replayed in Node: trainModel on the same digits
    // with the same config, stopped after as many batches.
    const train = mnistFromIdx(parseIdx(files('train-images-idx3-ubyte')), parseIdx(files('train-labels-idx1-ubyte')), { images: 'train images', labels: 'train labels' });
    // (with the GEMM micro-kernel the page's engine runs: relaxed SIMD in Chromium ≥ 114)
    expect(await matchBrowserKernels(page)).not.toBe('none');
    const halt = new AbortController();
    let done = 0;
    const replay = await trainModel(trained.config, train, { signal: halt.signal, onBatch: () => ++done === batches && halt.abort() });
    const want = replay.trained.model.stateDict();
    const got = trained.model.stateDict();
    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    for (const k of Object.keys(want)) expect(Array.from(got[k].data), k).toEqual(Array.from(want[k].data));

    // The stopped model can be used in the page.
    await page.click('#use');
    await page.waitForSelector('body[data-state="ready"]', { timeout: 60_000 });
    expect(await page.textContent('#status')).toContain(`trained here in this page (${batches} batches, stopped)`);
    expect(pageErrors).toEqual([]);
    await page.close();
  });

  it('trains in a worker with a falling loss while the page keeps animating, then uses the new model', async () => {
    const page = await open('?epochs=3&seed=1');
    await page.waitForSelector('body[data-state="ready"]', { timeout: 60_000 });
    const f0 = await frames(page);
    await page.click('#train');
    await page.waitForSelector('body[data-training="done"], body[data-training="error"]', { timeout: 150_000 });
    expect(await page.getAttribute('body', 'data-training')).toBe('done');
    // The rasters kept moving while the worker trained.
    expect(await frames(page)).toBeGreaterThan(f0 + 10);
    const losses = JSON.parse((await page.getAttribute('#loss-curve', 'data-losses'))!) as number[];
    expect(losses.length).toBe(30); // 3 epochs × 10 batches of 100 of the 1000 bundled digits
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)) - 0.1);
    await page.click('#use');
    await page.waitForSelector('body[data-state="ready"]', { timeout: 60_000 });
    expect(await page.textContent('#status')).toContain('trained here');
    // A network trained for seconds on 1000 digits is already far above chance (10 %).
    expect(Number(await page.getAttribute('#probe-info', 'data-test-linear'))).toBeGreaterThan(0.5);
    await page.screenshot({ path: join(SHOTS, 'demo.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
