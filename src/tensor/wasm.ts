/**
 * WebAssembly SIMD versions of the hottest kernels — the GEMM micro-kernel, the spike-row sums,
 * and the event convolution and its weight gradient — emitted as bytecode by the TypeScript
 * below (no binary is shipped, nothing is built natively) and used wherever the engine
 * validates it: Node ≥ 16.4 and current browsers. Elsewhere, or after `useWasmKernels(false)`,
 * the plain TypeScript kernels run.
 *
 * The GEMM micro-kernel, the spike-row sums and the event convolution work in float32, four
 * lanes (f32x4) at a time, every operation rounded, as BLAS libraries do: GEMM tiles sum
 * acc + (a_k·b_k + a_{k+1}·b_{k+1}) over pairs of k; spike rows add eight weight rows as
 * ((w0 + w1) + (w2 + w3)) + ((w4 + w5) + (w6 + w7)) per pass; the event convolution adds its
 * inputs in order. Their TypeScript counterparts sum in float64 (JavaScript has no float32
 * arithmetic short of rounding every operation by hand, which costs 4×), so the two kinds
 * differ by float32 rounding. The event convolution's weight gradient does the TypeScript
 * kernel's float64 arithmetic in the same order, two lanes (f64x2) at a time, to the same bits.
 * Scalar JavaScript runs one number per instruction and V8 has no auto-vectoriser; the f32x4
 * GEMM runs ~4× as fast as the TypeScript one (bench/gemm.ts: ~23 against ~5.6 GFLOP/s).
 *
 * Where the engine has relaxed SIMD (Node ≥ 22, Chrome ≥ 114; Node 20 with
 * `--experimental-wasm-relaxed-simd`), the GEMM micro-kernel is emitted with
 * `f32x4.relaxed_madd` instead: acc ← u·v + (x·y + acc), each multiply-add rounded once where
 * the CPU fuses it (x86-64 with FMA, ARM64) — see {@link useRelaxedSimd}. The worker pool sends
 * the caller's kind with every job, so all threads compute alike.
 *
 * Each thread (the main one, each worker) instantiates its own module with its own memory: the
 * kernels read operands packed into that memory by the caller ({@link wasmArena}). The module
 * (about 3.2 KB) is compiled synchronously on first use — below the 4 KB that Chromium before
 * 114 allows on a page's main thread. Wherever compiling fails, the TypeScript kernels run.
 */

// ---------------------------------------------------------------- a minimal bytecode emitter

type Bytes = number[];

function uleb(n: number): Bytes {
  const out: Bytes = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): Bytes {
  const out: Bytes = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const vec = (items: Bytes[]): Bytes => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: Bytes): Bytes => [id, ...uleb(body.length), ...body];
const name = (s: string): Bytes => vec([...s].map((c) => [c.charCodeAt(0)]));

const I32 = 0x7f;
const V128 = 0x7b;
const simd = (opcode: number, ...imm: number[]): Bytes => [0xfd, ...uleb(opcode), ...imm];
/** Memory immediate: log2 of the alignment, then the constant byte offset. */
const memarg = (align: number, offset: number): Bytes => [align, ...uleb(offset)];

const op = {
  get: (i: number): Bytes => [0x20, ...uleb(i)],
  set: (i: number): Bytes => [0x21, ...uleb(i)],
  i32: (v: number): Bytes => [0x41, ...sleb(v)],
  add: [0x6a],
  sub: [0x6b],
  mul: [0x6c],
  shl: [0x74],
  leS: [0x4c],
  ltS: [0x48],
  ltU: [0x49],
  and: [0x71],
  geS: [0x4e],
  eq: [0x46],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  else: [0x05],
  end: [0x0b],
  br: (depth: number): Bytes => [0x0c, ...uleb(depth)],
  brIf: (depth: number): Bytes => [0x0d, ...uleb(depth)],
  i32load: (offset: number): Bytes => [0x28, ...memarg(2, offset)],
  f64load: (offset: number): Bytes => [0x2b, ...memarg(3, offset)],
  f32load: (offset: number): Bytes => [0x2a, ...memarg(2, offset)],
  f32store: (offset: number): Bytes => [0x38, ...memarg(2, offset)],
  f32demote: [0xb6],
  vload: (offset: number): Bytes => simd(0x00, ...memarg(4, offset)),
  vstore: (offset: number): Bytes => simd(0x0b, ...memarg(4, offset)),
  splat32: (offset: number): Bytes => simd(0x09, ...memarg(2, offset)),
  f32x4splat: simd(0x13),
  splat64: (offset: number): Bytes => simd(0x0a, ...memarg(3, offset)),
  vzero: simd(0x0c, ...new Array<number>(16).fill(0)),
  f32x4add: simd(0xe4),
  f32x4mul: simd(0xe6),
  f64x2add: simd(0xf0),
  f64x2mul: simd(0xf2),
  /** Relaxed SIMD: a·b + c, fused (one rounding) or not, as the hardware does it. */
  f32x4madd: simd(0x105),
};

