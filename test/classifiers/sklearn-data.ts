/**
 * The data of the scikit-learn comparisons in linear.test.ts and logistic.test.ts: labels
 * 1, 3, 5, … (odd, so the label set is not 0..K−1) and features that lean towards one column
 * per class. The same formula in Python (scikit-learn 1.2.1, Debian /usr/bin/python3):
 *
 *   i = np.arange(n)[:, None]; j = np.arange(f)[None, :]
 *   y = (np.arange(n) * 5 % k).astype(np.int32) * 2 + 1
 *   X = (((i * 37 + j * 11) % 23) / 23.0 + np.where(j == (y[:, None] - 1) // 2 % f, 0.8, 0.0)).astype(np.float32)
 */
export function sklearnData(n: number, f: number, k: number) {
  const x = new Float32Array(n * f);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = ((i * 5) % k) * 2 + 1;
    for (let j = 0; j < f; j++) x[i * f + j] = ((i * 37 + j * 11) % 23) / 23 + (j === ((y[i] - 1) / 2) % f ? 0.8 : 0);
  }
  return { X: { data: x, shape: [n, f] }, y };
}
