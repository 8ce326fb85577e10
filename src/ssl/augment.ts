/**
 * Image augmentations applied to a batch of flattened images [B, H·W] before spike
 * encoding, each drawn per image from an `Rng`. Pixels moved in from outside the image are
 * 0 (background).
 */
import { OptionError, ShapeError, fmtShape } from '../errors';
import type { Rng } from '../rng';
import { Tensor } from '../tensor/tensor';

/** Geometry shared by the augmentations. */
export interface ImageShape {
  /** Image height in pixels. Default 28. */
  height?: number;
  /** Image width in pixels. Default 28. */
  width?: number;
}

function geometry(x: Tensor, o: ImageShape, op: string): { b: number; h: number; w: number } {
  const h = o.height ?? 28;
  const w = o.width ?? 28;
  if (x.ndim !== 2 || x.shape[1] !== h * w) throw new ShapeError(`${op}: expected flattened images [B, ${h}·${w} = ${h * w}], got ${fmtShape(x.shape)}`);
  return { b: x.shape[0], h, w };
}

/** Bilinear sample of image `src` (offset `o`, h×w) at real coordinates (y, x); 0 outside. */
function bilinear(src: Float32Array, o: number, h: number, w: number, y: number, x: number): number {
  const y0 = Math.floor(y);
  const x0 = Math.floor(x);
  const fy = y - y0;
  const fx = x - x0;
  let v = 0;
  for (let dy = 0; dy <= 1; dy++) {
    const yy = y0 + dy;
    if (yy < 0 || yy >= h) continue;
    const wy = dy ? fy : 1 - fy;
    for (let dx = 0; dx <= 1; dx++) {
      const xx = x0 + dx;
      if (xx < 0 || xx >= w) continue;
      v += wy * (dx ? fx : 1 - fx) * src[o + yy * w + xx];
    }
  }
  return v;
}

/** Options of {@link randomShift}. */
export interface ShiftOptions extends ImageShape {
  /** Largest shift in pixels along each axis; each image moves by integers in [−k, k]. */
  maxShift: number;
  rng: Rng;
}

/** Moves each image by a random whole number of pixels in [−maxShift, maxShift] along each axis. */
export function randomShift(x: Tensor, options: ShiftOptions): Tensor {
  const { b, h, w } = geometry(x, options, 'randomShift');
  const k = options.maxShift;
  if (!Number.isInteger(k) || k < 0) throw new OptionError(`randomShift: maxShift must be a non-negative integer, got ${k}`);
  const out = new Float32Array(x.size);
  for (let i = 0; i < b; i++) {
    const dy = options.rng.int(-k, k + 1);
    const dx = options.rng.int(-k, k + 1);
    const o = i * h * w;
    for (let y = 0; y < h; y++) {
      const sy = y - dy;
      if (sy < 0 || sy >= h) continue;
      for (let xx = 0; xx < w; xx++) {
        const sx = xx - dx;
        if (sx >= 0 && sx < w) out[o + y * w + xx] = x.data[o + sy * w + sx];
      }
    }
  }
  return new Tensor(out, x.shape);
}

/** Options of {@link randomResizedCrop}. */
export interface ResizedCropOptions extends ImageShape {
  /** Range of the crop's area as a fraction of the image. Default [0.6, 1]. */
  scale?: readonly [number, number];
  /** Range of the crop's aspect ratio (width/height), sampled log-uniformly. Default [3/4, 4/3]. */
  ratio?: readonly [number, number];
  rng: Rng;
}

/**
 * Crops a random rectangle of each image (area fraction in `scale`, aspect ratio in
 * `ratio`, position uniform) and resizes it back to the full image bilinearly, as
 * torchvision's RandomResizedCrop (a crop that does not fit is clipped to the image).
 */