interface WasmFunction {
  name: string;
  params: number[];
  locals: Array<[count: number, type: number]>;
  body: Bytes[];
}

/** A module of void functions over one exported memory ("memory", starting at one page). */
function emitModule(funcs: WasmFunction[]): Uint8Array<ArrayBuffer> {
  const types = funcs.map((f) => [0x60, ...vec(f.params.map((p) => [p])), ...vec([])]);
  const code = funcs.map((f) => {
    const body = [...vec(f.locals.map(([n, t]) => [...uleb(n), t])), ...f.body.flat(), ...op.end];
    return [...uleb(body.length), ...body];
  });
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, vec(types)),
    ...section(3, vec(funcs.map((_, i) => uleb(i)))),
    ...section(5, vec([[0x00, ...uleb(1)]])),
    ...section(7, vec([[...name('memory'), 0x02, 0], ...funcs.map((f, i) => [...name(f.name), 0x00, ...uleb(i)])])),
    ...section(10, vec(code)),
  ]);
}

/** for (counter = from; counter < limit; counter += step) inner — `from` and `limit` are locals (from defaults to 0). */
function loop(counter: number, limit: number, step: number, inner: Bytes[], from?: number): Bytes[] {
  return [
    from === undefined ? op.i32(0) : op.get(from), op.set(counter), op.block, op.loop,
    op.get(counter), op.get(limit), op.geS, op.brIf(1),
    ...inner,
    op.get(counter), op.i32(step), op.add, op.set(counter), op.br(0), op.end, op.end,
  ];
}

// ---------------------------------------------------------------- the kernels

/**
 * tile8(kp, pa, pb, out): out[i·8 + j] = Σ_k pa[k·8 + i] · pb[k·8 + j] for the 8×8 tile, over an
 * even depth kp, in float32: acc + (x·y + u·v) for k and k + 1, each operation rounded to
 * float32 — the TypeScript micro-kernel's order; `fused`: u·v + (x·y + acc) by two relaxed
 * multiply-adds. Byte addresses of floats. The tile is done as
 * two 4×8 halves: eight f32x4 running sums and four B vectors fit the sixteen SIMD registers;
 * a whole 8×8 tile would spill.
 */
function tile8(fused: boolean): WasmFunction {
  const [kp, pa, pb, out, k, a, b] = [0, 1, 2, 3, 4, 5, 6];
  const acc = 7; // 8 locals: acc + 2·row + half
  const [y0, y1, v0, v1, x, u] = [15, 16, 17, 18, 19, 20];
  const body: Bytes[] = [];
  for (let r0 = 0; r0 < 8; r0 += 4) {
    for (let s = 0; s < 8; s++) body.push(op.vzero, op.set(acc + s));
    body.push(op.get(pa), op.set(a), op.get(pb), op.set(b), op.get(kp), op.set(k));
    body.push(op.block, op.loop, op.get(k), op.i32(0), op.leS, op.brIf(1));
    body.push(
      op.get(b), op.vload(0), op.set(y0), op.get(b), op.vload(16), op.set(y1),
      op.get(b), op.vload(32), op.set(v0), op.get(b), op.vload(48), op.set(v1),
    );
    for (let i = 0; i < 4; i++) {
      body.push(op.get(a), op.splat32(4 * (r0 + i)), op.set(x), op.get(a), op.splat32(32 + 4 * (r0 + i)), op.set(u));
      for (let h = 0; h < 2; h++) {
        const s = acc + 2 * i + h;
        const y = h === 0 ? y0 : y1;
        const v = h === 0 ? v0 : v1;
        body.push(
          ...(fused
            ? [op.get(u), op.get(v), op.get(x), op.get(y), op.get(s), op.f32x4madd, op.f32x4madd]
            : [op.get(s), op.get(x), op.get(y), op.f32x4mul, op.get(u), op.get(v), op.f32x4mul, op.f32x4add, op.f32x4add]),
          op.set(s),
        );
      }
    }
    body.push(
      op.get(a), op.i32(64), op.add, op.set(a), op.get(b), op.i32(64), op.add, op.set(b),
      op.get(k), op.i32(2), op.sub, op.set(k), op.br(0), op.end, op.end,
    );
    for (let i = 0; i < 4; i++) {
      for (let h = 0; h < 2; h++) body.push(op.get(out), op.get(acc + 2 * i + h), op.vstore(4 * (8 * (r0 + i) + 4 * h)));
    }
  }
  return { name: 'tile8', params: [I32, I32, I32, I32], locals: [[3, I32], [14, V128]], body };
}

