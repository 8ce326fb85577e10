/**
 * k-nearest-neighbour classification. Distances of a block of queries to a block of training
 * rows come from one GEMM (‖q‖² − 2 q·x + ‖x‖², or q·x / (‖q‖‖x‖) for cosine); a bounded
 * max-heap per query keeps the k best, and a candidate costs one compare unless it beats the
 * current k-th best, so the GEMM dominates the time.
 */
import { OptionError } from '../errors';
import { gemm } from '../tensor/gemm';
import { Tensor } from '../tensor/tensor';
import { LabelledModel, asTensor } from './base';
import { type LabelInput, type MatrixInput, checkCols, checkTrainable, encodeLabels, integer, notFitted, positive, toMatrix } from './input';

/** Vote weights of {@link KNN}. */
export type KnnWeights = 'uniform' | 'distance' | { readonly temperature: number };

/** Options of {@link KNN}; the defaults are scikit-learn's `KNeighborsClassifier`. */
export interface KNNOptions {
  /** Number of neighbours. Default 5. */
  k?: number;
  /** 'euclidean' (default, scikit-learn's minkowski p = 2) or 'cosine' (distance 1 − cos). */
  metric?: 'euclidean' | 'cosine';
  /**
   * 'uniform' (default): one vote per neighbour. 'distance': weight 1/d as scikit-learn; when
   * some neighbours are at distance exactly 0 they share all the weight (1 each) and the others
   * get 0. `{temperature: τ}`: weight exp(cos/τ), the weighted kNN of the self-supervised
   * literature (InstDisc, SimCLR); needs metric 'cosine'.
   */
  weights?: KnnWeights;
  /** Queries per GEMM block. Default 512. */
  queryBlock?: number;
  /** Training rows per GEMM block. Default 2048. */
  trainBlock?: number;
  /**
   * Keep a copy of the training rows (default true), or, with false, the caller's array itself,
   * which must then not change while the model is used (it saves the copy's memory: 60,000 rows
   * of 1568 features are 376 MB).
   */
  copy?: boolean;
}

/** The k nearest training rows of each query, nearest first. */
export interface Neighbors {
  /** Number of neighbours per query. */
  readonly k: number;
  /** [Nq · k] training-row indices; row i's neighbours are at [i·k, (i+1)·k). */
  readonly indices: Int32Array;
  /** [Nq · k] distances (euclidean, or 1 − cosine similarity), recomputed in double for the selected rows. */
  readonly distances: Float64Array;
}

/**
 * k-nearest-neighbour classifier, scikit-learn's `KNeighborsClassifier(algorithm='brute')`.
 *
 * Ties are deterministic: among training rows at the same distance the lower training index
 * is nearer (so duplicates of a point enter the neighbour set in index order), and a vote tie
 * between classes goes to the smaller label. Neighbours are selected on the float32 GEMM
 * distances; the distances reported and used for weights are then recomputed exactly in double
 * (so an exact duplicate of a training row is at distance 0). A zero vector has cosine
 * similarity 0 to everything (distance 1), as in scikit-learn. k larger than the number of
 * training rows is an OptionError at `fit`.
 *
 * @example
 * ```ts
 * const knn = new KNN({ k: 20, metric: 'cosine', weights: 'distance' }).fit(xTrain, yTrain);
 * const acc = knn.score(xTest, yTest);
 * const { indices, distances } = knn.kneighbors(xTest);
 * ```
 */
export class KNN extends LabelledModel {
  protected readonly name = 'KNN';
  readonly k: number;
  readonly metric: 'euclidean' | 'cosine';
  readonly weights: KnnWeights;
  private readonly queryBlock: number;
  private readonly trainBlock: number;
  private readonly copy: boolean;
  private x: Float32Array | null = null;
  private sq: Float64Array | null = null;
  private invNorm: Float64Array | null = null;
  private target: Int32Array | null = null;
  private n = 0;
  private f = 0;

  constructor(options: KNNOptions = {}) {
    super();
    const op = 'KNN';
    this.k = integer(options.k ?? 5, 'k', op, 1);
    this.metric = options.metric ?? 'euclidean';
    if (this.metric !== 'euclidean' && this.metric !== 'cosine') {
      throw new OptionError(`${op}: metric must be 'euclidean' or 'cosine', got ${JSON.stringify(this.metric)}`);
    }
    const w = options.weights ?? 'uniform';
    if (typeof w === 'object' && w !== null) {
      positive(w.temperature, 'weights.temperature', op);
      if (this.metric !== 'cosine') {
        throw new OptionError(`${op}: weights {temperature} weighs by exp(cosine/τ) and needs metric 'cosine', got metric '${this.metric}'`);
      }
    } else if (w !== 'uniform' && w !== 'distance') {
      throw new OptionError(`${op}: weights must be 'uniform', 'distance' or {temperature: τ}, got ${JSON.stringify(w)}`);
    }
    this.weights = w;
    this.queryBlock = integer(options.queryBlock ?? 512, 'queryBlock', op, 1);
    this.trainBlock = integer(options.trainBlock ?? 2048, 'trainBlock', op, 1);
    if (options.copy !== undefined && typeof options.copy !== 'boolean') throw new OptionError(`${op}: copy must be true or false, got ${JSON.stringify(options.copy)}`);
    this.copy = options.copy ?? true;
  }

