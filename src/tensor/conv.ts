/**
 * Window kernels over image planes: im2col / col2im (convolution as a GEMM) and 2-D max and
 * average pooling. No autograd here; they work on Float32Arrays with offsets, like `gemm`,
 * so a caller can lay several images side by side in one column buffer.
 */
import { OptionError, ShapeError } from '../errors';

/** The geometry of a 2-D window sweep (convolution or pooling) over one [C, H, W] image. */
export interface WindowGeometry {
  /** Channels (planes) per image. */
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly kh: number;
  readonly kw: number;
  readonly sh: number;
  readonly sw: number;
  /** Zero (conv) or −∞ (max pool) padding added on each side. */
  readonly ph: number;
  readonly pw: number;
  /** Output size: ⌊(h + 2·ph − kh)/sh⌋ + 1 and likewise for the width. */
  readonly oh: number;
  readonly ow: number;
}

/** A size given once for both axes, or as [height, width]. */
export type Pair = number | readonly [number, number];

/** Expands a {@link Pair} into [height, width], checking each is an integer ≥ `min`. */
export function toPair(v: Pair, name: string, op: string, min: number): [number, number] {
  if (!Array.isArray(v) && typeof v !== 'number') throw new OptionError(`${op}: ${name} must be a number or [h, w], got ${String(v)}`);
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (typeof v !== 'number' && v.length !== 2) throw new OptionError(`${op}: ${name} must be a number or [h, w], got ${JSON.stringify(v)}`);
  for (const x of p) {
    if (!Number.isInteger(x) || x < min) throw new OptionError(`${op}: ${name} must be an integer ≥ ${min} (or a pair of them), got ${JSON.stringify(v)}`);
  }
  return p;
}

/**
 * The output size of a window sweep; a ShapeError when the (padded) input is smaller than
 * the window, so no output position exists.
 */
export function windowGeometry(
  op: string,
  c: number,
  h: number,
  w: number,
  kernel: Pair,
  stride: Pair,
  padding: Pair,
): WindowGeometry {
  const [kh, kw] = toPair(kernel, 'kernel size', op, 1);
  const [sh, sw] = toPair(stride, 'stride', op, 1);
  const [ph, pw] = toPair(padding, 'padding', op, 0);
  const oh = Math.floor((h + 2 * ph - kh) / sh) + 1;
  const ow = Math.floor((w + 2 * pw - kw) / sw) + 1;
  if (h + 2 * ph < kh || w + 2 * pw < kw) {
    throw new ShapeError(`${op}: the ${kh}×${kw} window does not fit the ${h}×${w} input with padding ${ph}×${pw}`);
  }
  return { c, h, w, kh, kw, sh, sw, ph, pw, oh, ow };
}

/**
 * Unfolds one image x[c, h, w] (starting at `xOff`) into columns: row (c·kh + i)·kw + j,
 * column oy·ow + ox of `col` (leading dimension `ldc`, starting at `colOff`) holds
 * x[c, oy·sh − ph + i, ox·sw − pw + j], or 0 where that falls in the padding. A convolution
 * is then W[out, c·kh·kw] · col.
 */
export function im2col(x: Float32Array, xOff: number, g: WindowGeometry, col: Float32Array, colOff: number, ldc: number): void {
  const { c, h, w, kh, kw, sh, sw, ph, pw, oh, ow } = g;
  for (let ch = 0; ch < c; ch++) {
    const plane = xOff + ch * h * w;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const row = colOff + ((ch * kh + i) * kw + j) * ldc;
        // Output columns whose input column ox·sw − pw + j lies inside [0, w).
        const oxLo = Math.min(ow, Math.max(0, Math.ceil((pw - j) / sw)));
        const oxHi = Math.max(oxLo, Math.min(ow, Math.floor((w - 1 + pw - j) / sw) + 1));
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * sh - ph + i;
          const dst = row + oy * ow;
          if (iy < 0 || iy >= h) {
            col.fill(0, dst, dst + ow);
            continue;
          }
          const src = plane + iy * w - pw + j;
          for (let ox = 0; ox < oxLo; ox++) col[dst + ox] = 0;
          for (let ox = oxLo; ox < oxHi; ox++) col[dst + ox] = x[src + ox * sw];
          for (let ox = oxHi; ox < ow; ox++) col[dst + ox] = 0;
        }
      }
    }
  }
}