/**
 * spikeRows(rows, passes, offs, w, bytes, out): for each of `rows` output rows (float32, `bytes`
 * = 4·N apart, N a multiple of 4), adds the W rows at the byte offsets in `offs`, eight per pass
 * (passes[r] passes, padded by the caller with a row of zeros), in float32 as
 * out + (((w0 + w1) + (w2 + w3)) + ((w4 + w5) + (w6 + w7))) — the TypeScript kernel's order. W:
 * floats [K + 1, N]; offs and passes: int32. The caller sets the rows to zero or to what they
 * accumulate onto.
 */
function spikeRows(): WasmFunction {
  const [rows, passes, offs, w, bytes, out] = [0, 1, 2, 3, 4, 5];
  const [r, g, o0, j, n, t0, t1] = [6, 7, 8, 16, 17, 18, 19]; // o0..o7 are locals 8..15
  // During a pass o_i holds the address of its W row, so a load is one addition away.
  const row = (oi: number, at: number): Bytes[] => [op.get(o0 + oi), op.get(j), op.add, op.vload(at)];
  const outAt: Bytes[] = [op.get(out), op.get(j), op.add];
  /** out[j + at .. + 16) += the pass's eight W rows there, in the TypeScript kernel's order. */
  const sum8 = (at: number): Bytes[] => [
    ...row(0, at), ...row(1, at), op.f32x4add, ...row(2, at), ...row(3, at), op.f32x4add, op.f32x4add, op.set(t0),
    ...row(4, at), ...row(5, at), op.f32x4add, ...row(6, at), ...row(7, at), op.f32x4add, op.f32x4add, op.set(t1),
    ...outAt, ...outAt, op.vload(at), op.get(t0), op.get(t1), op.f32x4add, op.f32x4add, op.vstore(at),
  ];
  const rowBody: Bytes[] = [
    op.get(passes), op.i32load(0), op.set(n), op.get(passes), op.i32(4), op.add, op.set(passes),
    ...loop(g, n, 1, [
      ...Array.from({ length: 8 }, (_, i) => [op.get(w), op.get(offs), op.i32load(4 * i), op.add, op.set(o0 + i)]).flat(),
      op.get(offs), op.i32(32), op.add, op.set(offs),
      // Eight columns per iteration, then four if N leaves them.
      op.i32(0), op.set(j), op.block, op.loop,
      op.get(j), op.i32(16), op.add, op.get(bytes), op.geS, op.brIf(1),
      ...sum8(0), ...sum8(16),
      op.get(j), op.i32(32), op.add, op.set(j), op.br(0), op.end, op.end,
      op.get(j), op.get(bytes), op.ltS, op.if, ...sum8(0), op.end,
    ]),
    op.get(out), op.get(bytes), op.add, op.set(out),
  ];
  return {
    name: 'spikeRows',
    params: [I32, I32, I32, I32, I32, I32],
    locals: [[12, I32], [2, V128]],
    body: loop(r, rows, 1, rowBody),
  };
}