  /** Stores the training rows (a copy, unless `copy` is false), their squared norms and labels. */
  fit(X: MatrixInput, y: LabelInput): this {
    const op = 'KNN.fit';
    const m = toMatrix(X, op);
    checkTrainable(m, op);
    const { classes, index } = encodeLabels(y, m.rows, op);
    if (this.k > m.rows) {
      throw new OptionError(`${op}: k = ${this.k} neighbours requested but only ${m.rows} training rows (k must be ≤ N)`);
    }
    const F = m.cols;
    this.x = this.copy ? m.data.slice() : m.data;
    this.sq = new Float64Array(m.rows);
    this.invNorm = new Float64Array(m.rows);
    for (let i = 0; i < m.rows; i++) {
      let s = 0;
      for (let j = i * F; j < (i + 1) * F; j++) s += m.data[j] * m.data[j];
      this.sq[i] = s;
      this.invNorm[i] = s > 0 ? 1 / Math.sqrt(s) : 0;
    }
    this.target = index;
    this.fitted = classes;
    this.n = m.rows;
    this.f = F;
    return this;
  }

  /**
   * The k nearest training rows of each row of X, nearest first (distance ties: lower index first).
   *
   * @example
   * ```ts
   * const nb = knn.kneighbors(xQuery);
   * nb.indices[0 * nb.k];   // index of the nearest training row of query 0
   * ```
   */
  kneighbors(X: MatrixInput): Neighbors {
    const op = 'KNN.kneighbors';
    if (this.x === null || this.sq === null || this.invNorm === null) notFitted(op);
    const q = toMatrix(X, op);
    checkCols(q, this.f, op);
    const { x, sq, invNorm } = this;
    const k = this.k;
    const F = this.f;
    const N = this.n;
    const nq = q.rows;
    const cosine = this.metric === 'cosine';
    const indices = new Int32Array(nq * k);
    const distances = new Float64Array(nq * k);
    const qb = Math.min(this.queryBlock, Math.max(nq, 1));
    const tb = Math.min(this.trainBlock, N);
    const dots = new Float32Array(qb * tb);
    const heapKey = new Float64Array(qb * k);
    const heapIdx = new Int32Array(qb * k);
    const count = new Int32Array(qb);
    for (let q0 = 0; q0 < nq; q0 += qb) {
      const bq = Math.min(qb, nq - q0);
      count.fill(0);
      for (let t0 = 0; t0 < N; t0 += tb) {
        const bt = Math.min(tb, N - t0);
        // dots[i, j] = q_{q0+i} · x_{t0+j}
        gemm(false, true, bq, bt, F, q.data, q0 * F, F, x, t0 * F, F, dots, 0, bt, false);
        for (let i = 0; i < bq; i++) {
          const row = i * bt;
          const h = i * k;
          let c = count[i];
          // Ranking key, smaller = nearer: ‖x‖² − 2 q·x (‖q‖² is the same for the whole row),
          // or −q·x/‖x‖ for cosine (1/‖q‖ > 0 is the same for the whole row).
          let thr = c === k ? heapKey[h] : Infinity;
          // Candidates arrive in increasing index, so an equal key never displaces a kept row.
          if (cosine) {
            for (let j = 0; j < bt; j++) {
              const key = -dots[row + j] * invNorm[t0 + j];
              if (key < thr) {
                c = offer(heapKey, heapIdx, h, c, k, key, t0 + j);
                thr = c === k ? heapKey[h] : Infinity;
              }
            }
          } else {
            for (let j = 0; j < bt; j++) {
              const key = sq[t0 + j] - 2 * dots[row + j];
              if (key < thr) {
                c = offer(heapKey, heapIdx, h, c, k, key, t0 + j);
                thr = c === k ? heapKey[h] : Infinity;
              }
            }
          }
          count[i] = c;
        }
      }
      for (let i = 0; i < bq; i++) {
        this.exactDistances(q.data, (q0 + i) * F, heapIdx, i * k, indices, distances, (q0 + i) * k);
      }
    }
    return { k, indices, distances };
  }