export function randomResizedCrop(x: Tensor, options: ResizedCropOptions): Tensor {
  const { b, h, w } = geometry(x, options, 'randomResizedCrop');
  const [s0, s1] = options.scale ?? [0.6, 1];
  const [r0, r1] = options.ratio ?? [3 / 4, 4 / 3];
  if (!(s0 > 0 && s0 <= s1 && s1 <= 1)) throw new OptionError(`randomResizedCrop: scale must satisfy 0 < lo ≤ hi ≤ 1, got [${s0}, ${s1}]`);
  if (!(r0 > 0 && r0 <= r1)) throw new OptionError(`randomResizedCrop: ratio must satisfy 0 < lo ≤ hi, got [${r0}, ${r1}]`);
  const out = new Float32Array(x.size);
  const rng = options.rng;
  for (let i = 0; i < b; i++) {
    const area = h * w * rng.uniformRange(s0, s1);
    const ratio = Math.exp(rng.uniformRange(Math.log(r0), Math.log(r1)));
    const cw = Math.min(w, Math.sqrt(area * ratio));
    const ch = Math.min(h, Math.sqrt(area / ratio));
    const top = rng.uniform() * (h - ch);
    const left = rng.uniform() * (w - cw);
    const o = i * h * w;
    for (let y = 0; y < h; y++) {
      // Pixel centres of the output map onto the crop's pixel centres.
      const sy = top + ((y + 0.5) * ch) / h - 0.5;
      for (let xx = 0; xx < w; xx++) {
        const sx = left + ((xx + 0.5) * cw) / w - 0.5;
        out[o + y * w + xx] = bilinear(x.data, o, h, w, sy, sx);
      }
    }
  }
  return new Tensor(out, x.shape);
}

/** Options of {@link randomAffine}. */
export interface AffineOptions extends ImageShape {
  /** Largest rotation in degrees (uniform in ±degrees). Default 10. */
  degrees?: number;
  /** Range of the scale factor. Default [0.85, 1.1]. */
  scale?: readonly [number, number];
  /** Largest translation in pixels along each axis (uniform, real-valued). Default 3. */
  translate?: number;
  rng: Rng;
}

/**
 * Random rotation, scaling and translation about the image centre, resampled bilinearly
 * (the "affine" views that help convolutional encoders).
 */
export function randomAffine(x: Tensor, options: AffineOptions): Tensor {
  const { b, h, w } = geometry(x, options, 'randomAffine');
  const deg = options.degrees ?? 10;
  const [sc0, sc1] = options.scale ?? [0.85, 1.1];
  const tr = options.translate ?? 3;
  if (!(deg >= 0) || !(sc0 > 0 && sc0 <= sc1) || !(tr >= 0)) {
    throw new OptionError(`randomAffine: expected degrees ≥ 0, 0 < scale lo ≤ hi, translate ≥ 0; got ${deg}, [${sc0}, ${sc1}], ${tr}`);
  }
  const out = new Float32Array(x.size);
  const rng = options.rng;
  const cy = (h - 1) / 2;
  const cx = (w - 1) / 2;
  for (let i = 0; i < b; i++) {
    const a = (rng.uniformRange(-deg, deg) * Math.PI) / 180;
    const s = rng.uniformRange(sc0, sc1);
    const ty = rng.uniformRange(-tr, tr);
    const tx = rng.uniformRange(-tr, tr);
    // Inverse map: output pixel p comes from R(−a)·(p − c − t)/s + c.
    const cos = Math.cos(a) / s;
    const sin = Math.sin(a) / s;
    const o = i * h * w;
    for (let y = 0; y < h; y++) {
      const py = y - cy - ty;
      for (let xx = 0; xx < w; xx++) {
        const px = xx - cx - tx;
        out[o + y * w + xx] = bilinear(x.data, o, h, w, cos * py - sin * px + cy, sin * py + cos * px + cx);
      }
    }
  }
  return new Tensor(out, x.shape);
}

/** Options of {@link randomHorizontalFlip}. */
export interface FlipOptions extends ImageShape {
  /** Probability that an image is mirrored. Default 0.5. */
  p?: number;
  rng: Rng;
}

/** Mirrors each image left–right with probability `p` (one draw per image). */
export function randomHorizontalFlip(x: Tensor, options: FlipOptions): Tensor {
  const { b, h, w } = geometry(x, options, 'randomHorizontalFlip');
  const p = options.p ?? 0.5;
  if (!(p >= 0 && p <= 1)) throw new OptionError(`randomHorizontalFlip: p must be in [0, 1], got ${p}`);
  const out = new Float32Array(x.size);
  for (let i = 0; i < b; i++) {
    const flip = options.rng.uniform() < p;
    const o = i * h * w;
    for (let y = 0; y < h; y++) {
      const r = o + y * w;
      for (let xx = 0; xx < w; xx++) out[r + xx] = x.data[r + (flip ? w - 1 - xx : xx)];
    }
  }
  return new Tensor(out, x.shape);
}