/**
 * eventScatter(C, kh, kw, ph, pw, oh, ow, start, rows, cols, vals, wt, o8Bytes, out, unit, bias, O, y):
 * the event convolution of one image, in float32, scattered from its nonzeros. Each row of out
 * [oh·ow, O8] (floats) starts as the bias (O8 floats); channel c's nonzeros are entries
 * start[c] .. start[c + 1] of rows, cols (int32) and vals (doubles, unless `unit`); each adds,
 * for every kernel tap (i, j) whose output position (row + ph − i, col + pw − j) is inside, its
 * weight row wt [(c·kh + i)·kw + j, O8] (floats) times its value (unless `unit`) onto that
 * position's row of out, eight channels per iteration. So every output sums its inputs in the
 * order of the nonzeros, each operation rounded to float32. Last, out's first O channels are
 * written to y [O, oh·ow] (floats).
 */
function eventScatter(): WasmFunction {
  const [C, kh, kw, ph, pw, oh, ow, start, rows, cols, vals, wt, o8Bytes, out, unit, bias, O, y] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17];
  const [c, e, e1, i, j, oy, ox, q, w, ob, tap, L] = [18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29];
  const v = 30; // the value, splat
  // out's rows from the bias; then, after the sums, y[o, p] = out[p, o] (q walks out, w walks y).
  const fill: Bytes[] = [
    op.get(oh), op.get(ow), op.mul, op.set(L),
    op.get(out), op.set(q),
    ...loop(i, L, 1, [
      ...loop(ob, o8Bytes, 16, [op.get(q), op.get(ob), op.add, op.get(bias), op.get(ob), op.add, op.vload(0), op.vstore(0)]),
      op.get(q), op.get(o8Bytes), op.add, op.set(q),
    ]),
  ];
  const transpose: Bytes[] = [
    op.get(y), op.set(w),
    ...loop(c, O, 1, [
      op.get(out), op.get(c), op.i32(2), op.shl, op.add, op.set(q),
      ...loop(i, L, 1, [
        op.get(w), op.get(q), op.f32load(0), op.f32store(0),
        op.get(w), op.i32(4), op.add, op.set(w),
        op.get(q), op.get(o8Bytes), op.add, op.set(q),
      ]),
    ]),
  ];
  /** out[q + ob ..] += (v ·) wt[w + ob ..], two vectors. */
  const add = (valued: boolean): Bytes[] =>
    loop(ob, o8Bytes, 32, [0, 16].flatMap((at) => [
      op.get(q), op.get(ob), op.add,
      op.get(q), op.get(ob), op.add, op.vload(at),
      op.get(w), op.get(ob), op.add, op.vload(at), ...(valued ? [op.get(v), op.f32x4mul] : []),
      op.f32x4add, op.vstore(at),
    ]));
  const column: Bytes[] = [
    op.get(cols), op.get(e), op.i32(2), op.shl, op.add, op.i32load(0), op.get(pw), op.add, op.get(j), op.sub, op.set(ox),
    op.get(ox), op.get(ow), op.ltU, op.if,
    // q = out + (oy·ow + ox)·o8Bytes; w = wt + (tap + j)·o8Bytes
    op.get(out), op.get(oy), op.get(ow), op.mul, op.get(ox), op.add, op.get(o8Bytes), op.mul, op.add, op.set(q),
    op.get(wt), op.get(tap), op.get(j), op.add, op.get(o8Bytes), op.mul, op.add, op.set(w),
    op.get(unit), op.if, ...add(false), op.else, ...add(true), op.end,
    op.end,
  ];
  const kernelRow: Bytes[] = [
    op.get(rows), op.get(e), op.i32(2), op.shl, op.add, op.i32load(0), op.get(ph), op.add, op.get(i), op.sub, op.set(oy),
    op.get(oy), op.get(oh), op.ltU, op.if,
    op.get(c), op.get(kh), op.mul, op.get(i), op.add, op.get(kw), op.mul, op.set(tap),
    ...loop(j, kw, 1, column),
    op.end,
  ];
  const entry: Bytes[] = [
    op.get(unit), op.i32(0), op.eq, op.if,
    op.get(vals), op.get(e), op.i32(3), op.shl, op.add, op.f64load(0), op.f32demote, op.f32x4splat, op.set(v),
    op.end,
    ...loop(i, kh, 1, kernelRow),
  ];
  const channel: Bytes[] = [
    op.get(start), op.get(c), op.i32(2), op.shl, op.add, op.i32load(4), op.set(e1),
    ...loop(e, e1, 1, entry, e),
  ];
  return {
    name: 'eventScatter',
    params: new Array<number>(18).fill(I32),
    locals: [[12, I32], [1, V128]],
    body: [...fill, op.get(start), op.i32load(0), op.set(e), ...loop(c, C, 1, channel), ...transpose],
  };
}

