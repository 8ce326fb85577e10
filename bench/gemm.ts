/**
 * GEMM throughput: `gemm` against the `gemmNaive` triple loop, in the same process, on the
 * shapes of an MLP layer and of a Linear 784 → 512 layer's forward and backward at batch 2048.
 * GFLOP/s = 2·M·N·K / median time. Target: `gemm` ≥ 3 GFLOP/s and ≥ 4× naive on every row.
 * `gemm` runs its WebAssembly SIMD micro-kernel where the engine has one (Node does); column
 * `TS kernel` times the same call on the TypeScript micro-kernel (`useWasmKernels(false)`),
 * which sums in float64 (the WebAssembly one in float32).
 *
 * The naive loop is timed on the first NAIVE_ROWS rows of the same problem (same B, same
 * strides): its time is linear in M, and the full 2048-row products would take ~5 s per run.
 * Its result on those rows is also compared with `gemm`'s (column `max rel diff`).
 *
 * Column `relaxed` times `gemm` again with the relaxed-SIMD micro-kernel (f32x4.relaxed_madd)
 * where the engine has it: Node ≥ 22, or Node 20 run as
 * `node --experimental-wasm-relaxed-simd bench/run.mjs gemm`; elsewhere it is empty.
 *
 * Run: `node bench/run.mjs gemm` (imports `main`), or stand-alone:
 *   node_modules/.bin/esbuild bench/gemm.ts --bundle --platform=node --format=esm --outfile=.bench-out/gemm.mjs && node .bench-out/gemm.mjs
 * When the bundle is the entry script (argv[1] ends in gemm.mjs) it runs main() itself and
 * prints the result as JSON on the last line.
 */
import { Rng } from '../src/rng';
import { gemm, gemmNaive } from '../src/tensor/gemm';
import { useRelaxedSimd, useWasmKernels } from '../src/tensor/wasm';
import { medianMs, table } from './lib/measure';

const NAIVE_ROWS = 128;

interface Case {
  name: string;
  transA: boolean;
  transB: boolean;
  M: number;
  N: number;
  K: number;
}

const CASES: Case[] = [
  { name: 'A·B [256×784]·[784×512]', transA: false, transB: false, M: 256, N: 512, K: 784 },
  { name: 'A·B [256×512]·[512×512]', transA: false, transB: false, M: 256, N: 512, K: 512 },
  { name: 'Linear fwd X·Wᵀ [2048×784]·[512×784]ᵀ', transA: false, transB: true, M: 2048, N: 512, K: 784 },
  { name: 'Linear dX G·W [2048×512]·[512×784]', transA: false, transB: false, M: 2048, N: 784, K: 512 },
  { name: 'Linear dW Gᵀ·X [2048×512]ᵀ·[2048×784]', transA: true, transB: false, M: 512, N: 784, K: 2048 },
  { name: 'Aᵀ·Bᵀ [784×256]ᵀ·[512×784]ᵀ', transA: true, transB: true, M: 256, N: 512, K: 784 },
];

export interface GemmRow {
  case: string;
  transA: boolean;
  transB: boolean;
  M: number;
  N: number;
  K: number;
  gflops: number;
  /** With the TypeScript micro-kernel. */
  tsGflops: number;
  /** Whether `gflops` was measured with the WebAssembly micro-kernel. */
  wasm: boolean;
  /** With the relaxed-SIMD micro-kernel, where the engine has it (else null). */
  relaxedGflops: number | null;
  naiveGflops: number;
  ratio: number;
  maxRelDiff: number;
}

/** One case's operands drawn from a fresh Rng(0), and the median ms of its gemm (C holds the product). */
function timeCase({ transA, transB, M, N, K }: Case) {
  const rng = new Rng(0);
  const A = Float32Array.from({ length: M * K }, () => rng.uniformRange(-1, 1));
  const B = Float32Array.from({ length: K * N }, () => rng.uniformRange(-1, 1));
  const C = new Float32Array(M * N);
  const lda = transA ? M : K;
  const ldb = transB ? K : N;
  const reps = Math.max(5, Math.min(15, Math.round(4e9 / (2 * M * N * K))));
  const ms = medianMs(() => gemm(transA, transB, M, N, K, A, 0, lda, B, 0, ldb, C, 0, N, false), reps, 2);
  return { ms, A, B, C, lda, ldb };
}

export async function main(): Promise<{ name: 'gemm'; rows: GemmRow[] }> {
  // The TypeScript kernel first, on every case: once the WebAssembly path has run, the
  // TypeScript one slows down by a third in the same process (V8's feedback for the shared
  // packing code), which a browser without SIMD never sees.
  useWasmKernels(false);
  const tsMs = CASES.map((c) => timeCase(c).ms);
  const wasm = useWasmKernels(true);
  const relaxed = useRelaxedSimd(true) === 'relaxed-simd';
  const rows: GemmRow[] = [];
  for (const [index, c] of CASES.entries()) {
    const { name, transA, transB, M, N, K } = c;
    const relaxedMs = relaxed ? timeCase(c).ms : null;
    useRelaxedSimd(false);
    const { ms, A, B, C, lda, ldb } = timeCase(c);
    useRelaxedSimd(true);
    const flops = 2 * M * N * K;

    // Naive on the first m rows of op(A): with transA those are the first m columns of A.
    const m = Math.min(M, NAIVE_ROWS);
    const Cn = new Float32Array(m * N);
    const naiveMs = medianMs(() => gemmNaive(transA, transB, m, N, K, A, 0, lda, B, 0, ldb, Cn, 0, N, false), 3, 1);

    let scale = 0;
    let diff = 0;
    for (let i = 0; i < m * N; i++) {
      scale = Math.max(scale, Math.abs(Cn[i]));
      diff = Math.max(diff, Math.abs(C[i] - Cn[i]));
    }
    const gflops = flops / ms / 1e6;
    const naiveGflops = (2 * m * N * K) / naiveMs / 1e6;
    rows.push({ case: name, transA, transB, M, N, K, gflops, tsGflops: flops / tsMs[index] / 1e6, wasm, relaxedGflops: relaxedMs === null ? null : flops / relaxedMs / 1e6, naiveGflops, ratio: gflops / naiveGflops, maxRelDiff: diff / scale });
  }
  console.log(
    table(
      rows.map((r) => ({
        case: r.case,
        'gemm GFLOP/s': `${r.gflops.toFixed(2)}${r.wasm ? ' (wasm)' : ''}`,
        'relaxed GFLOP/s': r.relaxedGflops === null ? '' : `${r.relaxedGflops.toFixed(2)} (${(r.relaxedGflops / r.gflops).toFixed(2)}×)`,
        'TS kernel GFLOP/s': r.tsGflops.toFixed(2),
        'naive GFLOP/s': r.naiveGflops.toFixed(2),
        'ratio ×': r.ratio.toFixed(1),
        'max rel diff': r.maxRelDiff.toExponential(1),
      })),
    ),
  );
  console.log(`\ntarget: gemm ≥ 3 GFLOP/s and ≥ 4× naive on every row (naive timed on the first ${NAIVE_ROWS} rows)`);
  return { name: 'gemm', rows };
}

if (typeof process !== 'undefined' && /gemm\.m?js$/.test(process.argv[1] ?? '')) {
  const result = await main();
  console.log(JSON.stringify(result));
}
