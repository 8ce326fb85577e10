/**
 * The kernels behind the fused `conv2d` op: a plan (geometry, chunking, dense or event-driven
 * route), the forward by im2col + GEMM or by events, and the three gradients. Raw loops
 * only; the autograd rule that calls them is `conv2d` in ../autograd/fused.ts.
 */
import { type WindowGeometry, col2im, im2col } from './conv';
import { convolveEvents, eventWeights, eventWeightsBack, sparsity, transposedGeometry, weightGradEvents } from './eventconv';
import { gemm } from './gemm';
import { EVENT_MAX_DENSITY } from './linear';

/**
 * Floats of im2col buffer per chunk of images: several images share one GEMM (wider
 * matrices amortise the GEMM's overhead) while the buffer stays in cache. 2^18 floats (1 MiB)
 * measured best among 1 image, 2^16, 2^18 and 2^20 floats on the conv encoder's shapes
 * (bench/layers.ts), though within the noise of a shared machine.
 */
const COL_BUDGET = 1 << 18;

/**
 * The event lists of one image hold room for every (position, tap) pair: beyond this many
 * entries (48 MiB of scratch) a convolution takes the dense route instead. The conv encoder's
 * largest, 28·28 positions × 25 taps or 14·14 × 800, are far below it.
 */
const EVENT_LIST_MAX = 1 << 22;

/** How one convolution runs: its geometry, images per GEMM, and whether it goes event-driven. */
export interface ConvPlan {
  readonly geo: WindowGeometry;
  readonly nImg: number;
  readonly imgSize: number;
  readonly outC: number;
  readonly ckk: number;
  readonly l: number;
  readonly chunk: number;
  /** The input is sparse enough and the stride 1: the forward and dW go event-driven. */
  readonly events: boolean;
  /** Every nonzero of the input is 1 (spikes): the event kernels add without multiplying. */
  readonly unit: boolean;
}

/** The event-driven kernels (./eventconv.ts) handle stride 1 only. */
function stride1(g: WindowGeometry): boolean {
  return g.sh === 1 && g.sw === 1;
}

/** Plans the convolution of nImg images x (flat, nImg·C·H·W floats) with outC filters of geometry `geo`. */
export function planConv(x: Float32Array, nImg: number, geo: WindowGeometry, outC: number): ConvPlan {
  const l = geo.oh * geo.ow;
  const ckk = geo.c * geo.kh * geo.kw;
  // The density pass only where the event route could apply.
  const sparse = stride1(geo) && l * ckk <= EVENT_LIST_MAX ? sparsity(x, 0, x.length) : null;
  return {
    geo,
    nImg,
    imgSize: geo.c * geo.h * geo.w,
    outC,
    ckk,
    l,
    chunk: Math.max(1, Math.min(nImg, Math.floor(COL_BUDGET / Math.max(1, ckk * l)))),
    events: sparse !== null && sparse.nonzeros <= EVENT_MAX_DENSITY * x.length,
    unit: sparse?.unit ?? false,
  };
}

/** y [nImg, outC, L] = conv(x, W) + b by the route the plan chose. */
export function convForward(x: Float32Array, w: Float32Array, b: Float32Array | null, p: ConvPlan, y: Float32Array): void {
  if (p.events) convEvents(x, w, b, p, y);
  else convDense(x, w, b, p, y);
}

/** Gathers images n0..n0+nb−1 of a [n, outC, L] tensor into [outC, nb·L]. */
function gatherChunk(src: Float32Array, dst: Float32Array, n0: number, nb: number, outC: number, l: number): void {
  const ld = nb * l;
  for (let j = 0; j < nb; j++) {
    for (let o = 0; o < outC; o++) {
      const s = ((n0 + j) * outC + o) * l;
      dst.set(src.subarray(s, s + l), o * ld + j * l);
    }
  }
}

/** y = conv(x, W) + b by im2col + GEMM, a chunk of images per GEMM. */
function convDense(x: Float32Array, w: Float32Array, b: Float32Array | null, p: ConvPlan, y: Float32Array): void {
  const { geo, nImg, imgSize, outC, ckk, l, chunk } = p;
  const col = new Float32Array(ckk * chunk * l);
  const tmp = new Float32Array(outC * chunk * l);
  for (let n0 = 0; n0 < nImg; n0 += chunk) {
    const nb = Math.min(chunk, nImg - n0);
    const ld = nb * l;
    for (let j = 0; j < nb; j++) im2col(x, (n0 + j) * imgSize, geo, col, j * l, ld);
    gemm(false, false, outC, ld, ckk, w, 0, ckk, col, 0, ld, tmp, 0, ld, false);
    for (let j = 0; j < nb; j++) {
      for (let o = 0; o < outC; o++) {
        const src = o * ld + j * l;
        const dst = ((n0 + j) * outC + o) * l;
        const bo = b !== null ? b[o] : 0;
        for (let k = 0; k < l; k++) y[dst + k] = tmp[src + k] + bo;
      }
    }
  }
}

