/**
 * Issue 23, item 10: the API refuses what it should, with a typed error that says what was
 * expected and what came, before doing any work (no RangeError from an allocation, no
 * TypeError from a missing argument, no NaN or garbage later).
 */
import { describe, expect, it } from 'vitest';
import {
  Conv2d,
  DataFormatError,
  Dropout,
  IF,
  Leaky,
  Linear,
  OptionError,
  Rng,
  ShapeError,
  SpikingConvNet,
  SpikingMlp,
  Synaptic,
  arange,
  crossEntropy,
  eye,
  full,
  latency,
  ones,
  poisson,
  rand,
  randn,
  tensor,
  zeros,
} from '../../src/index';
import { extraNumbers, extraRecords } from '../../src/node/checkpoint';

/** The error `f` throws (a failure if it returns). */
function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, none was thrown');
}

describe('neurons refuse a threshold ≤ 0 and a decay of the wrong type', () => {
  it('threshold 0, −1, NaN, Infinity and a string', () => {
    for (const threshold of [0, -1, Number.NaN, Infinity]) {
      expect(thrown(() => new Leaky({ beta: 0.9, threshold }))).toEqual(new OptionError(`Leaky: threshold must be a positive finite number, got ${threshold}`));
    }
    expect(thrown(() => new IF({ threshold: -0.5 }))).toBeInstanceOf(OptionError);
    expect(thrown(() => new Leaky({ beta: 0.9, threshold: '1' as unknown as number }))).toEqual(new OptionError("Leaky: threshold must be a positive number, got the string '1'"));
    expect(new Leaky({ beta: 0.9, threshold: 1e-6 }).threshold.item()).toBeCloseTo(1e-6, 12); // small but positive is fine
  });

  it("beta: '0.9' says a string came, not a shape problem", () => {
    expect(thrown(() => new Leaky({ beta: '0.9' as unknown as number }))).toEqual(new OptionError("Leaky: beta must be a number in [0, 1], an array of them or a Tensor, got the string '0.9'"));
    expect(thrown(() => new Leaky({ beta: [0.9, '0.8'] as unknown as number[] }))).toEqual(new OptionError('Leaky: beta must be a number in [0, 1], an array of them or a Tensor, got an array of non-numbers'));
    expect(thrown(() => new Leaky({ beta: null as unknown as number }))).toEqual(new OptionError('Leaky: beta must be a number in [0, 1], an array of them or a Tensor, got null'));
    expect(thrown(() => new Synaptic({ beta: 0.9, alpha: {} as unknown as number }))).toEqual(new OptionError('Synaptic: alpha must be a number in [0, 1], an array of them or a Tensor, got a Object'));
    expect(thrown(() => new Leaky({ beta: 1.5 }))).toEqual(new OptionError('Leaky: beta must lie in [0, 1], got 1.5'));
  });
});

