/**
 * Classification metrics with scikit-learn's definitions: accuracy, the confusion matrix,
 * per-class precision / recall / F1 with macro and weighted averages, and a printable report
 * laid out like `sklearn.metrics.classification_report`.
 */
import { OptionError, ShapeError } from '../errors';

/** A confusion matrix: `matrix[i][j]` counts samples of true label `labels[i]` predicted as `labels[j]`. */
export interface ConfusionMatrix {
  /** The labels of the rows and columns, ascending. */
  readonly labels: Int32Array;
  /** Counts, rows = true label, columns = predicted label (scikit-learn's convention). */
  readonly matrix: number[][];
}

/** An average of per-class scores. */
export interface AveragedScores {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

/** Per-class precision, recall, F1 and support, with averages; arrays are indexed like `labels`. */
export interface ClassificationScores {
  /** Sorted union of the labels in yTrue and yPred (or the `labels` option). */
  readonly labels: Int32Array;
  /** tp / (tp + fp); 0 when a label is never predicted (scikit-learn's `zero_division=0`). */
  readonly precision: Float64Array;
  /** tp / (tp + fn); 0 when a label never occurs in yTrue. */
  readonly recall: Float64Array;
  /** 2·p·r / (p + r); 0 when p + r = 0. */
  readonly f1: Float64Array;
  /** Number of samples of each label in yTrue. */
  readonly support: Int32Array;
  /** Unweighted mean over `labels`. */
  readonly macro: AveragedScores;
  /** Mean over `labels` weighted by support. */
  readonly weighted: AveragedScores;
  /** Fraction of correct predictions (equals micro-averaged precision, recall and F1). */
  readonly accuracy: number;
}

/** Options of {@link confusionMatrix} and {@link precisionRecallF1}. */
export interface LabelOptions {
  /**
   * The labels to report, in any order (they are sorted). Every label occurring in yTrue or
   * yPred must be listed — samples are never dropped silently; extra labels give zero rows.
   * Default: the sorted union of the labels in yTrue and yPred.
   */
  labels?: ArrayLike<number>;
}

function checkPair(yTrue: Int32Array, yPred: Int32Array, op: string): void {
  if (!(yTrue instanceof Int32Array) || !(yPred instanceof Int32Array)) {
    throw new OptionError(`${op}: expected yTrue and yPred as Int32Arrays`);
  }
  if (yTrue.length !== yPred.length) {
    throw new ShapeError(`${op}: yTrue has ${yTrue.length} labels but yPred has ${yPred.length}`);
  }
  if (yTrue.length === 0) throw new ShapeError(`${op}: expected at least one label, got empty yTrue and yPred`);
}

/**
 * Fraction of samples whose predicted label equals the true label.
 *
 * @example
 * ```ts
 * accuracy(Int32Array.of(0, 1, 2, 2), Int32Array.of(0, 2, 2, 2)); // 0.75
 * ```
 */
export function accuracy(yTrue: Int32Array, yPred: Int32Array): number {
  checkPair(yTrue, yPred, 'accuracy');
  let hit = 0;
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) hit++;
  return hit / yTrue.length;
}

/** Sorted labels and a lookup from label to position. */
function labelIndex(yTrue: Int32Array, yPred: Int32Array, given: ArrayLike<number> | undefined, op: string): { labels: Int32Array; pos: Map<number, number> } {
  let labels: Int32Array;
  if (given === undefined) {
    const set = new Set<number>();
    for (let i = 0; i < yTrue.length; i++) set.add(yTrue[i]);
    for (let i = 0; i < yPred.length; i++) set.add(yPred[i]);
    labels = Int32Array.from(set).sort();
  } else {
    labels = Int32Array.from(given).sort();
    for (let i = 0; i < labels.length; i++) {
      if (i > 0 && labels[i] === labels[i - 1]) throw new OptionError(`${op}: labels lists ${labels[i]} twice`);
    }
    if (labels.length === 0) throw new OptionError(`${op}: labels must not be empty`);
  }
  const pos = new Map<number, number>();
  labels.forEach((l, i) => pos.set(l, i));
  if (given !== undefined) {
    for (const [name, y] of [['yTrue', yTrue], ['yPred', yPred]] as const) {
      for (let i = 0; i < y.length; i++) {
        if (!pos.has(y[i])) throw new OptionError(`${op}: ${name}[${i}] = ${y[i]} is not in labels [${Array.from(labels).join(', ')}]`);
      }
    }
  }
  return { labels, pos };
}

/**
 * Counts of (true label, predicted label) pairs.
 *
 * @example
 * ```ts
 * const cm = confusionMatrix(Int32Array.of(0, 1, 1), Int32Array.of(0, 0, 1));
 * cm.labels; // Int32Array [0, 1]
 * cm.matrix; // [[1, 0], [1, 1]]  (row = true, column = predicted)
 * ```
 */
export function confusionMatrix(yTrue: Int32Array, yPred: Int32Array, options: LabelOptions = {}): ConfusionMatrix {
  checkPair(yTrue, yPred, 'confusionMatrix');
  const { labels, pos } = labelIndex(yTrue, yPred, options.labels, 'confusionMatrix');
  const k = labels.length;
  const matrix = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < yTrue.length; i++) matrix[pos.get(yTrue[i])!][pos.get(yPred[i])!]++;
  return { labels, matrix };
}