/** y = conv(x, W) + b for a sparse x, image by image: each output sums the weight rows its nonzero inputs meet. */
function convEvents(x: Float32Array, w: Float32Array, b: Float32Array | null, p: ConvPlan, y: Float32Array): void {
  const { geo, nImg, imgSize, outC } = p;
  convolveEvents(x, imgSize, nImg, geo, eventWeights(w, outC, geo.c, geo.kh, geo.kw, false), outC, b, y, p.unit);
}

/** dX for a sparse output gradient (as after max pooling): the convolution of G with the flipped, transposed kernel. */
function convInputGradEvents(gd: Float32Array, w: Float32Array, p: ConvPlan, dx: Float32Array): void {
  const { geo, nImg, outC, l } = p;
  convolveEvents(gd, outC * l, nImg, transposedGeometry(geo, outC), eventWeights(w, outC, geo.c, geo.kh, geo.kw, true), geo.c, null, dx, false);
}

/** dW = Σ_images G·colᵀ for a sparse x: for each kernel tap, the output gradients at the nonzeros it met. */
function convWeightGradEvents(gd: Float32Array, x: Float32Array, p: ConvPlan): Float32Array {
  const { geo, nImg, imgSize, outC } = p;
  return eventWeightsBack(weightGradEvents(gd, x, imgSize, nImg, geo, outC, p.unit), outC, geo.c, geo.kh, geo.kw);
}

/** The gradients of a convolution, each null unless asked for. */
export interface ConvGrads {
  dx: Float32Array | null;
  dw: Float32Array | null;
  db: Float32Array | null;
}

/**
 * dW = G·colᵀ, dX = col2im(Wᵀ·G) and db = Σ G for the output gradient `gd` [nImg, outC, L]
 * of the convolution planned by `p` (event-driven where the plan or G's sparsity allows).
 */
export function convBackward(gd: Float32Array, x: Float32Array, w: Float32Array, p: ConvPlan, want: { x: boolean; w: boolean; b: boolean }): ConvGrads {
  const { geo, nImg, imgSize, outC, ckk, l, chunk, events } = p;
  const dx = want.x ? new Float32Array(nImg * imgSize) : null;
  const dw = !want.w ? null : events ? convWeightGradEvents(gd, x, p) : new Float32Array(w.length);
  const denseDw = dw !== null && !events;
  // The output gradient of a max-pooled convolution is zero but at one position per window.
  const sparseDx =
    dx !== null && stride1(geo) && geo.h * geo.w * outC * geo.kh * geo.kw <= EVENT_LIST_MAX && sparsity(gd, 0, gd.length).nonzeros <= EVENT_MAX_DENSITY * gd.length;
  if (dx && sparseDx) convInputGradEvents(gd, w, p, dx);
  const denseDx = dx !== null && !sparseDx;
  if (denseDw || denseDx) {
    const gc = new Float32Array(outC * chunk * l);
    const col = denseDw ? new Float32Array(ckk * chunk * l) : null;
    const dcol = denseDx ? new Float32Array(ckk * chunk * l) : null;
    for (let n0 = 0; n0 < nImg; n0 += chunk) {
      const nb = Math.min(chunk, nImg - n0);
      const ld = nb * l;
      gatherChunk(gd, gc, n0, nb, outC, l);
      if (dw && col) {
        // dW[O, CKK] += G[O, ld]·colᵀ
        for (let j = 0; j < nb; j++) im2col(x, (n0 + j) * imgSize, geo, col, j * l, ld);
        gemm(false, true, outC, ckk, ld, gc, 0, ld, col, 0, ld, dw, 0, ckk, n0 > 0);
      }
      if (dx && dcol) {
        // dcol[CKK, ld] = Wᵀ·G, folded back onto the images.
        gemm(true, false, ckk, ld, outC, w, 0, ckk, gc, 0, ld, dcol, 0, ld, false);
        for (let j = 0; j < nb; j++) col2im(dcol, j * l, ld, geo, dx, (n0 + j) * imgSize);
      }
    }
  }
  let db: Float32Array | null = null;
  if (want.b) {
    const acc = new Float64Array(outC);
    for (let n = 0; n < nImg; n++) {
      for (let o = 0; o < outC; o++) {
        const base = (n * outC + o) * l;
        let s = 0;
        for (let k = 0; k < l; k++) s += gd[base + k];
        acc[o] += s;
      }
    }
    db = Float32Array.from(acc);
  }
  return { dx, dw, db };
}
