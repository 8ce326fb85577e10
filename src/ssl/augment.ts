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