/** Options of {@link colorJitter}. */
export interface JitterOptions extends ImageShape {
  /** Brightness factor drawn uniformly in [1 − brightness, 1 + brightness]. Default 0.4. */
  brightness?: number;
  /** Contrast factor drawn uniformly in [1 − contrast, 1 + contrast]. Default 0.4. */
  contrast?: number;
  rng: Rng;
}

/**
 * Brightness then contrast jitter of grey images, as torchvision's ColorJitter on one channel:
 * x ← clamp(b·x), then x ← clamp(c·x + (1 − c)·m) with m the image's mean after the first step,
 * clamped to [0, 1]. Since a pixel is a firing probability, brightness scales the image's spike count.
 */
export function colorJitter(x: Tensor, options: JitterOptions): Tensor {
  const { b, h, w } = geometry(x, options, 'colorJitter');
  const bj = options.brightness ?? 0.4;
  const cj = options.contrast ?? 0.4;
  if (!(bj >= 0 && bj <= 1) || !(cj >= 0 && cj <= 1)) throw new OptionError(`colorJitter: brightness and contrast must be in [0, 1], got ${bj}, ${cj}`);
  const n = h * w;
  const out = new Float32Array(x.size);
  const clamp = (v: number) => (v < 0 ? 0 : v > 1 ? 1 : v);
  for (let i = 0; i < b; i++) {
    const bf = options.rng.uniformRange(1 - bj, 1 + bj);
    const cf = options.rng.uniformRange(1 - cj, 1 + cj);
    const o = i * n;
    let mean = 0;
    for (let j = 0; j < n; j++) {
      const v = clamp(bf * x.data[o + j]);
      out[o + j] = v;
      mean += v;
    }
    mean /= n;
    for (let j = 0; j < n; j++) out[o + j] = clamp(cf * out[o + j] + (1 - cf) * mean);
  }
  return new Tensor(out, x.shape);
}

/** Options of {@link randomErasing}. */
export interface ErasingOptions extends ImageShape {
  /** Probability that an image gets a rectangle erased. Default 0.5. */
  p?: number;
  /** Range of the rectangle's area as a fraction of the image. Default [0.02, 0.25]. */
  scale?: readonly [number, number];
  /** Range of its aspect ratio (height/width), sampled log-uniformly. Default [0.3, 3.3]. */
  ratio?: readonly [number, number];
  rng: Rng;
}

/**
 * Sets a random rectangle of each image (with probability `p`) to 0, as torchvision's
 * RandomErasing with value 0 (Zhong et al., 2020). A rectangle that does not fit is redrawn, at
 * most 10 times, after which the image is left whole (torchvision's rule).
 */
export function randomErasing(x: Tensor, options: ErasingOptions): Tensor {
  const { b, h, w } = geometry(x, options, 'randomErasing');
  const p = options.p ?? 0.5;
  const [s0, s1] = options.scale ?? [0.02, 0.25];
  const [r0, r1] = options.ratio ?? [0.3, 3.3];
  if (!(p >= 0 && p <= 1) || !(s0 > 0 && s0 <= s1 && s1 <= 1) || !(r0 > 0 && r0 <= r1)) {
    throw new OptionError(`randomErasing: expected p in [0, 1], 0 < scale lo ≤ hi ≤ 1, 0 < ratio lo ≤ hi; got ${p}, [${s0}, ${s1}], [${r0}, ${r1}]`);
  }
  const out = x.data.slice();
  const rng = options.rng;
  for (let i = 0; i < b; i++) {
    if (!(rng.uniform() < p)) continue;
    for (let attempt = 0; attempt < 10; attempt++) {
      const area = h * w * rng.uniformRange(s0, s1);
      const ratio = Math.exp(rng.uniformRange(Math.log(r0), Math.log(r1)));
      const eh = Math.round(Math.sqrt(area * ratio));
      const ew = Math.round(Math.sqrt(area / ratio));
      if (eh < 1 || ew < 1 || eh > h || ew > w) continue;
      const top = rng.int(0, h - eh + 1);
      const left = rng.int(0, w - ew + 1);
      const o = i * h * w;
      for (let y = top; y < top + eh; y++) out.fill(0, o + y * w + left, o + y * w + left + ew);
      break;
    }
  }
  return new Tensor(out, x.shape);
}

