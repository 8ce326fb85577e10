/** Standardisation of features: (x − mean) / std per column, as scikit-learn's `StandardScaler`. */
import { OptionError, ShapeError } from '../errors';
import { Tensor } from '../tensor/tensor';
import { asTensor } from './base';
import { type MatrixInput, checkCols, checkTrainable, notFitted, toMatrix } from './input';

/** Options of {@link StandardScaler}; the defaults are scikit-learn's. */
export interface StandardScalerOptions {
  /** Subtract the column means. Default true. */
  withMean?: boolean;
  /** Divide by the column standard deviations. Default true. */
  withStd?: boolean;
}

/**
 * Per-feature standardisation z = (x − mean) / scale, with the population standard deviation
 * (ddof = 0) computed by two passes in double.
 *
 * Constant features are left unscaled: scale = 1 where the variance is indistinguishable from
 * 0, i.e. var ≤ N·eps·var + (N·mean·eps)² with eps = 2⁻⁵² — scikit-learn 1.2's test, an error
 * bound of the two-pass algorithm — so they map to 0 (with `withMean`) instead of NaN.
 *
 * @example
 * ```ts
 * const scaler = new StandardScaler().fit(xTrain);
 * const zTrain = scaler.transform(xTrain); // Tensor [N, F], columns of mean 0 and std 1
 * const zTest = scaler.transform(xTest);   // with the training statistics
 * ```
 */
export class StandardScaler {
  readonly withMean: boolean;
  readonly withStd: boolean;
  private mu: Float64Array | null = null;
  private variance: Float64Array | null = null;
  private sc: Float64Array | null = null;

  constructor(options: StandardScalerOptions = {}) {
    this.withMean = options.withMean ?? true;
    this.withStd = options.withStd ?? true;
  }

  /** Column means (scikit-learn's `mean_`). */
  get mean(): Float64Array {
    if (this.mu === null) notFitted('StandardScaler.mean');
    return this.mu;
  }

  /** Column population variances (`var_`). */
  get var(): Float64Array {
    if (this.variance === null) notFitted('StandardScaler.var');
    return this.variance;
  }

  /** Divisors per column (`scale_`): the standard deviation, or 1 for constant columns (all 1 without `withStd`). */
  get scale(): Float64Array {
    if (this.sc === null) notFitted('StandardScaler.scale');
    return this.sc;
  }

  /**
   * A fitted scaler from saved statistics (e.g. a model file's): `mean` and `var` [F], `scale` [F]
   * as {@link StandardScaler.scale} describes it. Lengths and finiteness are checked.
   */
  static fromParameters(p: { mean: Float64Array; var: Float64Array; scale: Float64Array }, options: StandardScalerOptions = {}): StandardScaler {
    const op = 'StandardScaler.fromParameters';
    const f = p.mean.length;
    if (p.var.length !== f || p.scale.length !== f) throw new ShapeError(`${op}: mean, var and scale must have one length, got ${f}, ${p.var.length} and ${p.scale.length}`);
    for (let j = 0; j < f; j++) {
      if (!Number.isFinite(p.mean[j]) || !(p.var[j] >= 0) || !(p.scale[j] > 0) || !Number.isFinite(p.scale[j])) {
        throw new OptionError(`${op}: column ${j} has mean ${p.mean[j]}, var ${p.var[j]}, scale ${p.scale[j]}; expected finite values, var ≥ 0 and scale > 0`);
      }
    }
    const s = new StandardScaler(options);
    s.mu = Float64Array.from(p.mean);
    s.variance = Float64Array.from(p.var);
    s.sc = Float64Array.from(p.scale);
    return s;
  }

  /** Computes the column statistics of X [N, F] (N ≥ 1). */
  fit(X: MatrixInput): this {
    const op = 'StandardScaler.fit';
    const m = toMatrix(X, op);
    checkTrainable(m, op);
    const { rows: n, cols: f, data } = m;
    const mu = new Float64Array(f);
    for (let i = 0; i < n; i++) for (let j = 0, o = i * f; j < f; j++) mu[j] += data[o + j];
    for (let j = 0; j < f; j++) mu[j] /= n;
    const v = new Float64Array(f);
    for (let i = 0; i < n; i++) {
      for (let j = 0, o = i * f; j < f; j++) {
        const d = data[o + j] - mu[j];
        v[j] += d * d;
      }
    }
    const eps = 2.220446049250313e-16;
    const sc = new Float64Array(f);
    for (let j = 0; j < f; j++) {
      v[j] /= n;
      const bound = n * eps * v[j] + (n * mu[j] * eps) ** 2;
      sc[j] = !this.withStd || v[j] <= bound ? 1 : Math.sqrt(v[j]);
    }
    this.mu = mu;
    this.variance = v;
    this.sc = sc;
    return this;
  }

  /** (X − mean) / scale as a new Tensor [N, F] (mean is 0 without `withMean`). */
  transform(X: MatrixInput): Tensor {
    const op = 'StandardScaler.transform';
    if (this.mu === null || this.sc === null) notFitted(op);
    const m = toMatrix(X, op);
    checkCols(m, this.mu.length, op);
    const { rows: n, cols: f, data } = m;
    const out = new Float32Array(n * f);
    const mu = this.withMean ? this.mu : new Float64Array(f);
    const sc = this.sc;
    for (let i = 0; i < n; i++) for (let j = 0, o = i * f; j < f; j++) out[o + j] = (data[o + j] - mu[j]) / sc[j];
    return asTensor(out, n, f);
  }

  /** fit(X) then transform(X). */
  fitTransform(X: MatrixInput): Tensor {
    return this.fit(X).transform(X);
  }

  /** X · scale + mean: undoes {@link StandardScaler.transform}. */
  inverseTransform(X: MatrixInput): Tensor {
    const op = 'StandardScaler.inverseTransform';
    if (this.mu === null || this.sc === null) notFitted(op);
    const m = toMatrix(X, op);
    checkCols(m, this.mu.length, op);
    const { rows: n, cols: f, data } = m;
    const out = new Float32Array(n * f);
    const mu = this.withMean ? this.mu : new Float64Array(f);
    for (let i = 0; i < n; i++) for (let j = 0, o = i * f; j < f; j++) out[o + j] = data[o + j] * this.sc[j] + mu[j];
    return asTensor(out, n, f);
  }
}
