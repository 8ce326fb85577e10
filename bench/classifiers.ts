/**
 * The classic classifiers on raw MNIST pixels (60,000 train / 10,000 test, pixels / 255): test
 * accuracy and fit / predict time of each, next to scikit-learn 1.2.1's accuracy on the same
 * float32 data (Debian python3-sklearn on this machine; LR and kNN figures also in issue 5).
 * For the kNN it also reports the effective GFLOP/s, 2·Nq·Ntr·F / predict time, next to the
 * raw GEMM kernel's GFLOP/s on the kNN's own calls (one query block against every training
 * block) measured in the same run, and a paired comparison (the neighbour search of one query
 * block against the same GEMM calls alone, alternated), so the ratio shows what the top-k and
 * the bookkeeping cost. Times are given as wall time and as this process's CPU time: the machine's
 * cores are shared, and under contention wall time grows while CPU time stays near the
 * single-core cost.
 *
 * Run: flock /tmp/spikessl-bench.lock node bench/run.mjs classifiers   (about 6 minutes)
 * SPIKESSL_BENCH_SUBSET=n uses the first n training and n/6 test images (a quick smoke run).
 */
import {
  KNN,
  LinearSVC,
  LogisticRegression,
  NearestCentroid,
  RidgeClassifier,
  classificationReport,
  type Classifier,
} from '../src/index';
import { loadMnist } from '../src/node/mnist';
import { gemm } from '../src/tensor/gemm';
import { table } from './lib/measure';

interface Row {
  classifier: string;
  options: string;
  'fit s': number;
  'fit cpu s': number;
  'predict s': number;
  'predict cpu s': number;
  'test acc %': number;
  'sklearn 1.2 %': string;
  notes: string;
}

