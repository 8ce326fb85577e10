/** conv2d and pooling against direct nested loops, finite differences, and time folding. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AvgPool2d, Conv2d, MaxPool2d, OptionError, Rng, ShapeError, Tensor, avgPool2d, backward, conv2d, maxPool2d, mul, sum } from '../../src/index';
import { windowGeometry } from '../../src/tensor/conv';
import { convolveEvents, eventWeights, transposedGeometry, weightGradEvents } from '../../src/tensor/eventconv';
import { useWasmKernels } from '../../src/tensor/wasm';
import { gradcheck } from '../helpers/gradcheck';
import { firstMismatch, randomTensor } from '../helpers/reference';

/**
 * Direct convolution: out[n,o,y,x] = b[o] + Σ_c,i,j w[o,c,i,j]·x[n,c,y·sh−ph+i, x·sw−pw+j] (zero
 * outside), in float64 — or, with `float32`, as the WebAssembly event kernel documents its sums:
 * from the bias, adding value · weight for each nonzero input in (channel, row, column) order
 * (which c, i, j ascending is), every operation rounded to float32.
 */
function convReference(x: Tensor, w: Tensor, b: Tensor | null, sh: number, sw: number, ph: number, pw: number, float32 = false): { data: Float64Array; shape: number[] } {
  const [n, c, h, wd] = x.shape;
  const [o, , kh, kw] = w.shape;
  const oh = Math.floor((h + 2 * ph - kh) / sh) + 1;
  const ow = Math.floor((wd + 2 * pw - kw) / sw) + 1;
  const out = new Float64Array(n * o * oh * ow);
  for (let ni = 0; ni < n; ni++)
    for (let oi = 0; oi < o; oi++)
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++) {
          let s = b ? b.data[oi] : 0;
          for (let ci = 0; ci < c; ci++)
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const iy = y * sh - ph + i;
                const ix = xx * sw - pw + j;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                const v = x.data[((ni * c + ci) * h + iy) * wd + ix];
                const t = w.data[((oi * c + ci) * kh + i) * kw + j] * v;
                if (!float32) s += t;
                else if (v !== 0) s = Math.fround(s + Math.fround(t));
              }
          out[((ni * o + oi) * oh + y) * ow + xx] = s;
        }
  return { data: out, shape: [n, o, oh, ow] };
}

/** Direct pooling over [P, H, W] planes; max treats padding as −∞, avg divides by kh·kw or the covered count. */
function poolReference(x: Tensor, kind: 'max' | 'avg', kh: number, kw: number, sh: number, sw: number, ph: number, pw: number, countIncludePad = true): Float64Array {
  const h = x.shape[x.ndim - 2];
  const w = x.shape[x.ndim - 1];
  const planes = x.size / (h * w);
  const oh = Math.floor((h + 2 * ph - kh) / sh) + 1;
  const ow = Math.floor((w + 2 * pw - kw) / sw) + 1;
  const out = new Float64Array(planes * oh * ow);
  for (let p = 0; p < planes; p++)
    for (let y = 0; y < oh; y++)
      for (let xx = 0; xx < ow; xx++) {
        let best = -Infinity;
        let s = 0;
        let count = 0;
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++) {
            const iy = y * sh - ph + i;
            const ix = xx * sw - pw + j;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            const v = x.data[(p * h + iy) * w + ix];
            best = Math.max(best, v);
            s += v;
            count++;
          }
        out[(p * oh + y) * ow + xx] = kind === 'max' ? best : s / (countIncludePad ? kh * kw : count);
      }
  return out;
}