describe('creation functions refuse shapes no tensor can hold (ShapeError, not RangeError)', () => {
  it('zeros([1e6, 1e6]) and friends', () => {
    const big = 'shape [1000000, 1000000] holds 1000000000000 elements, more than the 4294967296 (2^32) a tensor can hold';
    expect(thrown(() => zeros([1e6, 1e6]))).toEqual(new ShapeError(`zeros: ${big}`));
    expect(thrown(() => ones([1e6, 1e6]))).toEqual(new ShapeError(`full: ${big}`));
    expect(thrown(() => full([1e6, 1e6], 2))).toEqual(new ShapeError(`full: ${big}`));
    expect(thrown(() => rand([1e6, 1e6], new Rng(0)))).toEqual(new ShapeError(`rand: ${big}`));
    expect(thrown(() => randn([1e6, 1e6], new Rng(0)))).toEqual(new ShapeError(`randn: ${big}`));
    expect(thrown(() => eye(1e6))).toEqual(new ShapeError(`eye: ${big}`));
    // 2^32 + 1 elements: one past the limit; a product past 2^1024 is Infinity, still refused.
    expect(thrown(() => zeros([2 ** 16, 2 ** 16 + 1]))).toBeInstanceOf(ShapeError);
    expect(thrown(() => zeros(new Array<number>(40).fill(2 ** 30)))).toBeInstanceOf(ShapeError);
    expect(thrown(() => zeros([2, -1]))).toEqual(new ShapeError('zeros: dimensions must be non-negative integers, got [2, -1]'));
  });

  it('arange(0, Infinity), arange(NaN) and arange past the limit', () => {
    expect(thrown(() => arange(0, Infinity))).toEqual(new ShapeError('arange: start and stop must be finite numbers, got 0 and Infinity'));
    expect(thrown(() => arange(Number.NaN))).toEqual(new ShapeError('arange: start and stop must be finite numbers, got 0 and NaN'));
    expect(thrown(() => arange(0, 2 ** 33))).toEqual(new ShapeError('arange: shape [8589934592] holds 8589934592 elements, more than the 4294967296 (2^32) a tensor can hold'));
    expect(Array.from(arange(1, 4).data)).toEqual([1, 2, 3]);
  });

  it('Linear(784, 1e9) and a huge Conv2d, before allocating anything', () => {
    expect(thrown(() => new Linear(784, 1e9, { rng: new Rng(0) }))).toEqual(new ShapeError('Linear: weight [out, in]: shape [1000000000, 784] holds 784000000000 elements, more than the 4294967296 (2^32) a tensor can hold'));
    expect(thrown(() => new Conv2d(1e5, 1e5, 3, { rng: new Rng(0) }))).toBeInstanceOf(ShapeError);
    expect(thrown(() => new Linear(784, 1.5, { rng: new Rng(0) }))).toEqual(new OptionError('Linear: outFeatures must be a non-negative integer, got 1.5'));
  });

  it('a layer or encoder without an Rng (there is no hidden default generator)', () => {
    const refusal = (op: string, got: string) => new OptionError(`${op}: options.rng must be an Rng (e.g. { rng: new Rng(0) }), got ${got}`);
    const untyped = <T>(c: T) => c as unknown as new (...args: unknown[]) => unknown;
    expect(thrown(() => new (untyped(Linear))(5, 4))).toEqual(refusal('Linear', 'no options'));
    expect(thrown(() => new (untyped(Linear))(5, 4, { bias: false }))).toEqual(refusal('Linear', 'no rng'));
    expect(thrown(() => new (untyped(Linear))(5, 4, { rng: 7 }))).toEqual(refusal('Linear', 'rng = number'));
    expect(thrown(() => new (untyped(Linear))(5, 4, { rng: { next: () => 0.5 } }))).toEqual(refusal('Linear', 'rng = Object'));
    expect(thrown(() => new (untyped(Conv2d))(1, 4, 3, { padding: 1 }))).toEqual(refusal('Conv2d', 'no rng'));
    expect(thrown(() => new (untyped(Dropout))(0.5))).toEqual(refusal('Dropout', 'no options'));
    expect(thrown(() => new (untyped(SpikingMlp))())).toEqual(refusal('SpikingMlp', 'no options'));
    expect(thrown(() => new (untyped(SpikingConvNet))({ channels: [4, 8] }))).toEqual(refusal('SpikingConvNet', 'no rng'));
  });

  it('SpikingMlp with a hidden layer of 0 (or 2.5) neurons', () => {
    expect(thrown(() => new SpikingMlp({ hidden: [0], rng: new Rng(0) }))).toEqual(new OptionError('SpikingMlp: hidden layer sizes must be integers ≥ 1, got [0]'));
    expect(thrown(() => new SpikingMlp({ hidden: [16, 2.5], rng: new Rng(0) }))).toBeInstanceOf(OptionError);
  });
});

describe('encoders refuse a missing rng and more steps than a tensor holds', () => {
  const x = tensor([[0.2, 0.9, 0]]);

  it('poisson without an rng is an OptionError, not a TypeError', () => {
    expect(thrown(() => poisson(x, { steps: 4 } as unknown as { steps: number; rng: Rng }))).toEqual(new OptionError('poisson: rng must be an Rng (every random function takes one), got undefined'));
    expect(thrown(() => poisson(x, { steps: 4, rng: 7 as unknown as Rng }))).toEqual(new OptionError('poisson: rng must be an Rng (every random function takes one), got number'));
    expect(thrown(() => poisson(x, undefined as unknown as { steps: number; rng: Rng }))).toBeInstanceOf(OptionError);
    expect(thrown(() => poisson([0.5] as unknown as typeof x, { steps: 2, rng: new Rng(0) }))).toEqual(new OptionError('poisson: expected a Tensor of intensities, got object'));
  });

  it('poisson and latency with 1e9 steps: a ShapeError before any draw', () => {
    const rng = new Rng(5);
    const before = rng.state();
    const image = full([1, 784], 0.5);
    expect(thrown(() => poisson(image, { steps: 1e9, rng }))).toEqual(new ShapeError('poisson: shape [1000000000, 1, 784] holds 784000000000 elements, more than the 4294967296 (2^32) a tensor can hold'));
    expect(rng.state()).toEqual(before); // nothing drawn
    expect(thrown(() => latency(image, { steps: 1e9 }))).toBeInstanceOf(ShapeError);
    expect(thrown(() => poisson(x, { steps: '8' as unknown as number, rng }))).toEqual(new OptionError("poisson: steps must be a positive integer, got '8'"));
  });
});

