/**
 * The demo page: drawing pad → 28×28 image → two Poisson views → spiking encoder, shown as
 * animated rasters (main thread, one small forward pass per presentation); class scores from a
 * linear probe and a kNN (probe worker); "train here" (train worker) with a live loss curve, a
 * Stop that keeps the model trained so far, and the model offered as a download. Models are
 * spikessl's: `loadModel` (a URL or bytes), `trainModel` and `saveModel` (in the workers).
 *
 * URL parameters: `model` (a safetensors file to load instead of assets/model.safetensors),
 * `epochs` (the default of the train-here epochs field), `seed` (of train here; random by default).
 */
import { Rng, type RunConfig, Tensor, type TrainedModel, defaultRunConfig, loadModel, noGrad, poisson, saveModel } from 'spikessl';
import { type DigitFiles, centerDigit, describeConfig, parseDigits } from './lib';
import { type FromWorker, PROBE_STEPS, type Scores, type ToWorker } from './protocol';

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
};

const params = new URLSearchParams(location.search);
const MODEL_URL = params.get('model') ?? 'assets/model.safetensors';
/** Seed of "train here" (weights, shuffling, views); a fresh one per run unless given. */
const TRAIN_SEED = params.get('seed') === null ? null : Number(params.get('seed'));
/** Time steps kept on screen by a raster. */
const HISTORY = 96;
/** Time steps shown per second. */
const STEP_MS = 70;
/** The architecture trained here when no model could be loaded. */
const FALLBACK_CONFIG: RunConfig = { ...defaultRunConfig(), encoder: 'mlp', hidden: 128, projDim: 64, bn: true, steps: 4, loss: 'ntxent' };

const body = document.body;
const statusEl = $('status');
const banner = $('banner');

function showError(message: string): void {
  banner.hidden = false;
  banner.textContent = banner.textContent ? `${banner.textContent}\n${message}` : message;
}

function errorText(e: unknown): string {
  const err = e as Error;
  return err && typeof err.message === 'string' ? `${err.name && err.name !== 'Error' ? `${err.name}: ` : ''}${err.message}` : String(e);
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`could not fetch ${url}: ${errorText(e)}`);
  }
  if (!res.ok) throw new Error(`could not fetch ${url}: HTTP ${res.status} ${res.statusText}`);
  return new Uint8Array(await res.arrayBuffer());
}

// ---------------------------------------------------------------------------------------------
// Workers: a small request/response layer over postMessage.

type Listener = (m: FromWorker) => void;