/** A convolution case: shapes, stride and padding such that the window fits. */
const convCase = fc
  .record({
    n: fc.integer({ min: 1, max: 3 }),
    c: fc.integer({ min: 1, max: 3 }),
    o: fc.integer({ min: 1, max: 3 }),
    h: fc.integer({ min: 1, max: 7 }),
    w: fc.integer({ min: 1, max: 7 }),
    sh: fc.integer({ min: 1, max: 3 }),
    sw: fc.integer({ min: 1, max: 3 }),
    ph: fc.integer({ min: 0, max: 2 }),
    pw: fc.integer({ min: 0, max: 2 }),
    fkh: fc.double({ min: 0, max: 1, noNaN: true }),
    fkw: fc.double({ min: 0, max: 1, noNaN: true }),
    bias: fc.boolean(),
    seed: fc.integer(),
  })
  .map((r) => ({ ...r, kh: 1 + Math.floor(r.fkh * (r.h + 2 * r.ph - 1)), kw: 1 + Math.floor(r.fkw * (r.w + 2 * r.pw - 1)) }));

/** Sparse convolution cases: spikes or sparse reals, paddings up to 5 (beyond the kernel). */
const sparseCase = fc.record({
  n: fc.integer({ min: 1, max: 3 }),
  c: fc.integer({ min: 1, max: 4 }),
  o: fc.integer({ min: 1, max: 11 }),
  h: fc.integer({ min: 1, max: 9 }),
  w: fc.integer({ min: 1, max: 9 }),
  k: fc.integer({ min: 1, max: 5 }),
  ph: fc.integer({ min: 0, max: 5 }),
  pw: fc.integer({ min: 0, max: 5 }),
  density: fc.double({ min: 0, max: 0.45, noNaN: true }),
  spikes: fc.boolean(),
  bias: fc.boolean(),
  seed: fc.integer(),
});

/** A sparse case's x, W, b and a sparse output gradient (about a quarter nonzero, as after a 2×2 max pool). */
function sparseProblem(r: typeof sparseCase extends fc.Arbitrary<infer T> ? T : never) {
  const kh = Math.min(r.k, r.h + 2 * r.ph);
  const kw = Math.min(r.k, r.w + 2 * r.pw);
  const rng = new Rng(r.seed);
  const xs = [r.n, r.c, r.h, r.w];
  const xd = Float32Array.from({ length: xs.reduce((a, b) => a * b) }, () => (rng.uniform() < r.density ? (r.spikes ? 1 : rng.uniformRange(-2, 2)) : 0));
  const w = randomTensor([r.o, r.c, kh, kw], r.seed + 1).data;
  const b = r.bias ? randomTensor([r.o], r.seed + 2).data : null;
  return { kh, kw, rng, xs, xd, w, b };
}