/**
 * Per-class precision, recall, F1 and support, plus macro and weighted averages, as
 * `sklearn.metrics.precision_recall_fscore_support` with `zero_division=0` (a ratio whose
 * denominator is 0 counts as 0; scikit-learn's default also gives 0, with a warning).
 *
 * @example
 * ```ts
 * const s = precisionRecallF1(Int32Array.of(0, 1, 1), Int32Array.of(0, 0, 1));
 * s.precision; // Float64Array [0.5, 1]
 * s.recall;    // Float64Array [1, 0.5]
 * s.macro.f1;  // 0.666…
 * ```
 */
export function precisionRecallF1(yTrue: Int32Array, yPred: Int32Array, options: LabelOptions = {}): ClassificationScores {
  checkPair(yTrue, yPred, 'precisionRecallF1');
  const { labels, matrix } = confusionMatrix(yTrue, yPred, options);
  const k = labels.length;
  const precision = new Float64Array(k);
  const recall = new Float64Array(k);
  const f1 = new Float64Array(k);
  const support = new Int32Array(k);
  let correct = 0;
  for (let c = 0; c < k; c++) {
    const tp = matrix[c][c];
    correct += tp;
    let predicted = 0;
    let actual = 0;
    for (let o = 0; o < k; o++) {
      predicted += matrix[o][c];
      actual += matrix[c][o];
    }
    support[c] = actual;
    precision[c] = predicted === 0 ? 0 : tp / predicted;
    recall[c] = actual === 0 ? 0 : tp / actual;
    const pr = precision[c] + recall[c];
    f1[c] = pr === 0 ? 0 : (2 * precision[c] * recall[c]) / pr;
  }
  const total = yTrue.length;
  const mean = (v: Float64Array, w: Int32Array | null): number => {
    let s = 0;
    for (let c = 0; c < k; c++) s += w === null ? v[c] : v[c] * w[c];
    return w === null ? s / k : s / total;
  };
  return {
    labels,
    precision,
    recall,
    f1,
    support,
    macro: { precision: mean(precision, null), recall: mean(recall, null), f1: mean(f1, null) },
    weighted: { precision: mean(precision, support), recall: mean(recall, support), f1: mean(f1, support) },
    accuracy: correct / total,
  };
}

/** Options of {@link classificationReport}. */
export interface ReportOptions extends LabelOptions {
  /** Digits after the decimal point. Default 2, as scikit-learn. */
  digits?: number;
  /** Display names of the labels, in sorted label order. Default: the labels as numbers. */
  targetNames?: readonly string[];
}

/**
 * A text report laid out exactly like scikit-learn's `classification_report` (same column
 * widths, a line per label, then accuracy, macro avg and weighted avg; numbers rounded
 * half-to-even like Python's format).
 *
 * @example
 * ```ts
 * console.log(classificationReport(yTest, model.predict(xTest)));
 * //               precision    recall  f1-score   support
 * //
 * //            0       0.98      0.99      0.98       980
 * // ...
 * //     accuracy                           0.92     10000
 * ```
 */
export function classificationReport(yTrue: Int32Array, yPred: Int32Array, options: ReportOptions = {}): string {
  const digits = options.digits ?? 2;
  if (!Number.isInteger(digits) || digits < 0 || digits > 20) {
    throw new OptionError(`classificationReport: digits must be an integer in [0, 20], got ${String(digits)}`);
  }
  const s = precisionRecallF1(yTrue, yPred, options);
  const k = s.labels.length;
  const names = options.targetNames ?? Array.from(s.labels, String);
  if (names.length !== k) {
    throw new OptionError(`classificationReport: ${k} labels [${Array.from(s.labels).join(', ')}] but ${names.length} targetNames`);
  }
  const width = Math.max(...names.map((n) => n.length), 'weighted avg'.length, digits);
  const pad = (t: string, w: number): string => t.padStart(w);
  const row = (name: string, p: number, r: number, f: number, n: number): string =>
    `${pad(name, width)} ${[p, r, f].map((v) => ' ' + pad(pyFixed(v, digits), 9)).join('')} ${pad(String(n), 9)}\n`;
  let out = `${pad('', width)} ${['precision', 'recall', 'f1-score', 'support'].map((h) => ' ' + pad(h, 9)).join('')}\n\n`;
  for (let c = 0; c < k; c++) out += row(names[c], s.precision[c], s.recall[c], s.f1[c], s.support[c]);
  out += '\n';
  out += `${pad('accuracy', width)} ${' ' + pad('', 9)}${' ' + pad('', 9)} ${pad(pyFixed(s.accuracy, digits), 9)} ${pad(String(yTrue.length), 9)}\n`;
  out += row('macro avg', s.macro.precision, s.macro.recall, s.macro.f1, yTrue.length);
  out += row('weighted avg', s.weighted.precision, s.weighted.recall, s.weighted.f1, yTrue.length);
  return out;
}

/**
 * `x` with `digits` decimals, rounded half-to-even on the exact binary value as Python's
 * `format(x, '.2f')` does (JavaScript's toFixed rounds exact ties such as 0.125 up).
 */
export function pyFixed(x: number, digits: number): string {
  const s = x.toFixed(digits);
  if (!Number.isFinite(x)) return s;
  // Doubles ≥ 2^-47 have at most 100 decimals, so toFixed(100) is their exact expansion.
  const exact = Math.abs(x).toFixed(100);
  const dot = exact.indexOf('.');
  const tail = exact.slice(dot + 1 + digits);
  if (!/^50*$/.test(tail)) return s;
  // An exact tie: keep the even neighbour.
  const kept = exact.slice(0, dot + 1 + digits).replace(/\.$/, '');
  const lastDigit = Number(kept[kept.length - 1]);
  if (lastDigit % 2 === 0) return (x < 0 ? '-' : '') + kept;
  return s;
}