describe('crossEntropy refuses fractional labels (it returned NaN)', () => {
  it('targets of 0.5 or 1.25, from an untyped caller', () => {
    const logits = tensor([[1, 2, 3], [0, 0, 1]]);
    expect(thrown(() => crossEntropy(logits, Float32Array.of(0.5, 1) as unknown as Int32Array))).toEqual(new ShapeError('crossEntropy: targets must be integer class indices, got 0.5 at row 0'));
    expect(thrown(() => crossEntropy(logits, [2, 1.25] as unknown as Int32Array))).toEqual(new ShapeError('crossEntropy: targets must be integer class indices, got 1.25 at row 1'));
    // Integer labels still work: −log softmax at the target, by hand.
    const want = (-(3 - Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3))) - (0 - Math.log(2 + Math.exp(1)))) / 2;
    expect(crossEntropy(logits, Int32Array.of(2, 0)).item()).toBeCloseTo(want, 6);
  });
});

describe("a checkpoint's history is checked before it is used", () => {
  it('extraNumbers: a batchLoss of "x", [1, "x"], [1, null]', () => {
    expect(thrown(() => extraNumbers({ batchLoss: 'x' }, 'batchLoss', 'ck.safetensors'))).toEqual(new DataFormatError(`ck.safetensors: checkpoint extra 'batchLoss' should be a list of numbers, got "x"`));
    expect(thrown(() => extraNumbers({ batchLoss: [1, 'x'] }, 'batchLoss', 'ck'))).toEqual(new DataFormatError(`ck: checkpoint extra 'batchLoss' should be a list of finite numbers, element 1 is "x"`));
    expect(thrown(() => extraNumbers({ batchLoss: [1, null] }, 'batchLoss', 'ck'))).toBeInstanceOf(DataFormatError);
    expect(extraNumbers({}, 'batchLoss', 'ck')).toEqual([]);
    expect(extraNumbers({ batchLoss: [0.5, 2] }, 'batchLoss', 'ck')).toEqual([0.5, 2]);
  });

  it('extraRecords: epochs that are not objects, or lack a numeric field', () => {
    const fields = { epoch: 'number', meanLoss: 'number', density: 'numbers', seconds: 'number' } as const;
    const good = { epoch: 1, meanLoss: 0.5, density: [0.1, 0.2], seconds: 3, extraField: 'kept' };
    expect(extraRecords({ epochs: [good] }, 'epochs', 'ck', fields)).toEqual([good]);
    expect(thrown(() => extraRecords({ epochs: 'x' }, 'epochs', 'ck', fields))).toEqual(new DataFormatError(`ck: checkpoint extra 'epochs' should be a list of objects, got "x"`));
    expect(thrown(() => extraRecords({ epochs: [good, 3] }, 'epochs', 'ck', fields))).toEqual(new DataFormatError(`ck: checkpoint extra 'epochs' element 1 should be an object, got 3`));
    expect(thrown(() => extraRecords({ epochs: [{ ...good, meanLoss: 'x' }] }, 'epochs', 'ck', fields))).toEqual(new DataFormatError(`ck: checkpoint extra 'epochs' element 0 field 'meanLoss' should be a finite number, got "x"`));
    expect(thrown(() => extraRecords({ epochs: [{ ...good, density: [0.1, 'y'] }] }, 'epochs', 'ck', fields))).toEqual(new DataFormatError(`ck: checkpoint extra 'epochs' element 0 field 'density' should be a list of finite numbers, got [0.1,"y"]`));
  });
});