describe('conv2d', () => {
  it('matches a direct nested-loop convolution over random shapes, strides and paddings', () => {
    fc.assert(
      fc.property(convCase, (r) => {
        const x = randomTensor([r.n, r.c, r.h, r.w], r.seed);
        const w = randomTensor([r.o, r.c, r.kh, r.kw], r.seed + 1);
        const b = r.bias ? randomTensor([r.o], r.seed + 2) : null;
        const y = conv2d(x, w, b, { stride: [r.sh, r.sw], padding: [r.ph, r.pw] });
        const ref = convReference(x, w, b, r.sh, r.sw, r.ph, r.pw);
        expect(y.shape).toEqual(ref.shape);
        expect(firstMismatch(y.data, ref.data, 1e-5, 1e-5)).toBe(-1);
      }),
      { numRuns: 150, seed: 1 },
    );
  });

  it('handles batch 1, 1×1 kernels and a kernel the size of the input', () => {
    const cases: Array<[number[], number[], number, number]> = [
      [[1, 2, 5, 4], [3, 2, 1, 1], 1, 0], // 1×1 kernel, batch 1
      [[2, 3, 4, 5], [2, 3, 4, 5], 1, 0], // kernel = input: a 1×1 output
      [[1, 1, 3, 3], [1, 1, 5, 5], 1, 1], // kernel = padded input
      [[1, 1, 1, 1], [2, 1, 1, 1], 2, 0],
    ];
    cases.forEach(([xs, ws, s, p], k) => {
      const x = randomTensor(xs, 10 + k);
      const w = randomTensor(ws, 20 + k);
      const ref = convReference(x, w, null, s, s, p, p);
      const y = conv2d(x, w, null, { stride: s, padding: p });
      expect(y.shape).toEqual(ref.shape);
      expect(firstMismatch(y.data, ref.data, 1e-5, 1e-5)).toBe(-1);
    });
    // An empty batch gives an empty result of the right shape, and empty gradients.
    const empty = new Tensor(new Float32Array(0), [0, 2, 5, 4], { requiresGrad: true });
    const y = conv2d(empty, randomTensor([3, 2, 3, 3], 1), null, { padding: 1 });
    expect(y.shape).toEqual([0, 3, 5, 4]);
    backward(sum(y));
    expect(empty.grad!.shape).toEqual([0, 2, 5, 4]);
    expect(maxPool2d(empty, 2).shape).toEqual([0, 2, 2, 2]);
  });

  it('passes finite differences for x, W and b', () => {
    fc.assert(
      fc.property(convCase, (r) => {
        const small = { ...r, n: Math.min(r.n, 2), h: Math.min(r.h, 5), w: Math.min(r.w, 5) };
        const kh = Math.min(r.kh, small.h + 2 * r.ph);
        const kw = Math.min(r.kw, small.w + 2 * r.pw);
        const res = gradcheck((x, w, b) => conv2d(x, w, b, { stride: [r.sh, r.sw], padding: [r.ph, r.pw] }), [
          randomTensor([small.n, r.c, small.h, small.w], r.seed),
          randomTensor([r.o, r.c, kh, kw], r.seed + 1),
          randomTensor([r.o], r.seed + 2),
        ]);
        expect(res.ok, res.detail).toBe(true);
      }),
      { numRuns: 25, seed: 1 },
    );
  });

  it('folds [T, N, C, H, W] into the batch and keeps the leading axes; [C, H, W] is one image', () => {
    const x = randomTensor([3, 2, 2, 6, 6], 1);
    const w = randomTensor([4, 2, 3, 3], 2);
    const b = randomTensor([4], 3);
    const y = conv2d(x, w, b, { padding: 1, stride: 2 });
    expect(y.shape).toEqual([3, 2, 4, 3, 3]);
    const ref = convReference(new Tensor(x.data, [6, 2, 6, 6]), w, b, 2, 2, 1, 1);
    expect(firstMismatch(y.data, ref.data, 1e-5, 1e-5)).toBe(-1);
    const single = conv2d(new Tensor(x.data.slice(0, 72), [2, 6, 6]), w, b, { padding: 1, stride: 2 });
    expect(single.shape).toEqual([4, 3, 3]);
    expect(firstMismatch(single.data, ref.data.slice(0, 36), 1e-5, 1e-5)).toBe(-1);
  });

  it('gives the same forward and gradients when the batch spans several im2col chunks', () => {
    // 16·3·3 rows × 26·26 columns per image: the column buffer (2^18 floats) holds 2 images, so 5 images take 3 chunks (2, 2, 1).
    const x = randomTensor([5, 16, 28, 28], 4);
    const w = randomTensor([2, 16, 3, 3], 5);
    const b = randomTensor([2], 6);
    const xl = new Tensor(x.data.slice(), x.shape, { requiresGrad: true });
    const wl = new Tensor(w.data.slice(), w.shape, { requiresGrad: true });
    const bl = new Tensor(b.data.slice(), b.shape, { requiresGrad: true });
    const y = conv2d(xl, wl, bl);
    const ref = convReference(x, w, b, 1, 1, 0, 0);
    expect(firstMismatch(y.data, ref.data, 1e-4, 1e-4)).toBe(-1);
    const g = randomTensor(y.shape, 7);
    backward(y, g);
    // Reference gradients, image by image (each image a single chunk): dW and db are sums over images.
    const dw = new Float64Array(w.size);
    const db = new Float64Array(2);
    for (let n = 0; n < 5; n++) {
      const xi = new Tensor(x.data.slice(n * 16 * 784, (n + 1) * 16 * 784), [1, 16, 28, 28], { requiresGrad: true });
      const wi = new Tensor(w.data.slice(), w.shape, { requiresGrad: true });
      const bi = new Tensor(b.data.slice(), b.shape, { requiresGrad: true });
      const yi = conv2d(xi, wi, bi);
      backward(yi, new Tensor(g.data.slice(n * 2 * 676, (n + 1) * 2 * 676), yi.shape));
      wi.grad!.data.forEach((v, k) => (dw[k] += v));
      bi.grad!.data.forEach((v, k) => (db[k] += v));
      expect(firstMismatch(xl.grad!.data.subarray(n * 16 * 784, (n + 1) * 16 * 784), xi.grad!.data, 1e-5, 1e-5)).toBe(-1);
    }
    expect(firstMismatch(wl.grad!.data, dw, 1e-4, 1e-3)).toBe(-1);
    expect(firstMismatch(bl.grad!.data, db, 1e-4, 1e-3)).toBe(-1);
  });

  it('takes the event-driven route for sparse inputs and sparse output gradients (stride 1), with the same results', () => {
    // Spikes (0/1) or sparse reals; the output gradient zero but at about a quarter of the
    // positions, as after a 2×2 max pool. References: the direct loops, in float64.
    fc.assert(
      fc.property(sparseCase, (r) => {
        const p = sparseProblem(r);
        const { kh, kw, rng, xs, xd } = p;
        const x = new Tensor(xd, xs, { requiresGrad: true, binary: r.spikes });
        const w = new Tensor(p.w, [r.o, r.c, kh, kw], { requiresGrad: true });
        const b = p.b && new Tensor(p.b, [r.o]);
        const y = conv2d(x, w, b, { padding: [r.ph, r.pw] });
        const ref = convReference(x, w, b, 1, 1, r.ph, r.pw);
        expect(y.shape).toEqual(ref.shape);
        expect(firstMismatch(y.data, ref.data, 1e-5, 1e-5)).toBe(-1);
        const g = Float32Array.from({ length: y.size }, () => (rng.uniform() < 0.25 ? rng.uniformRange(-1, 1) : 0));
        backward(y, new Tensor(g, y.shape));
        const [, , oh, ow] = y.shape;
        const dx = new Float64Array(x.size);
        const dw = new Float64Array(w.size);
        for (let ni = 0; ni < r.n; ni++)
          for (let oi = 0; oi < r.o; oi++)
            for (let yy = 0; yy < oh; yy++)
              for (let xx = 0; xx < ow; xx++) {
                const gv = g[((ni * r.o + oi) * oh + yy) * ow + xx];
                for (let ci = 0; ci < r.c; ci++)
                  for (let i = 0; i < kh; i++)
                    for (let j = 0; j < kw; j++) {
                      const iy = yy - r.ph + i;
                      const ix = xx - r.pw + j;
                      if (iy < 0 || iy >= r.h || ix < 0 || ix >= r.w) continue;
                      const xi = ((ni * r.c + ci) * r.h + iy) * r.w + ix;
                      const wi = ((oi * r.c + ci) * kh + i) * kw + j;
                      dx[xi] += gv * w.data[wi];
                      dw[wi] += gv * xd[xi];
                    }
              }
        expect(firstMismatch(x.grad!.data, dx, 1e-5, 1e-5)).toBe(-1);
        expect(firstMismatch(w.grad!.data, dw, 1e-5, 1e-5)).toBe(-1);
      }),
      { numRuns: 150, seed: 2 },
    );
  });

  it('the event kernels: WebAssembly sums in their float32 order, TypeScript sums close to them, the weight gradients the same bits', () => {
    expect(useWasmKernels(true)).toBe(true); // else no WebAssembly kernel is tested
    fc.assert(
      fc.property(sparseCase, (r) => {
        const { kh, kw, rng, xd, w, b } = sparseProblem(r);
        const oh = r.h + 2 * r.ph - kh + 1;
        const ow = r.w + 2 * r.pw - kw + 1;
        const g = Float32Array.from({ length: r.n * r.o * oh * ow }, () => (rng.uniform() < 0.25 ? rng.uniformRange(-1, 1) : 0));
        // The event kernels themselves, whatever conv2d's density test would route where.
        const geo = windowGeometry('test', r.c, r.h, r.w, [kh, kw], 1, [r.ph, r.pw]);
        const unit = r.spikes;
        const run = (wasm: boolean) => {
          try {
            useWasmKernels(wasm);
            const y = new Float32Array(r.n * r.o * oh * ow);
            convolveEvents(xd, r.c * r.h * r.w, r.n, geo, eventWeights(w, r.o, r.c, kh, kw, false), r.o, b, y, unit);
            const dx = new Float32Array(xd.length);
            convolveEvents(g, r.o * oh * ow, r.n, transposedGeometry(geo, r.o), eventWeights(w, r.o, r.c, kh, kw, true), r.c, null, dx, false);
            const dw = weightGradEvents(g, xd, r.c * r.h * r.w, r.n, geo, r.o, unit);
            return { y, dx, dw: new Uint32Array(dw.buffer, dw.byteOffset, 2 * dw.length) };
          } finally {
            useWasmKernels(true);
          }
        };
        // dX is the convolution of G with the kernel flipped and its channel axes swapped, padding k − 1 − p.
        const flipped = new Float32Array(w.length);
        for (let o = 0; o < r.o; o++)
          for (let c = 0; c < r.c; c++)
            for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) flipped[((c * r.o + o) * kh + i) * kw + j] = w[((o * r.c + c) * kh + kh - 1 - i) * kw + kw - 1 - j];
        const float32Order = (x: Float32Array, xs: number[], wf: Float32Array, o: number, bias: Float32Array | null, ph: number, pw: number) =>
          Float32Array.from(convReference(new Tensor(x, xs), new Tensor(wf, [o, xs[1], kh, kw]), bias && new Tensor(bias, [o]), 1, 1, ph, pw, true).data);
        const wantY = float32Order(xd, [r.n, r.c, r.h, r.w], w, r.o, b, r.ph, r.pw);
        const wantDx = float32Order(g, [r.n, r.o, oh, ow], flipped, r.c, null, kh - 1 - r.ph, kw - 1 - r.pw);
        const wasm = run(true);
        const ts = run(false);
        const bits = (a: Float32Array) => [...new Uint32Array(a.buffer, a.byteOffset, a.length)];
        expect(bits(wasm.y)).toEqual(bits(wantY));
        expect(bits(wasm.dx)).toEqual(bits(wantDx));
        expect(firstMismatch(ts.y, wantY, 1e-5, 1e-5)).toBe(-1);
        expect(firstMismatch(ts.dx, wantDx, 1e-5, 1e-5)).toBe(-1);
        expect([...wasm.dw]).toEqual([...ts.dw]);
      }),
      { numRuns: 150, seed: 3 },
    );
  });

  it('passes finite differences when the input is spikes and the output gradient sparse', () => {
    // Spikes into conv, the output masked at three positions in four (a max pool's pattern,
    // without its ties): the forward, dW and dX all take the event-driven kernels.
    const rng = new Rng(5);
    const x = new Tensor(Float32Array.from({ length: 2 * 3 * 8 * 8 }, () => +(rng.uniform() < 0.2)), [2, 3, 8, 8], { binary: true });
    const mask = new Tensor(Float32Array.from({ length: 2 * 4 * 8 * 8 }, () => +(rng.uniform() < 0.25)), [2, 4, 8, 8]);
    const res = gradcheck((s, w, b) => mul(conv2d(s, w, b, { padding: 2 }), mask), [x, randomTensor([4, 3, 5, 5], 6), randomTensor([4], 7)]);
    expect(res.ok, res.detail).toBe(true);
  });

  it('rejects mismatched channels, a window larger than the input, and bad options', () => {
    const w = randomTensor([2, 3, 3, 3], 1);
    expect(() => conv2d(randomTensor([1, 2, 5, 5], 2), w)).toThrow(ShapeError);
    expect(() => conv2d(randomTensor([1, 3, 2, 5], 2), w)).toThrow(/window does not fit/);
    expect(() => conv2d(randomTensor([1, 3, 5, 5], 2), w, randomTensor([3], 3))).toThrow(ShapeError);
    expect(() => conv2d(randomTensor([1, 3, 5, 5], 2), w, null, { stride: 0 })).toThrow(OptionError);
    expect(() => conv2d(randomTensor([1, 3, 5, 5], 2), w, null, { padding: -1 })).toThrow(OptionError);
  });
});