export async function main() {
  const train = loadMnist({ split: 'train' });
  const test = loadMnist({ split: 'test' });
  const subset = Number(process.env.SPIKESSL_BENCH_SUBSET ?? 0);
  const nTr = subset > 0 ? Math.min(subset, train.n) : train.n;
  const nTe = subset > 0 ? Math.min(Math.ceil(subset / 6), test.n) : test.n;
  const F = train.dim;
  const xTr = { data: train.images.subarray(0, nTr * F), shape: [nTr, F] };
  const yTr = train.labels.subarray(0, nTr);
  const xTe = { data: test.images.subarray(0, nTe * F), shape: [nTe, F] };
  const yTe = test.labels.subarray(0, nTe);
  console.log(`MNIST raw pixels / 255: ${nTr} train, ${nTe} test, ${F} features${subset > 0 ? ' (SUBSET)' : ''}\n`);

  const rows: Row[] = [];
  const run = (name: string, options: string, sklearn: string, make: () => Classifier, notes: (m: Classifier) => string): Int32Array => {
    const c0 = cpuSeconds();
    const t0 = performance.now();
    const model = make().fit(xTr, yTr);
    const t1 = performance.now();
    const c1 = cpuSeconds();
    const pred = model.predict(xTe);
    const t2 = performance.now();
    const c2 = cpuSeconds();
    let hit = 0;
    for (let i = 0; i < nTe; i++) if (pred[i] === yTe[i]) hit++;
    rows.push({
      classifier: name,
      options,
      'fit s': (t1 - t0) / 1000,
      'fit cpu s': c1 - c0,
      'predict s': (t2 - t1) / 1000,
      'predict cpu s': c2 - c1,
      'test acc %': (100 * hit) / nTe,
      'sklearn 1.2 %': sklearn,
      notes: notes(model),
    });
    console.log(`${name} (${options}): ${((100 * hit) / nTe).toFixed(2)} % in ${((t2 - t0) / 1000).toFixed(1)} s`);
    return pred;
  };

  const warnings: string[] = [];
  const onWarning = (m: string) => warnings.push(m);

  run('NearestCentroid', 'defaults', '82.03', () => new NearestCentroid(), () => '');
  run('RidgeClassifier', 'alpha = 1', '86.04', () => new RidgeClassifier(), () => 'Cholesky of the 784×784 system');
  run('LogisticRegression', 'C = 1, maxIter = 100, tol = 1e-4', '92.56 (issue: ≈ 92.1)', () => new LogisticRegression({ onWarning }), (m) => {
    const info = (m as LogisticRegression).fitInfo;
    return `${info.nIter} iterations, ${info.nFunEvals} evaluations, max|grad| ${info.gradNorm.toExponential(2)}, ${info.converged ? 'converged' : `not converged (${info.stop})`}`;
  });
  run('LinearSVC', 'C = 1, maxIter = 100 (default 1000)', '90.26 (max_iter=100)', () => new LinearSVC({ maxIter: 100, onWarning }), (m) => `${(m as LinearSVC).nIter} passes (slowest class)`);

  // kNN, with the raw GEMM measured on the very calls the kNN makes: one block of queries
  // against every block of training rows (so the training data streams from memory as in the
  // kNN), without the top-k.
  const knnOptions = { k: 20, metric: 'cosine' as const, weights: 'distance' as const };
  const qb = Math.min(512, nTe);
  const tb = Math.min(2048, nTr);
  const trainCopy = xTr.data.slice(); // the kNN keeps a copy too
  const dots = new Float32Array(qb * tb);
  const streamedGemm = (): void => {
    for (let t0 = 0; t0 < nTr; t0 += tb) {
      const bt = Math.min(tb, nTr - t0);
      gemm(false, true, qb, bt, F, xTe.data, 0, F, trainCopy, t0 * F, F, dots, 0, bt, false);
    }
  };
  const passFlops = 2 * qb * nTr * F;
  const timed = (fn: () => void): { wall: number; cpu: number } => {
    const c0 = cpuSeconds();
    const t0 = performance.now();
    fn();
    return { wall: (performance.now() - t0) / 1000, cpu: cpuSeconds() - c0 };
  };
  const gemmBefore = timed(streamedGemm);
  const knnPred = run('KNN', 'k = 20, cosine, distance-weighted', '96.95 (issue)', () => new KNN({ ...knnOptions, queryBlock: qb, trainBlock: tb }), () => '');
  const gemmAfter = timed(streamedGemm);
  const knnRow = rows[rows.length - 1];
  const flops = 2 * nTe * nTr * F;
  const knnWall = flops / (knnRow['predict s'] * 1e9);
  const knnCpu = flops / (knnRow['predict cpu s'] * 1e9);
  const gemmWall = (2 * passFlops) / ((gemmBefore.wall + gemmAfter.wall) * 1e9);
  const gemmCpu = (2 * passFlops) / ((gemmBefore.cpu + gemmAfter.cpu) * 1e9);

  // Paired: the kNN's neighbour search for one query block against the same block's GEMM pass,
  // alternated (kNN, GEMM, GEMM, kNN) so a change of machine load hits both alike.
  const knnFitted = new KNN({ ...knnOptions, queryBlock: qb, trainBlock: tb }).fit(xTr, yTr);
  const queryBlock = { data: xTe.data.subarray(0, qb * F), shape: [qb, F] };
  const searchBlock = (): void => void knnFitted.kneighbors(queryBlock);
  const p1 = timed(searchBlock);
  const g1 = timed(streamedGemm);
  const g2 = timed(streamedGemm);
  const p2 = timed(searchBlock);
  const pairedKnn = (2 * passFlops) / ((p1.cpu + p2.cpu) * 1e9);
  const pairedGemm = (2 * passFlops) / ((g1.cpu + g2.cpu) * 1e9);
  knnRow.notes = `${knnWall.toFixed(2)} GFLOP/s effective; ${((100 * pairedKnn) / pairedGemm).toFixed(0)} % of raw GEMM (paired, CPU time)`;

  console.log(`\n${table(rows as unknown as Array<Record<string, string | number>>)}\n`);
  const gf = (x: number) => x.toFixed(2);
  const gemmRows = [
    { measure: `raw gemm, ${qb} queries × all ${nTr} rows in ${tb}-row blocks (transB), before kNN`, 'GFLOP/s (wall)': gf(passFlops / (gemmBefore.wall * 1e9)), 'GFLOP/s (CPU time)': gf(passFlops / (gemmBefore.cpu * 1e9)) },
    { measure: `kNN predict, 2·${nTe}·${nTr}·${F} flops / time`, 'GFLOP/s (wall)': gf(knnWall), 'GFLOP/s (CPU time)': gf(knnCpu) },
    { measure: 'raw gemm, same, after kNN', 'GFLOP/s (wall)': gf(passFlops / (gemmAfter.wall * 1e9)), 'GFLOP/s (CPU time)': gf(passFlops / (gemmAfter.cpu * 1e9)) },
    { measure: 'kNN predict / raw gemm (mean of before and after)', 'GFLOP/s (wall)': gf(knnWall / gemmWall), 'GFLOP/s (CPU time)': gf(knnCpu / gemmCpu) },
    { measure: `paired: kneighbors of ${qb} queries ×2 (CPU time)`, 'GFLOP/s (wall)': gf((2 * passFlops) / ((p1.wall + p2.wall) * 1e9)), 'GFLOP/s (CPU time)': gf(pairedKnn) },
    { measure: 'paired: raw gemm of the same block ×2 (CPU time)', 'GFLOP/s (wall)': gf((2 * passFlops) / ((g1.wall + g2.wall) * 1e9)), 'GFLOP/s (CPU time)': gf(pairedGemm) },
    { measure: 'paired kNN / raw gemm', 'GFLOP/s (wall)': gf((g1.wall + g2.wall) / (p1.wall + p2.wall)), 'GFLOP/s (CPU time)': gf(pairedKnn / pairedGemm) },
  ];
  console.log(`${table(gemmRows)}\n`);
  console.log('KNN classification report:\n');
  console.log(classificationReport(yTe, knnPred));
  for (const w of warnings) console.log(`warning: ${w}`);
  return {
    nTrain: nTr,
    nTest: nTe,
    rows,
    knn: { block: [qb, tb, F], gflopsWall: knnWall, gflopsCpu: knnCpu, gemmGflopsWall: gemmWall, gemmGflopsCpu: gemmCpu, pairedKnnGflopsCpu: pairedKnn, pairedGemmGflopsCpu: pairedGemm, pairedRatio: pairedKnn / pairedGemm },
    warnings,
  };
}

/** User + system CPU seconds of this process: unlike wall time, not inflated when other processes share the cores. */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
