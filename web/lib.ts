/**
 * What the page and its worker share: a one-line description of a model's architecture, reading
 * the bundled IDX digit files, and turning a drawing into an MNIST-like 28×28 image. Models are
 * loaded, trained and saved with spikessl's public API (`loadModel`, `trainModel`, `saveModel`).
 */
import { DataFormatError, type Dataset, type RunConfig, mnistFromIdx, parseIdx } from 'spikessl';

/** One line describing an architecture, e.g. "784-128-128 LIF MLP + BatchNorm, T = 4". */
export function describeConfig(c: RunConfig): string {
  const body = c.encoder === 'mlp' ? `784-${c.hidden}-${c.hidden} LIF MLP` : `conv LIF encoder (${c.hidden} features)`;
  return `${body}${c.bn ? ' + BatchNorm' : ''}, T = ${c.steps}`;
}

/** The raw bytes of an MNIST-format pair of IDX files. */
export interface DigitFiles {
  images: Uint8Array;
  labels: Uint8Array;
}

/**
 * Parses an IDX pair of 28×28 u8 images and their labels into a Dataset with pixels in [0, 1]
 * (spikessl's `mnistFromIdx`, as `loadMnist` does); the page draws 28×28 digits, so other sizes
 * are refused.
 */
export function parseDigits(files: DigitFiles, source: string): Dataset {
  const names = { images: `${source} images`, labels: `${source} labels` };
  const data = mnistFromIdx(parseIdx(files.images, names.images), parseIdx(files.labels, names.labels), names);
  const [h, w] = data.sampleShape;
  if (h !== 28 || w !== 28) throw new DataFormatError(`${names.images}: expected 28×28 images, got ${h}×${w}`);
  return data;
}

/**
 * Turns a drawing (ink intensities in [0, 1], row-major width × height) into a 28×28 image
 * the way MNIST was made: the ink's bounding box is scaled to fit a 20×20 box (aspect kept,
 * each output pixel the mean of the source pixels it covers), then placed so that its centre
 * of mass sits at pixel (14, 14). Returns null when there is no ink (an empty canvas).
 */
export function centerDigit(ink: Float32Array, width: number, height: number, threshold = 0.05): Float32Array | null {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (ink[y * width + x] > threshold) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) return null;
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  const s = 20 / Math.max(bw, bh);
  const w = Math.max(1, Math.round(bw * s));
  const h = Math.max(1, Math.round(bh * s));
  // Box filter: output pixel (u, v) averages the source rectangle that maps onto it (at least one pixel).
  const small = new Float32Array(w * h);
  for (let v = 0; v < h; v++) {
    const ys0 = y0 + Math.floor(v / s);
    const ys1 = Math.min(y1 + 1, Math.max(ys0 + 1, y0 + Math.floor((v + 1) / s)));
    for (let u = 0; u < w; u++) {
      const xs0 = x0 + Math.floor(u / s);
      const xs1 = Math.min(x1 + 1, Math.max(xs0 + 1, x0 + Math.floor((u + 1) / s)));
      let sum = 0;
      for (let y = ys0; y < ys1; y++) for (let x = xs0; x < xs1; x++) sum += ink[y * width + x];
      small[v * w + u] = Math.min(1, sum / ((ys1 - ys0) * (xs1 - xs0)));
    }
  }
  let m = 0;
  let mx = 0;
  let my = 0;
  for (let v = 0; v < h; v++) {
    for (let u = 0; u < w; u++) {
      const p = small[v * w + u];
      m += p;
      mx += p * (u + 0.5);
      my += p * (v + 0.5);
    }
  }
  const ox = Math.round(14 - (m > 0 ? mx / m : w / 2));
  const oy = Math.round(14 - (m > 0 ? my / m : h / 2));
  const out = new Float32Array(784);
  for (let v = 0; v < h; v++) {
    const ty = v + oy;
    if (ty < 0 || ty >= 28) continue;
    for (let u = 0; u < w; u++) {
      const tx = u + ox;
      if (tx >= 0 && tx < 28) out[ty * 28 + tx] = small[v * w + u];
    }
  }
  return out;
}