  /**
   * Recomputes the distances of the k selected rows of one query in double and writes them,
   * sorted by (distance, index), to the outputs.
   */
  private exactDistances(qd: Float32Array, qOff: number, heapIdx: Int32Array, h: number, outIdx: Int32Array, outDist: Float64Array, o: number): void {
    const x = this.x!;
    const sq = this.sq!;
    const F = this.f;
    const k = this.k;
    let qq = 0;
    for (let p = 0; p < F; p++) qq += qd[qOff + p] * qd[qOff + p];
    for (let a = 0; a < k; a++) {
      const t = heapIdx[h + a];
      const xo = t * F;
      let d: number;
      if (this.metric === 'cosine') {
        let dot = 0;
        for (let p = 0; p < F; p++) dot += qd[qOff + p] * x[xo + p];
        // dot / sqrt(qq·xx) is exactly 1 for x = q (sqrt of a rounded square is exact).
        const den = Math.sqrt(qq * sq[t]);
        const cos = den > 0 ? dot / den : 0;
        d = Math.min(2, Math.max(0, 1 - cos));
      } else {
        let s = 0;
        for (let p = 0; p < F; p++) {
          const diff = qd[qOff + p] - x[xo + p];
          s += diff * diff;
        }
        d = Math.sqrt(s);
      }
      // Insertion into the sorted output (k is small).
      let pos = a;
      while (pos > 0 && (outDist[o + pos - 1] > d || (outDist[o + pos - 1] === d && outIdx[o + pos - 1] > t))) {
        outDist[o + pos] = outDist[o + pos - 1];
        outIdx[o + pos] = outIdx[o + pos - 1];
        pos--;
      }
      outDist[o + pos] = d;
      outIdx[o + pos] = t;
    }
  }

  /** Weighted class votes [Nq, K] of the neighbours (before normalisation). */
  private votes(X: MatrixInput): { votes: Float64Array; nq: number; K: number } {
    const nb = this.kneighbors(X);
    const K = this.classes.length;
    const target = this.target!;
    const k = nb.k;
    const nq = nb.indices.length / k;
    const votes = new Float64Array(nq * K);
    const w = this.weights;
    const invTau = typeof w === 'object' ? 1 / w.temperature : 0;
    for (let i = 0; i < nq; i++) {
      const o = i * k;
      const v = i * K;
      if (w === 'uniform') {
        for (let a = 0; a < k; a++) votes[v + target[nb.indices[o + a]]] += 1;
      } else if (w === 'distance') {
        let zeros = false;
        for (let a = 0; a < k; a++) if (nb.distances[o + a] === 0) zeros = true;
        for (let a = 0; a < k; a++) {
          const d = nb.distances[o + a];
          votes[v + target[nb.indices[o + a]]] += zeros ? (d === 0 ? 1 : 0) : 1 / d;
        }
      } else {
        // exp(cos/τ) scaled by exp(−cos_max/τ) (the nearest neighbour's), which cancels in the
        // argmax and the normalised probabilities but cannot overflow.
        const cosMax = 1 - nb.distances[o];
        for (let a = 0; a < k; a++) {
          const cos = 1 - nb.distances[o + a];
          votes[v + target[nb.indices[o + a]]] += Math.exp((cos - cosMax) * invTau);
        }
      }
    }
    return { votes, nq, K };
  }

  /** Class probabilities [Nq, K]: each class's share of the (weighted) votes, columns in `classes` order. */
  predictProba(X: MatrixInput): Tensor {
    const { votes, nq, K } = this.votes(X);
    const out = new Float32Array(nq * K);
    for (let i = 0; i < nq; i++) {
      let s = 0;
      for (let c = 0; c < K; c++) s += votes[i * K + c];
      for (let c = 0; c < K; c++) out[i * K + c] = votes[i * K + c] / s;
    }
    return asTensor(out, nq, K);
  }

  /** The label with the most (weighted) votes; a tie goes to the smaller label. */
  predict(X: MatrixInput): Int32Array {
    const { votes, nq, K } = this.votes(X);
    const classes = this.classes;
    const out = new Int32Array(nq);
    for (let i = 0; i < nq; i++) {
      let best = 0;
      for (let c = 1; c < K; c++) if (votes[i * K + c] > votes[i * K + best]) best = c;
      out[i] = classes[best];
    }
    return out;
  }
}

/** Adds row t with `key` to the heap of `size` rows (at most k kept); returns the new size. */
function offer(key: Float64Array, idx: Int32Array, h: number, size: number, k: number, kv: number, t: number): number {
  if (size < k) {
    heapPush(key, idx, h, size, kv, t);
    return size + 1;
  }
  heapReplaceTop(key, idx, h, k, kv, t);
  return k;
}

/** Max-heap on (key, index) in key[h .. h+k): the root is the farthest kept row, the later index on equal keys. */
function worse(key: Float64Array, idx: Int32Array, a: number, b: number): boolean {
  return key[a] > key[b] || (key[a] === key[b] && idx[a] > idx[b]);
}

function heapPush(key: Float64Array, idx: Int32Array, h: number, size: number, k: number, t: number): void {
  let i = size;
  key[h + i] = k;
  idx[h + i] = t;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!worse(key, idx, h + i, h + parent)) break;
    swap(key, idx, h + i, h + parent);
    i = parent;
  }
}

function heapReplaceTop(key: Float64Array, idx: Int32Array, h: number, size: number, k: number, t: number): void {
  key[h] = k;
  idx[h] = t;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= size) break;
    const r = l + 1;
    const c = r < size && worse(key, idx, h + r, h + l) ? r : l;
    if (!worse(key, idx, h + c, h + i)) break;
    swap(key, idx, h + i, h + c);
    i = c;
  }
}

function swap(key: Float64Array, idx: Int32Array, a: number, b: number): void {
  const tk = key[a];
  key[a] = key[b];
  key[b] = tk;
  const ti = idx[a];
  idx[a] = idx[b];
  idx[b] = ti;
}