/**
 * eventGrads(C, kh, kw, ph, pw, oh, ow, start, rows, cols, vals, gt, o8Bytes, dwt, unit): the
 * event convolution's weight gradient for one image (eventconv.ts `eventWeightGrad`). Channel c's
 * nonzeros are entries start[c] .. start[c + 1] of rows, cols (int32) and vals (doubles, unless
 * `unit`); for each tap (i, j) and block of eight output channels, the output gradients gt
 * [oh·ow, O8] (doubles) at (row + ph − i, col + pw − j), where inside, are summed in entry order
 * (times the value unless `unit`) and the sums added to dwt [(c·kh + i)·kw + j, O8].
 */
function eventGrads(): WasmFunction {
  const [C, kh, kw, ph, pw, oh, ow, start, rows, cols, vals, gt, o8Bytes, dwt, unit] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];
  const [c, i, j, ob, e, e0, e1, oy, ox, q, d] = [15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25];
  const a = 26; // a..a+3: the eight sums; a + 4: a value splat
  const entry = (valued: boolean): Bytes[] => [
    op.get(rows), op.get(e), op.i32(2), op.shl, op.add, op.i32load(0), op.get(ph), op.add, op.get(i), op.sub, op.set(oy),
    op.get(cols), op.get(e), op.i32(2), op.shl, op.add, op.i32load(0), op.get(pw), op.add, op.get(j), op.sub, op.set(ox),
    // 0 ≤ oy < oh and 0 ≤ ox < ow, as unsigned comparisons.
    op.get(oy), op.get(oh), op.ltU, op.get(ox), op.get(ow), op.ltU, op.and, op.if,
    op.get(gt), op.get(oy), op.get(ow), op.mul, op.get(ox), op.add, op.get(o8Bytes), op.mul, op.add, op.get(ob), op.add, op.set(q),
    ...(valued ? [op.get(vals), op.get(e), op.i32(3), op.shl, op.add, op.splat64(0), op.set(a + 4)] : []),
    ...[0, 1, 2, 3].flatMap((t) => [
      op.get(a + t), op.get(q), op.vload(16 * t), ...(valued ? [op.get(a + 4), op.f64x2mul] : []), op.f64x2add, op.set(a + t),
    ]),
    op.end,
  ];
  const block: Bytes[] = [
    ...[0, 1, 2, 3].flatMap((t) => [op.vzero, op.set(a + t)]),
    op.get(unit), op.if, ...loop(e, e1, 1, entry(false), e0), op.else, ...loop(e, e1, 1, entry(true), e0), op.end,
    ...[0, 1, 2, 3].flatMap((t) => [op.get(d), op.get(ob), op.add, op.get(d), op.get(ob), op.add, op.vload(16 * t), op.get(a + t), op.f64x2add, op.vstore(16 * t)]),
  ];
  const tap: Bytes[] = [
    // d = dwt + ((c·kh + i)·kw + j)·o8Bytes
    op.get(dwt), op.get(c), op.get(kh), op.mul, op.get(i), op.add, op.get(kw), op.mul, op.get(j), op.add, op.get(o8Bytes), op.mul, op.add, op.set(d),
    ...loop(ob, o8Bytes, 64, block),
  ];
  const channel: Bytes[] = [
    op.get(start), op.get(c), op.i32(2), op.shl, op.add, op.i32load(0), op.set(e0),
    op.get(start), op.get(c), op.i32(2), op.shl, op.add, op.i32load(4), op.set(e1),
    op.get(e0), op.get(e1), op.ltS, op.if, ...loop(i, kh, 1, loop(j, kw, 1, tap)), op.end,
  ];
  return {
    name: 'eventGrads',
    params: new Array<number>(15).fill(I32),
    locals: [[11, I32], [5, V128]],
    body: loop(c, C, 1, channel),
  };
}

// ---------------------------------------------------------------- the runtime