describe('Conv2d', () => {
  it('has weight [out, in, kh, kw] and bias drawn from U(±1/√(in·kh·kw))', () => {
    const conv = new Conv2d(3, 8, [3, 5], { rng: new Rng(2) });
    expect(conv.weight.shape).toEqual([8, 3, 3, 5]);
    expect(conv.bias!.shape).toEqual([8]);
    const bound = 1 / Math.sqrt(45);
    for (const v of conv.weight.data) expect(Math.abs(v)).toBeLessThanOrEqual(bound);
    for (const v of conv.bias!.data) expect(Math.abs(v)).toBeLessThanOrEqual(bound);
    expect(conv.namedParameters().map(([n]) => n)).toEqual(['weight', 'bias']);
    const y = conv.forward(randomTensor([2, 4, 3, 9, 9], 3));
    expect(y.shape).toEqual([2, 4, 8, 7, 5]);
  });
});

const poolCase = fc
  .record({
    lead: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }),
    h: fc.integer({ min: 1, max: 7 }),
    w: fc.integer({ min: 1, max: 7 }),
    kh: fc.integer({ min: 1, max: 4 }),
    kw: fc.integer({ min: 1, max: 4 }),
    sh: fc.integer({ min: 1, max: 3 }),
    sw: fc.integer({ min: 1, max: 3 }),
    fph: fc.double({ min: 0, max: 1, noNaN: true }),
    fpw: fc.double({ min: 0, max: 1, noNaN: true }),
    seed: fc.integer(),
  })
  .map((r) => ({ ...r, ph: Math.floor(r.fph * (Math.floor(r.kh / 2) + 0.999)), pw: Math.floor(r.fpw * (Math.floor(r.kw / 2) + 0.999)) }))
  .filter((r) => r.h + 2 * r.ph >= r.kh && r.w + 2 * r.pw >= r.kw);