/** A batch augmentation [B, H·W] → [B, H·W] drawing from `rng` (the trainer's `augment`). */
export type ViewTransform = (x: Tensor, rng: Rng) => Tensor;

/**
 * The view augmentation a spec names, for 28×28 images; `undefined` for `none`. A spec is one
 * or more of these joined by `+`, applied left to right:
 *
 * | part | what |
 * |---|---|
 * | `none` | nothing (the two Poisson encodings are the only difference between the views) |
 * | `shift:K` | {@link randomShift} by up to K pixels |
 * | `crop` / `crop:S` | {@link randomResizedCrop} of area fraction [0.6, 1] / [S, 1] |
 * | `affine` / `affine:R,T` | {@link randomAffine}: ±10°, ±3 px / ±R°, ±T px (scale 0.85–1.1) |
 * | `flip` | {@link randomHorizontalFlip} with p = 0.5 |
 * | `jitter` / `jitter:B,C` | {@link colorJitter} with brightness and contrast 0.4 / B, C |
 * | `erase` / `erase:P` | {@link randomErasing} with p = 0.5 / P |
 *
 * Anything else is an `OptionError` naming the part.
 *
 * @example
 * ```ts
 * const augment = parseAugmentation('crop:0.5+flip+jitter'); // Fashion-MNIST-style views
 * const v = augment!(images, rng);
 * ```
 */
export function parseAugmentation(spec: string): ViewTransform | undefined {
  const num = '(\\d+(?:\\.\\d+)?)';
  const steps: ViewTransform[] = [];
  for (const part of spec.split('+')) {
    let m: RegExpExecArray | null;
    if (part === 'none') {
      if (spec !== 'none') throw new OptionError(`augmentation: 'none' cannot be combined with other parts, got '${spec}'`);
    } else if ((m = /^shift:(\d+)$/.exec(part))) {
      const k = Number(m[1]);
      steps.push((x, rng) => randomShift(x, { maxShift: k, rng }));
    } else if ((m = new RegExp(`^crop(?::${num})?$`).exec(part))) {
      const s = m[1] === undefined ? 0.6 : Number(m[1]);
      if (!(s > 0 && s <= 1)) throw new OptionError(`augmentation: crop:S needs 0 < S ≤ 1, got '${part}'`);
      steps.push((x, rng) => randomResizedCrop(x, { scale: [s, 1], rng }));
    } else if ((m = new RegExp(`^affine(?::${num},${num})?$`).exec(part))) {
      const degrees = m[1] === undefined ? 10 : Number(m[1]);
      const translate = m[2] === undefined ? 3 : Number(m[2]);
      steps.push((x, rng) => randomAffine(x, { degrees, translate, rng }));
    } else if (part === 'flip') {
      steps.push((x, rng) => randomHorizontalFlip(x, { rng }));
    } else if ((m = new RegExp(`^jitter(?::${num},${num})?$`).exec(part))) {
      const brightness = m[1] === undefined ? 0.4 : Number(m[1]);
      const contrast = m[2] === undefined ? 0.4 : Number(m[2]);
      if (brightness > 1 || contrast > 1) throw new OptionError(`augmentation: jitter:B,C needs B, C in [0, 1], got '${part}'`);
      steps.push((x, rng) => colorJitter(x, { brightness, contrast, rng }));
    } else if ((m = new RegExp(`^erase(?::${num})?$`).exec(part))) {
      const p = m[1] === undefined ? 0.5 : Number(m[1]);
      if (p > 1) throw new OptionError(`augmentation: erase:P needs P in [0, 1], got '${part}'`);
      steps.push((x, rng) => randomErasing(x, { p, rng }));
    } else {
      throw new OptionError(
        `augmentation: unknown part '${part}' in '${spec}'; expected none, shift:K, crop, crop:S, affine, affine:R,T, flip, jitter, jitter:B,C, erase or erase:P joined by '+'`,
      );
    }
  }
  if (steps.length === 0) return undefined;
  if (steps.length === 1) return steps[0];
  return (x, rng) => steps.reduce((v, f) => f(v, rng), x);
}