/** The kernels of one instance, and its memory. */
export interface WasmKernels {
  readonly memory: WebAssembly.Memory;
  tile8(kp: number, pa: number, pb: number, out: number): void;
  spikeRows(rows: number, passes: number, offs: number, w: number, bytes: number, out: number): void;
  eventGrads(C: number, kh: number, kw: number, ph: number, pw: number, oh: number, ow: number, start: number, rows: number, cols: number, vals: number, gt: number, o8Bytes: number, dwt: number, unit: number): void;
  eventScatter(C: number, kh: number, kw: number, ph: number, pw: number, oh: number, ow: number, start: number, rows: number, cols: number, vals: number, wt: number, o8Bytes: number, out: number, unit: number, bias: number, O: number, y: number): void;
}

let enabled = true;
let relaxedWanted = true;
let instance: WasmKernels | null | undefined;
let instanceKind: WasmKernelKind = 'none';

/**
 * Which kernels this thread runs: `'relaxed-simd'` (the GEMM micro-kernel on
 * `f32x4.relaxed_madd`), `'simd128'` (plain f32x4 multiplies and adds), or `'none'` (the
 * TypeScript kernels).
 */
export type WasmKernelKind = 'relaxed-simd' | 'simd128' | 'none';

function instantiate(): WasmKernels | null {
  instanceKind = 'none';
  if (typeof WebAssembly !== 'object') return null;
  for (const fused of relaxedWanted ? [true, false] : [false]) {
    try {
      const bytes = emitModule([tile8(fused), spikeRows(), eventScatter(), eventGrads()]);
      if (!WebAssembly.validate(bytes)) continue; // no (relaxed) SIMD here
      const kernels = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as unknown as WasmKernels;
      instanceKind = fused ? 'relaxed-simd' : 'simd128';
      return kernels;
    } catch {
      // try the next kind
    }
  }
  return null;
}

/** This thread's WebAssembly kernels, or null where the engine lacks SIMD or they are switched off. */
export function wasmKernels(): WasmKernels | null {
  if (!enabled) return null;
  if (instance === undefined) instance = instantiate();
  return instance;
}

/** The kind of kernels this thread runs now (see {@link WasmKernelKind}). */
export function wasmKernelKind(): WasmKernelKind {
  return wasmKernels() === null ? 'none' : instanceKind;
}

/**
 * Switches the WebAssembly SIMD kernels on (the default, where supported) or off, on this
 * thread; returns whether they are now in use. The GEMM and spike-row kernels of the two kinds
 * differ by float32 rounding (see the module comment): the switch is for benchmarks and tests.
 */
export function useWasmKernels(on: boolean): boolean {
  enabled = on;
  return wasmKernels() !== null;
}

/**
 * Allows (the default) or forbids the relaxed-SIMD GEMM micro-kernel on this thread; returns the
 * kind now in use. Where the engine has relaxed SIMD (Node ≥ 22, Chrome ≥ 114; Node 20 with
 * `--experimental-wasm-relaxed-simd`), `f32x4.relaxed_madd` computes each product and sum of the
 * micro-kernel, as acc + x·y + u·v for k and k + 1, with one rounding where the CPU fuses them
 * (FMA: every x86-64 CPU since Haswell, every ARM64) — results then differ from plain SIMD's in
 * the last bits of GEMM outputs (dense layers, dense gradients), never between thread counts of
 * one process. Forbid it to reproduce plain-SIMD bits exactly.
 */
export function useRelaxedSimd(on: boolean): WasmKernelKind {
  relaxedWanted = on;
  // Instantiate again when the kind in use is not the one asked for (asking for relaxed SIMD
  // again also retries it: an engine flag may have been set since).
  if (instance != null && (instanceKind === 'relaxed-simd') !== on) instance = undefined;
  return wasmKernelKind();
}

/**
 * The kernels' memory, grown to at least `bytes`, or null if it cannot grow that far (the
 * engine's limit, 4 GiB at most): callers then take their TypeScript path. Callers lay their
 * operands out from byte 0; calls do not nest, so each kernel call owns the whole arena while it
 * runs. Growing replaces `memory.buffer`: views must be taken after this call.
 */
export function wasmArena(k: WasmKernels, bytes: number): ArrayBuffer | null {
  const have = k.memory.buffer.byteLength;
  if (have < bytes) {
    try {
      k.memory.grow(Math.ceil((bytes - have) / 65536));
    } catch {
      return null;
    }
  }
  return k.memory.buffer;
}