class WorkerClient {
  readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (m: FromWorker) => void; reject: (e: Error) => void }>();
  private readyWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  onEvent: Listener = () => {};

  constructor() {
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    this.worker.onmessage = (e: MessageEvent<FromWorker>) => this.receive(e.data);
    this.worker.onerror = (e) => {
      e.preventDefault();
      const err = new Error(`the worker failed: ${e.message || 'could not start worker.js'}`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      this.readyWaiters.forEach((w) => w.reject(err));
      this.readyWaiters = [];
      this.onEvent({ type: 'error', id: null, during: 'startup', message: err.message });
    };
  }

  private receive(m: FromWorker): void {
    if (m.type === 'ready') {
      this.readyWaiters.forEach((w) => w.resolve());
      this.readyWaiters = [];
      return;
    }
    if ((m.type === 'prepared' || m.type === 'scores' || m.type === 'error') && m.id !== null && this.pending.has(m.id)) {
      const p = this.pending.get(m.id)!;
      this.pending.delete(m.id);
      if (m.type === 'error') p.reject(new Error(m.message));
      else p.resolve(m);
      return;
    }
    if (m.type === 'error' && m.during === 'init') {
      const err = new Error(m.message);
      this.readyWaiters.forEach((w) => w.reject(err));
      this.readyWaiters = [];
      return;
    }
    this.onEvent(m);
  }

  init(train: DigitFiles, test: DigitFiles): Promise<void> {
    return new Promise((resolve, reject) => {
      this.readyWaiters.push({ resolve, reject });
      this.send({ type: 'init', train, test });
    });
  }

  request<M extends FromWorker>(make: (id: number) => ToWorker): Promise<M> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (m: FromWorker) => void, reject });
      this.send(make(id));
    });
  }

  send(m: ToWorker): void {
    this.worker.postMessage(m);
  }

  terminate(): void {
    this.worker.terminate();
    const err = new Error('stopped');
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

// ---------------------------------------------------------------------------------------------
// State.

let digits: { train: DigitFiles; test: DigitFiles } | null = null;
/** The model on screen (spikessl's `loadModel`); the probe worker holds its own copy. */
let model: TrainedModel | null = null;
let modelLabel = '';
let image: Float32Array | null = null;
let probe: WorkerClient | null = null;
let probeReady = false;
let classifyId = 0;

// ---------------------------------------------------------------------------------------------
// Drawing pad.

const pad = $<HTMLCanvasElement>('pad');
const padCtx = pad.getContext('2d', { willReadFrequently: true })!;
const seen = $<HTMLCanvasElement>('seen');
const seenCtx = seen.getContext('2d')!;

function clearPad(): void {
  padCtx.fillStyle = '#000';
  padCtx.fillRect(0, 0, pad.width, pad.height);
}

/** Ink in [0, 1] of every pad pixel (the red channel of white strokes on black). */
function padInk(): Float32Array {
  const { data } = padCtx.getImageData(0, 0, pad.width, pad.height);
  const ink = new Float32Array(pad.width * pad.height);
  for (let i = 0; i < ink.length; i++) ink[i] = data[4 * i] / 255;
  return ink;
}

function paintGray(ctx: CanvasRenderingContext2D, x: Float32Array, w: number, h: number): void {
  const img = ctx.createImageData(w, h);
  for (let i = 0; i < w * h; i++) {
    const v = Math.round(255 * Math.max(0, Math.min(1, x[i])));
    img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = v;
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

function updateFromPad(): void {
  setImage(centerDigit(padInk(), pad.width, pad.height));
}

let drawing = false;
let last: { x: number; y: number } | null = null;
let padTimer = 0;

function padPoint(e: PointerEvent): { x: number; y: number } {
  const r = pad.getBoundingClientRect();
  return { x: ((e.clientX - r.left) * pad.width) / r.width, y: ((e.clientY - r.top) * pad.height) / r.height };
}

function stroke(from: { x: number; y: number }, to: { x: number; y: number }): void {
  padCtx.strokeStyle = '#fff';
  padCtx.lineWidth = 22;
  padCtx.lineCap = 'round';
  padCtx.lineJoin = 'round';
  padCtx.beginPath();
  padCtx.moveTo(from.x, from.y);
  padCtx.lineTo(to.x, to.y);
  padCtx.stroke();
}

pad.addEventListener('pointerdown', (e) => {
  e.preventDefault();
  pad.setPointerCapture(e.pointerId);
  drawing = true;
  last = padPoint(e);
  stroke(last, last);
});
pad.addEventListener('pointermove', (e) => {
  if (!drawing || !last) return;
  const p = padPoint(e);
  stroke(last, p);
  last = p;
  // While drawing, refresh the scores a few times a second rather than on every move.
  if (!padTimer) padTimer = window.setTimeout(() => ((padTimer = 0), updateFromPad()), 200);
});
const endStroke = () => {
  if (!drawing) return;
  drawing = false;
  last = null;
  window.clearTimeout(padTimer);
  padTimer = 0;
  updateFromPad();
};
pad.addEventListener('pointerup', endStroke);
pad.addEventListener('pointercancel', endStroke);
$('clear').addEventListener('click', () => {
  clearPad();
  updateFromPad();
});

/** Puts a 28×28 digit on the pad, scaled up, so that drawing continues from it. */
function showOnPad(x: Float32Array): void {
  const small = document.createElement('canvas');
  small.width = small.height = 28;
  paintGray(small.getContext('2d')!, x, 28, 28);
  clearPad();
  padCtx.imageSmoothingEnabled = true;
  padCtx.drawImage(small, 0, 0, pad.width, pad.height);
}

// ---------------------------------------------------------------------------------------------
// Rasters: each view shows its input spikes at the current step and the raster of every layer.

interface ViewCanvases {
  frame: CanvasRenderingContext2D;
  rasters: CanvasRenderingContext2D[];
  rates: HTMLElement[];
}
let views: ViewCanvases[] = [];
const LAYER_COLORS = ['#59c2ff', '#c2d94c', '#d2a6ff', '#95e6cb'];

function buildViews(sizes: number[]): void {
  const host = $('views');
  host.textContent = '';
  views = [0, 1].map((v) => {
    const div = document.createElement('div');
    div.className = 'view';
    div.innerHTML = `<h3>view ${v + 1}</h3>`;
    const fig = (caption: string, canvas: HTMLCanvasElement): HTMLElement => {
      const f = document.createElement('figure');
      const c = document.createElement('figcaption');
      c.textContent = caption;
      f.append(canvas, c);
      div.append(f);
      return c;
    };
    const frame = document.createElement('canvas');
    frame.width = frame.height = 28;
    frame.className = 'frame';
    fig('input spikes', frame);
    const rasters: CanvasRenderingContext2D[] = [];
    const rates: HTMLElement[] = [];
    sizes.forEach((n, l) => {
      const c = document.createElement('canvas');
      c.className = 'raster';
      c.width = HISTORY;
      c.height = n;
      c.dataset.layer = String(l + 1);
      const ctx = c.getContext('2d')!;
      ctx.fillStyle = '#05080b';
      ctx.fillRect(0, 0, c.width, c.height);
      rasters.push(ctx);
      rates.push(fig(`LIF layer ${l + 1} (${n} neurons)`, c));
    });
    host.append(div);
    return { frame: frame.getContext('2d')!, rasters, rates };
  });
  $('spike-caption').textContent =
    `Each raster column is one time step, each row one neuron; a presentation lasts T = ${model?.config.steps ?? '?'} steps ` +
    '(the thin grey lines), then the digit is encoded afresh. The left squares are the input spikes of the current step.';
}

/** One presentation: the spikes of both views, [T, 2, n] per layer (the input first). */
let presentation: { steps: number; layers: Float32Array[]; sizes: number[] } | null = null;
let step = 0;
let frames = 0;
const viewRng = new Rng(2024);
const spikesSeen: number[][] = [];

function present(): void {
  if (!model || !image) {
    presentation = null;
    return;
  }
  const T = model.config.steps;
  const x = new Float32Array(2 * 784);
  x.set(image, 0);
  x.set(image, 784);
  const enc = model.encoder;
  const result = noGrad(() => {
    const input = poisson(new Tensor(x, [2, 784]), { steps: T, rng: viewRng });
    return [input, ...enc.forwardLayers(input)];
  });
  presentation = { steps: T, layers: result.map((t) => t.data), sizes: result.map(neuronsOf) };
  step = 0;
  showRepresentation(presentation.layers[presentation.layers.length - 1], presentation.sizes[presentation.sizes.length - 1], T);
}

/**
 * The representation of each view (the last layer's firing rates over the presentation) as a
 * heat strip, and their cosine similarity — the quantity the SSL loss pushes up.
 */
function showRepresentation(spikes: Float32Array, F: number, T: number): void {
  const canvas = $<HTMLCanvasElement>('rep');
  if (canvas.width !== F) canvas.width = F;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(F, 2);
  const rates = [new Float64Array(F), new Float64Array(F)];
  for (let t = 0; t < T; t++) for (let v = 0; v < 2; v++) for (let f = 0; f < F; f++) rates[v][f] += spikes[(t * 2 + v) * F + f] / T;
  for (let v = 0; v < 2; v++) {
    for (let f = 0; f < F; f++) {
      const r = rates[v][f];
      const o = 4 * (v * F + f);
      img.data[o] = Math.round(255 * r);
      img.data[o + 1] = Math.round(180 * r);
      img.data[o + 2] = Math.round(84 * r);
      img.data[o + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
  let dot = 0;
  let n0 = 0;
  let n1 = 0;
  for (let f = 0; f < F; f++) {
    dot += rates[0][f] * rates[1][f];
    n0 += rates[0][f] ** 2;
    n1 += rates[1][f] ** 2;
  }
  const cos = n0 > 0 && n1 > 0 ? dot / Math.sqrt(n0 * n1) : 0;
  $('rep-sim').textContent = `cosine similarity of the two views' representations in this presentation: ${cos.toFixed(3)}`;
}

function tick(): void {
  if (!presentation || step >= presentation.steps) present();
  if (!presentation) return;
  const { layers, sizes } = presentation;
  const t = step;
  views.forEach((view, v) => {
    // Input frame: the 784 input spikes of this step, over the faint digit.
    const img = view.frame.createImageData(28, 28);
    const inp = layers[0];
    for (let i = 0; i < 784; i++) {
      const s = inp[(t * 2 + v) * 784 + i];
      const g = image ? Math.round(40 * image[i]) : 0;
      img.data[4 * i] = s ? 240 : g;
      img.data[4 * i + 1] = s ? 113 : g;
      img.data[4 * i + 2] = s ? 120 : g;
      img.data[4 * i + 3] = 255;
    }
    view.frame.putImageData(img, 0, 0);
    view.rasters.forEach((ctx, l) => {
      const n = sizes[l + 1];
      const data = layers[l + 1];
      const c = ctx.canvas;
      ctx.drawImage(c, -1, 0);
      ctx.fillStyle = t === 0 ? '#161e26' : '#05080b';
      ctx.fillRect(c.width - 1, 0, 1, c.height);
      ctx.fillStyle = LAYER_COLORS[l % LAYER_COLORS.length];
      let count = 0;
      for (let f = 0; f < n; f++) {
        if (data[(t * 2 + v) * n + f]) {
          ctx.fillRect(c.width - 1, f, 1, 1);
          count++;
        }
      }
      const hist = (spikesSeen[v * 8 + l] ??= []);
      hist.push(count / n);
      if (hist.length > HISTORY) hist.shift();
      const mean = hist.reduce((a, b) => a + b, 0) / hist.length;
      view.rates[l].textContent = `LIF layer ${l + 1} (${n} neurons) · ${(100 * mean).toFixed(0)}% firing`;
    });
  });
  step++;
  frames++;
  $('spike-panel').dataset.frames = String(frames);
}

// ---------------------------------------------------------------------------------------------
// Scores.

function bars(host: HTMLElement, p: number[] | null): void {
  host.textContent = '';
  const best = p ? p.indexOf(Math.max(...p)) : -1;
  for (let c = 0; c < 10; c++) {
    const v = p ? p[c] : 0;
    const row = [document.createElement('span'), document.createElement('div'), document.createElement('span')];
    row[0].textContent = String(c);
    row[1].className = 'bar';
    row[1].innerHTML = `<div style="width:${(100 * v).toFixed(1)}%"></div>`;
    row[2].textContent = p ? `${(100 * v).toFixed(1)}%` : '';
    if (c === best) row.forEach((el) => el.classList.add('top'));
    host.append(...row);
  }
}

function argmax(p: number[]): number {
  return p.indexOf(Math.max(...p));
}

function showScores(s: Scores | null, message?: string, problem = true): void {
  const pred = $('prediction');
  delete pred.dataset.pending;
  bars($('linear-bars'), s?.linear ?? null);
  bars($('knn-bars'), s?.knn ?? null);
  pred.classList.toggle('empty', !s && !!message && problem);
  if (!s) {
    pred.textContent = message ?? '—';
    delete pred.dataset.linear;
    delete pred.dataset.knn;
    return;
  }
  const a = argmax(s.linear);
  const b = argmax(s.knn);
  pred.innerHTML = `linear probe <b>${a}</b> (${(100 * s.linear[a]).toFixed(0)}%) · kNN <b>${b}</b> (${(100 * s.knn[b]).toFixed(0)}%)`;
  pred.dataset.linear = String(a);
  pred.dataset.knn = String(b);
}

async function classify(): Promise<void> {
  // Every call supersedes the requests before it, also when it ends in a message.
  const id = ++classifyId;
  if (!image) {
    showScores(null, 'The canvas is empty: draw a digit, or pick one of the test digits.');
    return;
  }
  if (!probe || !probeReady) {
    showScores(null, model ? 'Fitting the probes…' : 'No model is loaded: train one below, then use it.', !model);
    return;
  }
  const x = image;
  // Set until the scores of the latest image are on screen (the test waits for it to go).
  $('prediction').dataset.pending = '1';
  try {
    const m = await probe.request<Extract<FromWorker, { type: 'scores' }>>((rid) => ({ type: 'classify', id: rid, image: x }));
    if (id === classifyId) showScores(m.scores);
  } catch (e) {
    if (id === classifyId) showScores(null, `Could not score this digit: ${errorText(e)}`);
  }
}

function setImage(x: Float32Array | null): void {
  image = x;
  paintGray(seenCtx, x ?? new Float32Array(784), 28, 28);
  presentation = null;
  void classify();
}

// ---------------------------------------------------------------------------------------------
// Models: the page's copy (rasters) and the probe worker's (scores).

/**
 * Loads a model (a URL, or the bytes of a model file) with spikessl's `loadModel` for the rasters,
 * and sends it to the probe worker, which fits the probes on it.
 */
async function useModel(source: URL | Uint8Array, name: string, label: string): Promise<void> {
  probeReady = false;
  body.dataset.state = 'loading';
  let bytes: Uint8Array;
  try {
    model = await loadModel(source);
    // What the worker loads: the model as one file (config, weights and probe, if any).
    bytes = saveModel(model);
  } catch (e) {
    model = null;
    body.dataset.state = 'error';
    statusEl.textContent = 'No model loaded.';
    showError(`The model ${name} failed to load — ${errorText(e)}\nYou can still train a model here (section 4) and use it.`);
    $<HTMLButtonElement>('train').disabled = digits === null;
    showScores(null, 'No model is loaded: train one below, then use it.');
    return;
  }
  modelLabel = `${label} (${(bytes.length / 1024).toFixed(0)} kB)`;
  buildViews(layerSizes(model));
  presentation = null;
  statusEl.textContent = `Model: ${describeConfig(model.config)} — ${modelLabel}. Fitting the probes…`;
  if (!probe || !digits) return;
  try {
    const r = await probe.request<Extract<FromWorker, { type: 'prepared' }>>((id) => ({ type: 'prepare', id, model: bytes }));
    probeReady = true;
    body.dataset.state = 'ready';
    statusEl.textContent = `Model: ${describeConfig(r.config)} — ${modelLabel}.`;
    $('probe-info').textContent =
      `Both classifiers are fitted on the representations of ${r.trainN} bundled training digits ` +
      `(each the firing rates of the last layer over one Poisson encoding of ${PROBE_STEPS} steps). On ${r.testN} held-out test digits: ` +
      `linear probe ${(100 * r.testLinear).toFixed(1)}%, kNN ${(100 * r.testKnn).toFixed(1)}% (fitted in ${r.seconds.toFixed(1)} s).`;
    $('probe-info').dataset.testLinear = String(r.testLinear);
    $('probe-info').dataset.testKnn = String(r.testKnn);
    void classify();
  } catch (e) {
    body.dataset.state = 'error';
    showError(`Could not fit the probes for ${name} — ${errorText(e)}`);
  }
}

/** Neurons of a layer's spikes [T, B, ...]: the product of the dimensions after T and B. */
function neuronsOf(t: Tensor): number {
  return t.shape.slice(2).reduce((a, b) => a * b, 1);
}

/** Neurons per spiking layer (not the input), from one tiny forward pass. */
function layerSizes(m: TrainedModel): number[] {
  return noGrad(() => m.encoder.forwardLayers(new Tensor(new Float32Array(784), [1, 1, 784]))).map(neuronsOf);
}

// ---------------------------------------------------------------------------------------------
// Train here.

let trainer: WorkerClient | null = null;
let trainedBytes: Uint8Array | null = null;
let trainedLabel = '';
let losses: number[] = [];
const trainBtn = $<HTMLButtonElement>('train');
const stopBtn = $<HTMLButtonElement>('stop');
const useBtn = $<HTMLButtonElement>('use');
const download = $<HTMLAnchorElement>('download');
const trainStatus = $('train-status');
const curve = $('loss-curve') as unknown as SVGSVGElement;
const epochsInput = $<HTMLInputElement>('epochs');
if (params.get('epochs')) epochsInput.value = params.get('epochs')!;

let lossName = '';

function drawCurve(total: number): void {
  const W = 640;
  const H = 220;
  const L = 48;
  const B = 24;
  const lo = Math.min(...losses);
  const hi = Math.max(...losses);
  const span = hi - lo || 1;
  const n = Math.max(total, losses.length, 2);
  const pts = losses.map((v, i) => `${(L + ((W - L - 10) * i) / (n - 1)).toFixed(1)},${(10 + ((H - B - 20) * (hi - v)) / span).toFixed(1)}`).join(' ');
  curve.innerHTML =
    `<line class="axis" x1="${L}" y1="10" x2="${L}" y2="${H - B}"/><line class="axis" x1="${L}" y1="${H - B}" x2="${W - 10}" y2="${H - B}"/>` +
    `<text x="4" y="16">${hi.toFixed(3)}</text><text x="4" y="${H - B - 4}">${lo.toFixed(3)}</text>` +
    `<text x="4" y="${H / 2}">${lossName}</text>` +
    `<text x="${L}" y="${H - 6}">batch 1</text><text x="${W - 70}" y="${H - 6}">batch ${n}</text>` +
    `<polyline points="${pts}"/>`;
  curve.dataset.points = String(losses.length);
  curve.dataset.losses = JSON.stringify(losses);
  curve.dataset.first = String(losses[0]);
  curve.dataset.last = String(losses[losses.length - 1]);
}

function finishTraining(): void {
  trainer?.terminate();
  trainer = null;
  trainBtn.disabled = false;
  stopBtn.disabled = true;
}

trainBtn.addEventListener('click', async () => {
  if (!digits) return;
  const epochs = Math.max(1, Math.min(50, Math.round(Number(epochsInput.value) || 5)));
  const loss = $<HTMLSelectElement>('loss').value as 'ntxent' | 'barlow' | 'vicreg';
  const config = model?.config ?? FALLBACK_CONFIG;
  losses = [];
  lossName = loss;
  trainedBytes = null;
  trainedLabel = '';
  offerDownload(null);
  curve.innerHTML = '';
  trainBtn.disabled = true;
  // Stop is offered once the first batch is done: then the worker is training and keeps what it has.
  stopBtn.disabled = true;
  useBtn.disabled = true;
  body.dataset.training = 'running';
  trainStatus.textContent = `Starting: a fresh ${describeConfig(config)}, ${epochs} epoch(s), ${loss}…`;
  const w = new WorkerClient();
  trainer = w;
  w.onEvent = (m) => {
    if (trainer !== w) return;
    if (m.type === 'progress') {
      if (body.dataset.training === 'running') stopBtn.disabled = false;
      losses.push(m.loss);
      drawCurve(m.steps);
      trainStatus.textContent =
        `epoch ${m.epoch}/${epochs} · batch ${m.step}/${m.steps} · loss ${m.loss.toFixed(4)} · ` +
        `${m.samplesPerSecond.toFixed(0)} images/s · spike density ${m.density.map((d) => `${(100 * d).toFixed(0)}%`).join(' / ')} (input first)`;
    } else if (m.type === 'trained') {
      trainedBytes = m.model;
      const batches = m.losses.length;
      trainedLabel = `trained here in this page (${batches} batches${m.stopped ? ', stopped' : ''})`;
      const first = m.losses.slice(0, 3);
      const lastL = m.losses.slice(-3);
      const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
      const what = m.stopped ? `Stopped after ${batches} batches (${m.seconds.toFixed(1)} s); the model trained so far is kept` : `Done in ${m.seconds.toFixed(1)} s`;
      trainStatus.textContent =
        `${what}: loss ${mean(first).toFixed(3)} → ${mean(lastL).toFixed(3)} (mean of the first and last 3 batches); ` +
        `its linear probe, fitted on the training digits: ${(100 * m.testLinear).toFixed(1)}% on the held-out digits. ` +
        `Press "Use this model" to see its spikes and scores, or download it.`;
      trainStatus.dataset.testLinear = String(m.testLinear);
      trainStatus.dataset.testPredicted = JSON.stringify(m.testPredicted);
      offerDownload(m.model);
      useBtn.disabled = false;
      body.dataset.training = m.stopped ? 'stopped' : 'done';
      finishTraining();
    } else if (m.type === 'error') {
      trainStatus.textContent = `Training failed: ${m.message}`;
      body.dataset.training = 'error';
      finishTraining();
    }
  };
  try {
    await w.init(digits.train, digits.test);
    w.send({ type: 'train', request: { epochs, batch: 100, lr: 0.002, loss, seed: TRAIN_SEED ?? Math.floor(Math.random() * 1e6), config } });
  } catch (e) {
    trainStatus.textContent = `Training failed: ${errorText(e)}`;
    body.dataset.training = 'error';
    finishTraining();
  }
});

stopBtn.addEventListener('click', () => {
  if (!trainer) return;
  // The worker aborts trainModel after the batch in hand, fits the probe and posts the model.
  trainer.send({ type: 'stop' });
  stopBtn.disabled = true;
  body.dataset.training = 'stopping';
  trainStatus.textContent = `Stopping after ${losses.length} batches: fitting the probe of the model trained so far…`;
});

/** Offers `bytes` as a download (model.safetensors), or withdraws the offer (null). */
function offerDownload(bytes: Uint8Array | null): void {
  if (download.href) URL.revokeObjectURL(download.href);
  download.removeAttribute('href');
  download.hidden = bytes === null;
  if (bytes === null) return;
  download.href = URL.createObjectURL(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
  download.title = `${(bytes.length / 1024).toFixed(0)} kB: config, weights and linear probe in one safetensors file — spikessl predict --model reads it, and loadModel`;
}

useBtn.addEventListener('click', () => {
  if (!trainedBytes) return;
  useBtn.disabled = true;
  banner.hidden = true;
  banner.textContent = '';
  void useModel(trainedBytes, 'the model trained here', trainedLabel);
});

// ---------------------------------------------------------------------------------------------
// Start.

function buildSamples(test: DigitFiles): void {
  const ds = parseDigits(test, 'assets/test');
  const host = $('samples');
  const firstOf = new Map<number, number>();
  for (let i = 0; i < ds.n && firstOf.size < 10; i++) if (!firstOf.has(ds.labels[i])) firstOf.set(ds.labels[i], i);
  [...firstOf.entries()]
    .sort((a, b) => a[0] - b[0])
    .forEach(([label, i]) => {
      const x = ds.images.slice(i * 784, (i + 1) * 784);
      const btn = document.createElement('button');
      btn.type = 'button';
      btn.title = `a test digit labelled ${label}`;
      btn.dataset.label = String(label);
      const c = document.createElement('canvas');
      c.width = c.height = 28;
      paintGray(c.getContext('2d')!, x, 28, 28);
      btn.append(c);
      btn.addEventListener('click', () => {
        showOnPad(x);
        setImage(x);
      });
      host.append(btn);
    });
}

async function start(): Promise<void> {
  clearPad();
  bars($('linear-bars'), null);
  bars($('knn-bars'), null);
  window.setInterval(tick, STEP_MS);
  try {
    const [trI, trL, teI, teL] = await Promise.all(
      ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 'test-images-idx3-ubyte', 'test-labels-idx1-ubyte'].map((f) => fetchBytes(`assets/${f}`)),
    );
    digits = { train: { images: trI, labels: trL }, test: { images: teI, labels: teL } };
    buildSamples(digits.test);
  } catch (e) {
    body.dataset.state = 'error';
    showError(`The bundled digits failed to load — ${errorText(e)}`);
    return;
  }
  probe = new WorkerClient();
  probe.onEvent = (m) => {
    if (m.type === 'error') showError(`The probe worker failed (${m.during}): ${m.message}`);
  };
  try {
    await probe.init(digits.train, digits.test);
  } catch (e) {
    body.dataset.state = 'error';
    showError(`The probe worker failed to start — ${errorText(e)}`);
    return;
  }
  trainBtn.disabled = false;
  // The first test digit is on screen from the start.
  $('samples').querySelector('button')?.dispatchEvent(new MouseEvent('click'));
  await useModel(new URL(MODEL_URL, location.href), MODEL_URL, `${MODEL_URL}, trained by spikessl train`);
}

window.addEventListener('error', (e) => showError(`Unexpected error: ${e.message}`));
window.addEventListener('unhandledrejection', (e) => showError(`Unexpected error: ${errorText(e.reason)}`));
void start();