/**
 * The adjoint of {@link im2col}: adds every column entry back into the image position it
 * was read from (entries that came from the padding are dropped). Accumulates into `dx`.
 */
export function col2im(col: Float32Array, colOff: number, ldc: number, g: WindowGeometry, dx: Float32Array, dxOff: number): void {
  const { c, h, w, kh, kw, sh, sw, ph, pw, oh, ow } = g;
  for (let ch = 0; ch < c; ch++) {
    const plane = dxOff + ch * h * w;
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const row = colOff + ((ch * kh + i) * kw + j) * ldc;
        const oxLo = Math.min(ow, Math.max(0, Math.ceil((pw - j) / sw)));
        const oxHi = Math.max(oxLo, Math.min(ow, Math.floor((w - 1 + pw - j) / sw) + 1));
        for (let oy = 0; oy < oh; oy++) {
          const iy = oy * sh - ph + i;
          if (iy < 0 || iy >= h) continue;
          const src = row + oy * ow;
          const dst = plane + iy * w - pw + j;
          for (let ox = oxLo; ox < oxHi; ox++) dx[dst + ox * sw] += col[src + ox];
        }
      }
    }
  }
}

/** PyTorch's rule for pooling: padding may be at most half the window on each axis. */
export function checkPoolPadding(g: WindowGeometry, op: string): void {
  if (2 * g.ph > g.kh || 2 * g.pw > g.kw) {
    throw new OptionError(`${op}: padding ${g.ph}×${g.pw} must be at most half the ${g.kh}×${g.kw} window`);
  }
}

/**
 * Max pooling of `planes` planes of g.h × g.w each (g.c is ignored): out[p, oy, ox] is the
 * maximum of the window, padding counting as −∞. `argmax` receives, per output element,
 * the flat index into `x` of the first maximal element of its window in row-major order
 * (a NaN wins, as in PyTorch), which is where the gradient goes.
 */
export function maxPool2dPlanes(x: Float32Array, planes: number, g: WindowGeometry, out: Float32Array, argmax: Int32Array): void {
  const { h, w, kh, kw, sh, sw, ph, pw, oh, ow } = g;
  if (kh === 2 && kw === 2 && sh === 2 && sw === 2 && ph === 0 && pw === 0) {
    maxPool2x2(x, planes, g, out, argmax);
    return;
  }
  for (let p = 0; p < planes; p++) {
    const plane = p * h * w;
    let o = p * oh * ow;
    for (let oy = 0; oy < oh; oy++) {
      const y0 = Math.max(0, oy * sh - ph);
      const y1 = Math.min(h, oy * sh - ph + kh);
      for (let ox = 0; ox < ow; ox++, o++) {
        const x0 = Math.max(0, ox * sw - pw);
        const x1 = Math.min(w, ox * sw - pw + kw);
        let best = -Infinity;
        let bi = plane + y0 * w + x0;
        for (let y = y0; y < y1; y++) {
          const r = plane + y * w;
          for (let xx = x0; xx < x1; xx++) {
            const v = x[r + xx];
            if (v > best || v !== v) {
              best = v;
              bi = r + xx;
            }
          }
        }
        out[o] = best;
        argmax[o] = bi;
      }
    }
  }
}

/** The adjoint of {@link maxPool2dPlanes}: each output gradient goes to its window's `argmax`. Accumulates into `dx`. */
export function maxPool2dPlanesBackward(gOut: Float32Array, argmax: Int32Array, dx: Float32Array): void {
  for (let i = 0; i < argmax.length; i++) dx[argmax[i]] += gOut[i];
}