/** Distinct values, so a max window has no ties within the finite-difference step. */
function distinct(shape: number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const perm = new Rng(seed).permutation(n);
  return new Tensor(Float32Array.from(perm, (p) => 0.1 * p - n / 20), shape);
}

describe('pooling', () => {
  it('maxPool2d and avgPool2d match direct loops over random shapes, strides and paddings', () => {
    fc.assert(
      fc.property(poolCase, fc.boolean(), (r, includePad) => {
        const shape = [...r.lead, r.h, r.w];
        const x = randomTensor(shape, r.seed);
        const opts = { stride: [r.sh, r.sw] as [number, number], padding: [r.ph, r.pw] as [number, number] };
        const mx = maxPool2d(x, [r.kh, r.kw], opts);
        const av = avgPool2d(x, [r.kh, r.kw], { ...opts, countIncludePad: includePad });
        const oh = Math.floor((r.h + 2 * r.ph - r.kh) / r.sh) + 1;
        const ow = Math.floor((r.w + 2 * r.pw - r.kw) / r.sw) + 1;
        expect(mx.shape).toEqual([...r.lead, oh, ow]);
        expect(firstMismatch(mx.data, poolReference(x, 'max', r.kh, r.kw, r.sh, r.sw, r.ph, r.pw), 0, 0)).toBe(-1);
        expect(firstMismatch(av.data, poolReference(x, 'avg', r.kh, r.kw, r.sh, r.sw, r.ph, r.pw, includePad), 1e-5, 1e-6)).toBe(-1);
      }),
      { numRuns: 150, seed: 1 },
    );
  });

  it('pass finite differences (max on distinct values)', () => {
    fc.assert(
      fc.property(poolCase, fc.boolean(), (r, includePad) => {
        const shape = [...r.lead.slice(0, 2), Math.min(r.h, 5), Math.min(r.w, 5)];
        if (shape[shape.length - 2] + 2 * r.ph < r.kh || shape[shape.length - 1] + 2 * r.pw < r.kw) return;
        const opts = { stride: [r.sh, r.sw] as [number, number], padding: [r.ph, r.pw] as [number, number] };
        const m = gradcheck((x) => maxPool2d(x, [r.kh, r.kw], opts), [distinct(shape, r.seed)]);
        expect(m.ok, m.detail).toBe(true);
        const a = gradcheck((x) => avgPool2d(x, [r.kh, r.kw], { ...opts, countIncludePad: includePad }), [randomTensor(shape, r.seed)]);
        expect(a.ok, a.detail).toBe(true);
      }),
      { numRuns: 30, seed: 1 },
    );
  });

  it('maxPool2d 2×2 (its branch-free path) on spikes and ties: the first maximum of each window, a NaN wins', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 2, max: 9 }), fc.integer({ min: 2, max: 9 }), fc.integer(), (n, h, w, seed) => {
        const rng = new Rng(seed);
        const pick = [0, 1, -0, 0.5, -1, NaN];
        // Mostly 0 and 1, as spikes; now and then −0, 0.5, −1 or a NaN.
        const xd = Float32Array.from({ length: n * h * w }, () => (rng.uniform() < 0.9 ? +(rng.uniform() < 0.3) : pick[Math.floor(rng.uniform() * pick.length)]));
        const x = new Tensor(xd, [n, h, w], { requiresGrad: true });
        const y = maxPool2d(x, 2);
        backward(sum(mul(y, new Tensor(Float32Array.from({ length: y.size }, (_, i) => i + 1), y.shape))));
        const oh = Math.floor(h / 2);
        const ow = Math.floor(w / 2);
        const grad = new Float32Array(xd.length);
        for (let p = 0; p < n; p++)
          for (let oy = 0; oy < oh; oy++)
            for (let ox = 0; ox < ow; ox++) {
              const at = [0, 1, w, w + 1].map((d) => p * h * w + 2 * oy * w + 2 * ox + d);
              const nan = at.filter((i) => Number.isNaN(xd[i]));
              const best = Math.max(...at.map((i) => xd[i]));
              const arg = nan.length > 0 ? nan[nan.length - 1] : at.find((i) => xd[i] === best)!;
              const o = (p * oh + oy) * ow + ox;
              expect(Object.is(y.data[o], xd[arg])).toBe(true);
              grad[arg] = o + 1;
            }
        expect(Array.from(x.grad!.data)).toEqual(Array.from(grad));
      }),
      { numRuns: 200 },
    );
  });

  it('maxPool2d sends the gradient of a tied window to its first maximum, as PyTorch', () => {
    const x = new Tensor(Float32Array.of(1, 5, 5, 2, 7, 7, 7, 7), [1, 1, 2, 4], { requiresGrad: true });
    const y = maxPool2d(x, 2); // windows [[1,5],[7,7]] → 7 at (1,0); [[5,2],[7,7]] → 7 at (1,2)
    expect(Array.from(y.data)).toEqual([7, 7]);
    backward(sum(y));
    expect(Array.from(x.grad!.data)).toEqual([0, 0, 0, 0, 1, 0, 1, 0]);
  });

  it('modules default the stride to the kernel and accept [T, N, C, H, W]', () => {
    const x = randomTensor([2, 3, 4, 8, 6], 1);
    expect(new MaxPool2d(2).forward(x).shape).toEqual([2, 3, 4, 4, 3]);
    expect(new AvgPool2d([2, 3]).forward(x).shape).toEqual([2, 3, 4, 4, 2]);
    expect(new MaxPool2d(3, { stride: 1, padding: 1 }).forward(x).shape).toEqual([2, 3, 4, 8, 6]);
  });

  it('rejects padding above half the kernel and inputs below 3 dimensions', () => {
    expect(() => maxPool2d(randomTensor([1, 1, 4, 4], 1), 2, { padding: 2 })).toThrow(OptionError);
    expect(() => maxPool2d(randomTensor([4, 4], 1), 2)).toThrow(ShapeError);
    expect(() => avgPool2d(randomTensor([1, 1, 1, 4], 1), 2)).toThrow(ShapeError);
  });
});
