import { describe, expect, it } from 'vitest';
import { GradError, Tensor, add, reshape, backward, crossEntropy, exp, log, logSoftmax, matmul, max, mean, mul, noGrad, relu, abs, setAnomalyDetection, softmax, sum, tensor } from '../../src/index';
import { accumulateGrad, record } from '../../src/autograd/engine';

const leaf = (values: number[], shape = [values.length]) => tensor(values, shape, { requiresGrad: true });

describe('autograd engine', () => {
  it('computes d(x·y + x)/dx = y + 1 and d/dy = x, and a scalar root needs no gradient argument', () => {
    const x = leaf([2, -1]);
    const y = leaf([3, 5]);
    sum(add(mul(x, y), x)).backward();
    expect([...x.grad!.data]).toEqual([4, 6]);
    expect([...y.grad!.data]).toEqual([2, -1]);
  });

  it('accumulates across backward calls', () => {
    const x = leaf([1, 2]);
    sum(mul(x, x)).backward();
    sum(mul(x, x)).backward();
    expect([...x.grad!.data]).toEqual([4, 8]); // 2 · 2x
  });

  it('adds gradients of a tensor used on several paths (diamond)', () => {
    const x = leaf([3]);
    const a = mul(x, 2);
    const b = mul(a, a); // 4x²
    const c = add(b, a); // 4x² + 2x → 8x + 2
    c.backward();
    expect(x.grad!.item()).toBe(26);
  });

  it('a non-scalar root needs an explicit gradient of its shape', () => {
    const x = leaf([1, 2, 3]);
    const y = mul(x, x);
    expect(() => y.backward()).toThrow(/non-scalar root/);
    expect(() => y.backward(tensor([1, 1]))).toThrow(/gradient shape \[2\] differs/);
    y.backward(tensor([1, 0, 2]));
    expect([...x.grad!.data]).toEqual([2, 0, 12]);
  });

  it('frees the graph after backward unless retainGraph', () => {
    const x = leaf([1, 2]);
    const y = sum(exp(x));
    y.backward(undefined, { retainGraph: true });
    y.backward();
    expect(x.grad!.data[0]).toBeCloseTo(2 * Math.E, 5);
    expect(() => y.backward()).toThrow(GradError);
    expect(() => y.backward()).toThrow(/already freed/);
  });

  it('noGrad records nothing and restores the mode after a throw', () => {
    const x = leaf([1]);
    const y = noGrad(() => mul(x, x));
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    expect(() =>
      noGrad(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(mul(x, x).requiresGrad).toBe(true);
  });

  it('detach cuts the graph', () => {
    const x = leaf([2]);
    const y = mul(mul(x, x).detach(), x); // treated as 4·x
    y.backward();
    expect(x.grad!.item()).toBe(4);
  });

  it('refuses backward on a tensor that does not require gradients', () => {
    expect(() => sum(tensor([1, 2])).backward()).toThrow(GradError);
  });

  it('follows PyTorch at kinks: relu′(0) = 0, abs′(0) = 0, max ties go to the first index', () => {
    const x = leaf([0, 0, 1]);
    sum(relu(x)).backward();
    expect([...x.grad!.data]).toEqual([0, 0, 1]);
    const z = leaf([0, -1, 1]);
    sum(abs(z)).backward();
    expect([...z.grad!.data]).toEqual([0, -1, 1]);
    const m = leaf([1, 5, 5, 2, 5], [5]);
    max(m).backward();
    expect([...m.grad!.data]).toEqual([0, 1, 0, 0, 0]);
    const m2 = leaf([7, 7, 1, 7], [2, 2]);
    max(m2, 0).backward(tensor([1, 1]));
    expect([...m2.grad!.data]).toEqual([1, 1, 0, 0]);
  });

  it('survives a long chain without overflowing the stack', () => {
    const x = leaf([1]);
    let y: Tensor = x;
    for (let i = 0; i < 20_000; i++) y = add(y, 1e-4);
    y.backward();
    expect(x.grad!.item()).toBe(1);
  });

  it('anomaly mode names the op that produced NaN', () => {
    setAnomalyDetection(true);
    try {
      expect(() => log(tensor([-1]))).toThrow(/anomaly: log produced NaN/);
    } finally {
      setAnomalyDetection(false);
    }
    expect(log(tensor([-1])).item()).toBeNaN();
  });
});

describe('gradient buffers are never shared between tensors', () => {
  // The engine adopts a rule's fresh gradient as a leaf's .grad without copying; anything a
  // rule passes through (or returns twice) must still be copied. Mutating one gradient must
  // leave every other and the seed untouched.
  it('add passes its incoming gradient to both inputs: each leaf gets its own copy', () => {
    const a = tensor([1, 2], [2], { requiresGrad: true });
    const b = tensor([3, 4], [2], { requiresGrad: true });
    const seed = tensor([0.5, -1], [2]);
    backward(add(a, b), seed);
    a.grad!.data[0] = 99;
    expect(Array.from(b.grad!.data)).toEqual([0.5, -1]);
    expect(Array.from(seed.data)).toEqual([0.5, -1]);
  });

  it('reshape hands on a view of the incoming gradient: the leaf gets a copy, not the caller\'s seed', () => {
    const a = tensor([1, 2, 3, 4], [4], { requiresGrad: true });
    const seed = tensor([1, 2, 3, 4], [2, 2]);
    backward(reshape(a, [2, 2]), seed);
    a.grad!.data[0] = 99;
    expect(Array.from(seed.data)).toEqual([1, 2, 3, 4]);
  });

  it('a rule returning one fresh tensor for two leaves: both get the values, neither aliases the other', () => {
    const a = tensor([1, 2], [2], { requiresGrad: true });
    const b = tensor([3, 4], [2], { requiresGrad: true });
    const out = record('twice', new Tensor(Float32Array.of(0, 0), [2]), [a, b], (g) => {
      const d = new Tensor(Float32Array.from(g.data, (v) => 2 * v), [2]);
      return [d, d];
    });
    backward(out, tensor([1, 3], [2]));
    expect(Array.from(a.grad!.data)).toEqual([2, 6]);
    a.grad!.data[1] = -5;
    expect(Array.from(b.grad!.data)).toEqual([2, 6]);
  });

  it('a fresh gradient adopted by a leaf is not changed by a later accumulation into another path', () => {
    // y = a·c + a·d through two products: a's gradient is the sum, c's and d's stay their own.
    const a = tensor([2], [1], { requiresGrad: true });
    const c = tensor([3], [1], { requiresGrad: true });
    const d = tensor([5], [1], { requiresGrad: true });
    backward(sum(add(mul(a, c), mul(a, d))));
    expect(Array.from(a.grad!.data)).toEqual([8]);
    expect(Array.from(c.grad!.data)).toEqual([2]);
    expect(Array.from(d.grad!.data)).toEqual([2]);
    backward(sum(mul(a, c))); // accumulates: a += 3, c += 2
    expect(Array.from(a.grad!.data)).toEqual([11]);
    expect(Array.from(c.grad!.data)).toEqual([4]);
    expect(Array.from(d.grad!.data)).toEqual([2]);
  });
});

describe('softmax, logSoftmax and crossEntropy at extreme logits', () => {
  it('crossEntropy is finite and exact for logits of ±1e4', () => {
    const z = leaf([1e4, -1e4, 0, -1e4, 1e4, 0], [2, 3]);
    const loss = crossEntropy(z, Int32Array.of(0, 0));
    // Row 0: target is the maximum, loss 0. Row 1: target 2e4 below the maximum, loss 2e4.
    expect(loss.item()).toBeCloseTo(1e4, 0);
    loss.backward();
    // d/dz = (softmax − onehot)/N: row 0 → [0,0,0]; row 1 → [−1/2, 1/2, 0]
    expect([...z.grad!.data]).toEqual([0, 0, 0, -0.5, 0.5, 0]);
  });

  it('crossEntropy equals −mean(logSoftmax[target]) from the composed ops', () => {
    const z = tensor([[0.3, -1.2, 2.0], [1.5, 0.1, -0.7]]);
    const t = Int32Array.of(2, 1);
    const ls = logSoftmax(z);
    const expected = -(ls.data[2] + ls.data[3 + 1]) / 2;
    expect(crossEntropy(z, t).item()).toBeCloseTo(expected, 6);
    // closed form for row 0: log(Σe^z) − z_2
    const lse = Math.log(Math.exp(0.3) + Math.exp(-1.2) + Math.exp(2.0));
    expect(-ls.data[2]).toBeCloseTo(lse - 2.0, 6);
  });

  it('softmax rows sum to 1 and stay finite for large logits; bad targets throw', () => {
    const s = softmax(tensor([[1e4, 0, -1e4]]));
    expect([...s.data]).toEqual([1, 0, 0]);
    expect(() => crossEntropy(tensor([[1, 2]]), Int32Array.of(2))).toThrow(/outside the 2 classes/);
    expect(() => crossEntropy(tensor([[1, 2]]), Int32Array.of(0, 1))).toThrow(/1 rows of logits but 2 targets/);
  });

  it('matmul gradient of a linear layer matches the closed form Xᵀ·G and G·W', () => {
    const x = leaf([1, 2, 3, 4, 5, 6], [2, 3]);
    const w = leaf([1, 0, -1, 2, 1, 0], [2, 3]);
    const y = matmul(x, w, { transB: true }); // [2, 2]
    const g = tensor([1, 2, 3, 4], [2, 2]);
    y.backward(g);
    // dW = Gᵀ·X
    expect(w.grad!.toArray()).toEqual([
      [1 * 1 + 3 * 4, 1 * 2 + 3 * 5, 1 * 3 + 3 * 6],
      [2 * 1 + 4 * 4, 2 * 2 + 4 * 5, 2 * 3 + 4 * 6],
    ]);
    // dX = G·W
    expect(x.grad!.toArray()).toEqual([
      [1 * 1 + 2 * 2, 1 * 0 + 2 * 1, 1 * -1 + 2 * 0],
      [3 * 1 + 4 * 2, 3 * 0 + 4 * 1, 3 * -1 + 4 * 0],
    ]);
    expect(mean(x).requiresGrad).toBe(true);
  });
});

void backward;

describe('accumulateGrad', () => {
  it('adds a gradient from elsewhere as backward adds a second use: copy first, then sum', () => {
    const w = leaf([1, 2, 3]);
    backward(sum(mul(w, tensor([2, 2, 2])))); // .grad = [2, 2, 2]
    const g = tensor([0.5, -1, 4]);
    accumulateGrad(w, g);
    expect(Array.from(w.grad!.data)).toEqual([2.5, 1, 6]);
    const v = leaf([1, 1]);
    const h = tensor([3, 4]);
    accumulateGrad(v, h);
    h.data[0] = 99; // the first gradient was copied, not adopted
    expect(Array.from(v.grad!.data)).toEqual([3, 4]);
    expect(() => accumulateGrad(v, tensor([1, 2, 3]))).toThrow(GradError);
  });
});