/**
 * {@link maxPool2dPlanes} for the 2×2 window, stride 2, no padding — the conv encoder's — without
 * branches on the data (spikes make the generic loop's comparisons unpredictable): the maximum
 * by Math.max, its first position by arithmetic on the comparisons. Same results, NaN included.
 */
function maxPool2x2(x: Float32Array, planes: number, g: WindowGeometry, out: Float32Array, argmax: Int32Array): void {
  const { h, w, oh, ow } = g;
  let o = 0;
  for (let p = 0; p < planes; p++) {
    for (let oy = 0; oy < oh; oy++) {
      let i0 = p * h * w + 2 * oy * w;
      for (let ox = 0; ox < ow; ox++, o++, i0 += 2) {
        const a = x[i0];
        const b = x[i0 + 1];
        const c = x[i0 + w];
        const d = x[i0 + w + 1];
        const m = Math.max(Math.max(a, b), Math.max(c, d));
        // The first of a, b, c, d equal to m: i0, i0 + 1, i0 + w or i0 + w + 1.
        let at = i0 + +(a !== m) * (1 + +(b !== m) * (w - 1 + +(c !== m)));
        // A NaN wins: the last one, as the generic loop takes it.
        if (m !== m) at = d !== d ? i0 + w + 1 : c !== c ? i0 + w : b !== b ? i0 + 1 : i0;
        out[o] = x[at];
        argmax[o] = at;
      }
    }
  }
}

/**
 * Average pooling of `planes` planes of g.h × g.w: the window's sum divided by kh·kw
 * (`countIncludePad`, PyTorch's default) or by the number of non-padding elements.
 */
export function avgPool2dPlanes(x: Float32Array, planes: number, g: WindowGeometry, out: Float32Array, countIncludePad: boolean): void {
  const { h, w, kh, kw, sh, sw, ph, pw, oh, ow } = g;
  for (let p = 0; p < planes; p++) {
    const plane = p * h * w;
    let o = p * oh * ow;
    for (let oy = 0; oy < oh; oy++) {
      const y0 = Math.max(0, oy * sh - ph);
      const y1 = Math.min(h, oy * sh - ph + kh);
      for (let ox = 0; ox < ow; ox++, o++) {
        const x0 = Math.max(0, ox * sw - pw);
        const x1 = Math.min(w, ox * sw - pw + kw);
        let s = 0;
        for (let y = y0; y < y1; y++) {
          const r = plane + y * w;
          for (let xx = x0; xx < x1; xx++) s += x[r + xx];
        }
        out[o] = s / (countIncludePad ? kh * kw : (y1 - y0) * (x1 - x0));
      }
    }
  }
}

/** The adjoint of {@link avgPool2dPlanes}: spreads each output gradient evenly over its window. Accumulates into `dx`. */
export function avgPool2dPlanesBackward(gOut: Float32Array, planes: number, g: WindowGeometry, dx: Float32Array, countIncludePad: boolean): void {
  const { h, w, kh, kw, sh, sw, ph, pw, oh, ow } = g;
  for (let p = 0; p < planes; p++) {
    const plane = p * h * w;
    let o = p * oh * ow;
    for (let oy = 0; oy < oh; oy++) {
      const y0 = Math.max(0, oy * sh - ph);
      const y1 = Math.min(h, oy * sh - ph + kh);
      for (let ox = 0; ox < ow; ox++, o++) {
        const x0 = Math.max(0, ox * sw - pw);
        const x1 = Math.min(w, ox * sw - pw + kw);
        const v = gOut[o] / (countIncludePad ? kh * kw : (y1 - y0) * (x1 - x0));
        for (let y = y0; y < y1; y++) {
          const r = plane + y * w;
          for (let xx = x0; xx < x1; xx++) dx[r + xx] += v;
        }
      }
    }
  }
}
