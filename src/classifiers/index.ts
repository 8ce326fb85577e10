/** Classic classifiers for judging learned representations, with scikit-learn's objectives and defaults. */
export type { Classifier } from './base';
export type { LabelInput, MatrixInput } from './input';
export { StandardScaler } from './scaler';
export type { StandardScalerOptions } from './scaler';
export { LogisticRegression } from './logistic';
export type { LogisticRegressionOptions, LogisticFitInfo } from './logistic';
export { minimizeLbfgs } from './lbfgs';
export type { LbfgsOptions, LbfgsResult, LbfgsStop, ObjectiveFn } from './lbfgs';
export { KNN } from './knn';
export type { KNNOptions, KnnWeights, Neighbors } from './knn';
export { RidgeClassifier } from './ridge';
export type { RidgeClassifierOptions } from './ridge';
export { NearestCentroid } from './centroid';
export { LinearSVC } from './svc';
export type { LinearSVCOptions } from './svc';
export { accuracy, confusionMatrix, precisionRecallF1, classificationReport } from './metrics';
export type { ConfusionMatrix, ClassificationScores, AveragedScores, LabelOptions, ReportOptions } from './metrics';
