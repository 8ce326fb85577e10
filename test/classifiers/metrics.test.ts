import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OptionError, ShapeError, accuracy, classificationReport, confusionMatrix, precisionRecallF1 } from '../../src/index';
import { pyFixed } from '../../src/classifiers/metrics';

const labelsArb = fc.integer({ min: 1, max: 60 }).chain((n) =>
  fc.tuple(fc.array(fc.integer({ min: 0, max: 6 }), { minLength: n, maxLength: n }), fc.array(fc.integer({ min: 0, max: 6 }), { minLength: n, maxLength: n })),
);

// The example of the scikit-learn comparison: 15 samples, label 5 only ever predicted.
const yt = Int32Array.from([0, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 3, 3, 0, 0]);
const yp = Int32Array.from([0, 0, 0, 0, 0, 0, 0, 0, 2, 1, 1, 3, 3, 5, 5]);

describe('metrics', () => {
  it('accuracy and the confusion matrix agree with direct counting', () => {
    fc.assert(
      fc.property(labelsArb, ([t, p]) => {
        const yT = Int32Array.from(t);
        const yP = Int32Array.from(p);
        const cm = confusionMatrix(yT, yP);
        const labels = [...new Set([...t, ...p])].sort((a, b) => a - b);
        expect(Array.from(cm.labels)).toEqual(labels);
        for (let a = 0; a < labels.length; a++) {
          for (let b = 0; b < labels.length; b++) {
            expect(cm.matrix[a][b]).toBe(t.filter((v, i) => v === labels[a] && p[i] === labels[b]).length);
          }
        }
        expect(accuracy(yT, yP)).toBe(t.filter((v, i) => v === p[i]).length / t.length);
        const s = precisionRecallF1(yT, yP);
        expect(s.accuracy).toBe(accuracy(yT, yP));
        // Weighted recall is the accuracy (Σ_c n_c/N · tp_c/n_c = Σ tp_c / N).
        expect(s.weighted.recall).toBeCloseTo(s.accuracy, 12);
      }),
    );
  });

  it("gives scikit-learn's per-class and averaged precision / recall / F1", () => {
    // precision_recall_fscore_support(yt, yp, zero_division=0) and average='macro' / 'weighted' (scikit-learn 1.2.1)
    const s = precisionRecallF1(yt, yp);
    expect(Array.from(s.labels)).toEqual([0, 1, 2, 3, 5]);
    expect(Array.from(s.precision)).toEqual([0.125, 0, 1, 1, 0]);
    [1 / 3, 0, 1 / 3, 1, 0].forEach((v, i) => expect(s.recall[i]).toBeCloseTo(v, 15));
    [0.18181818181818182, 0, 0.5, 1, 0].forEach((v, i) => expect(s.f1[i]).toBeCloseTo(v, 15));
    expect(Array.from(s.support)).toEqual([3, 7, 3, 2, 0]);
    expect(s.macro.precision).toBeCloseTo(0.425, 15);
    expect(s.macro.recall).toBeCloseTo(0.3333333333333333, 15);
    expect(s.macro.f1).toBeCloseTo(0.33636363636363636, 15);
    expect(s.weighted.precision).toBeCloseTo(0.35833333333333334, 15);
    expect(s.weighted.recall).toBeCloseTo(0.26666666666666666, 15);
    expect(s.weighted.f1).toBeCloseTo(0.26969696969696966, 15);
  });

  it("prints exactly scikit-learn's classification_report", () => {
    // repr(classification_report(yt, yp, zero_division=0)) from scikit-learn 1.2.1 (0.125 → '0.12': half-to-even).
    expect(classificationReport(yt, yp)).toBe(
      '              precision    recall  f1-score   support\n\n           0       0.12      0.33      0.18         3\n           1       0.00      0.00      0.00         7\n           2       1.00      0.33      0.50         3\n           3       1.00      1.00      1.00         2\n           5       0.00      0.00      0.00         0\n\n    accuracy                           0.27        15\n   macro avg       0.42      0.33      0.34        15\nweighted avg       0.36      0.27      0.27        15\n',
    );
    // classification_report(yt, yp, digits=3, target_names=['zero','one','two','three','five'], zero_division=0)
    expect(classificationReport(yt, yp, { digits: 3, targetNames: ['zero', 'one', 'two', 'three', 'five'] })).toBe(
      '              precision    recall  f1-score   support\n\n        zero      0.125     0.333     0.182         3\n         one      0.000     0.000     0.000         7\n         two      1.000     0.333     0.500         3\n       three      1.000     1.000     1.000         2\n        five      0.000     0.000     0.000         0\n\n    accuracy                          0.267        15\n   macro avg      0.425     0.333     0.336        15\nweighted avg      0.358     0.267     0.270        15\n',
    );
  });

  it("rounds like Python's format: half-to-even on exact binary ties only", () => {
    // format(x, '.2f') etc. in Python 3.11
    expect(pyFixed(0.125, 2)).toBe('0.12');
    expect(pyFixed(0.375, 2)).toBe('0.38');
    expect(pyFixed(0.625, 2)).toBe('0.62');
    expect(pyFixed(2.5, 0)).toBe('2');
    expect(pyFixed(3.5, 0)).toBe('4');
    expect(pyFixed(0.135, 2)).toBe('0.14'); // 0.135 is 0.13500000000000000888…, not a tie
    expect(pyFixed(-0.125, 2)).toBe('-0.12');
    expect(pyFixed(1, 3)).toBe('1.000');
  });

  it('keeps every sample: labels given must cover yTrue and yPred; extra labels give zero rows', () => {
    const cm = confusionMatrix(Int32Array.of(1, 1), Int32Array.of(1, 0), { labels: [2, 0, 1] });
    expect(Array.from(cm.labels)).toEqual([0, 1, 2]);
    expect(cm.matrix).toEqual([
      [0, 0, 0],
      [1, 1, 0],
      [0, 0, 0],
    ]);
    expect(() => confusionMatrix(Int32Array.of(1, 3), Int32Array.of(1, 1), { labels: [1] })).toThrow(/yTrue\[1\] = 3 is not in labels \[1\]/);
    expect(() => confusionMatrix(Int32Array.of(1), Int32Array.of(1), { labels: [1, 1] })).toThrow(OptionError);
    expect(() => accuracy(Int32Array.of(1, 2), Int32Array.of(1))).toThrow(ShapeError);
    expect(() => accuracy(new Int32Array(0), new Int32Array(0))).toThrow(/at least one label/);
    expect(() => classificationReport(yt, yp, { targetNames: ['a'] })).toThrow(/5 labels .* but 1 targetNames/);
  });
});
