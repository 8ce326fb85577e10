/**
 * The classic classifiers on raw MNIST pixels (60,000 train / 10,000 test, pixels / 255): test
 * accuracy and fit / predict wall time of each, next to scikit-learn 1.2's accuracy on the same
 * data. For the kNN it also reports the effective GFLOP/s, 2·Nq·Ntr·F / predict time, next to the
 * raw GEMM kernel's GFLOP/s on the kNN's own block shape, measured in the same run (median of
 * three calls before and three after the kNN), so the ratio shows what the top-k and the
 * bookkeeping cost. Times are given as wall time and as this process's CPU time: the machine's
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
import { medianMs, table } from './lib/measure';

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

  // kNN, with the raw GEMM rate of its block shape measured around it.
  const knnOptions = { k: 20, metric: 'cosine' as const, weights: 'distance' as const };
  const qb = Math.min(512, nTe);
  const tb = Math.min(2048, nTr);
  const dots = new Float32Array(qb * tb);
  const block = () => gemm(false, true, qb, tb, F, xTe.data, 0, F, xTr.data, 0, F, dots, 0, tb, false);
  // Wall ms (median of 3) and CPU ms (mean of the same 3) of one block.
  const gemmMs = (): { wall: number; cpu: number } => {
    block();
    const c0 = cpuSeconds();
    const wall = medianMs(block, 3, 0);
    return { wall, cpu: ((cpuSeconds() - c0) * 1000) / 3 };
  };
  const gemmBefore = gemmMs();
  const knnPred = run('KNN', 'k = 20, cosine, distance-weighted', '96.95 (issue)', () => new KNN({ ...knnOptions, queryBlock: qb, trainBlock: tb }), () => '');
  const gemmAfter = gemmMs();
  const knnRow = rows[rows.length - 1];
  const blockGflops = (2 * qb * tb * F) / 1e6; // GFLOP per block × 1000, so / ms gives GFLOP/s
  const flops = 2 * nTe * nTr * F;
  const gemmWall = blockGflops / ((gemmBefore.wall + gemmAfter.wall) / 2);
  const gemmCpu = blockGflops / ((gemmBefore.cpu + gemmAfter.cpu) / 2);
  const knnWall = flops / (knnRow['predict s'] * 1e9);
  const knnCpu = flops / (knnRow['predict cpu s'] * 1e9);
  knnRow.notes = `${knnWall.toFixed(2)} GFLOP/s effective = ${((100 * knnWall) / gemmWall).toFixed(0)} % of raw GEMM (CPU time: ${((100 * knnCpu) / gemmCpu).toFixed(0)} %)`;

  console.log(`\n${table(rows as unknown as Array<Record<string, string | number>>)}\n`);
  const gemmRows = [
    { measure: `raw gemm ${qb}×${tb}×${F} (transB), before kNN`, 'GFLOP/s (wall)': blockGflops / gemmBefore.wall, 'GFLOP/s (CPU time)': blockGflops / gemmBefore.cpu },
    { measure: `raw gemm ${qb}×${tb}×${F} (transB), after kNN`, 'GFLOP/s (wall)': blockGflops / gemmAfter.wall, 'GFLOP/s (CPU time)': blockGflops / gemmAfter.cpu },
    { measure: `kNN predict, 2·${nTe}·${nTr}·${F} / time`, 'GFLOP/s (wall)': knnWall, 'GFLOP/s (CPU time)': knnCpu },
    { measure: 'kNN / raw gemm (mean of before and after)', 'GFLOP/s (wall)': knnWall / gemmWall, 'GFLOP/s (CPU time)': knnCpu / gemmCpu },
  ];
  console.log(`${table(gemmRows)}\n`);
  console.log('KNN classification report:\n');
  console.log(classificationReport(yTe, knnPred));
  for (const w of warnings) console.log(`warning: ${w}`);
  return { nTrain: nTr, nTest: nTe, rows, gemm: { block: [qb, tb, F], before: gemmBefore, after: gemmAfter, gflopsWall: gemmWall, gflopsCpu: gemmCpu }, knn: { gflopsWall: knnWall, gflopsCpu: knnCpu, ratioWall: knnWall / gemmWall, ratioCpu: knnCpu / gemmCpu }, warnings };
}

/** User + system CPU seconds of this process: unlike wall time, not inflated when other processes share the cores. */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
