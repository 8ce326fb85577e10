import { describe, expect, it } from 'vitest';
import { KNN, LinearSVC, LogisticRegression, NearestCentroid, OptionError, RidgeClassifier, ShapeError, StandardScaler } from '../../src/index';

describe('classifiers on plain arrays (number[][] and number[])', () => {
  it('fit, predict and score take rows and labels as plain arrays', () => {
    // Two clusters on a line: x < 0.5 is class 3, x > 0.5 is class 7 (labels need not start at 0).
    const X = [[0], [0.1], [0.2], [0.8], [0.9], [1]];
    const y = [3, 3, 3, 7, 7, 7];
    const queries = [[0.05], [0.95]];
    for (const model of [new KNN({ k: 1 }), new NearestCentroid(), new LogisticRegression(), new RidgeClassifier(), new LinearSVC()]) {
      model.fit(X, y);
      expect(Array.from(model.classes), model.constructor.name).toEqual([3, 7]);
      expect(Array.from(model.predict(queries)), model.constructor.name).toEqual([3, 7]);
      expect(model.score(queries, [3, 3]), model.constructor.name).toBe(0.5);
    }
  });

  it('StandardScaler standardizes plain rows: (x − mean) / std with the population std', () => {
    // Column 0: mean 2, std sqrt(2/3); column 1: mean 10, std sqrt(200/3).
    const Z = new StandardScaler().fit([[1, 0], [2, 10], [3, 20]]).transform([[3, 20]]);
    expect(Z.data[0]).toBeCloseTo(1 / Math.sqrt(2 / 3), 5);
    expect(Z.data[1]).toBeCloseTo(10 / Math.sqrt(200 / 3), 5);
  });

  it('refuses ragged rows, non-numbers and non-integer labels, saying where', () => {
    expect(() => new KNN().fit([[0, 1], [2]], [0, 1])).toThrow(ShapeError);
    expect(() => new KNN().fit([[0, 1], [2]], [0, 1])).toThrow(/row 1 is of length 1/);
    expect(() => new KNN().fit([[0, 1], [2, '3' as unknown as number]], [0, 1])).toThrow(/at row 1, column 1/);
    expect(() => new KNN().fit([[0, 1], [2, NaN]], [0, 1])).toThrow(OptionError);
    expect(() => new KNN().fit([[0], [1]], [0, 1.5])).toThrow(/labels must be integers, got 1.5 at index 1/);
    expect(() => new KNN().fit([[0], [1]], [0])).toThrow(/X has 2 rows but y has 1 labels/);
    expect(() => new KNN().fit([0, 1] as unknown as number[][], [0, 1])).toThrow(/number\[\]\[\]/);
    const knn = new KNN({ k: 1 }).fit([[0, 0], [1, 1]], [0, 1]);
    expect(() => knn.predict([[0, 0, 0]])).toThrow(/fitted on 2 features, X has 3/);
  });
});
