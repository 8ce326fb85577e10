import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng, Tensor, add, backward, concat, mul, noGrad, reshape, slice, sub, tensor, zeros } from '../../src/index';
import { spike, firingRate, spikeCount } from '../../src/neurons/functional';
import { type ResetMechanism, lif } from '../../src/neurons/lif';
import { type Surrogate, atan, fastSigmoid, sigmoid, triangular } from '../../src/neurons/surrogate';
import { firstMismatch } from '../helpers/reference';

describe('lif forward: the documented recurrence, literally', () => {
  // One neuron, β = 0.5, θ = 1, X = [0.6, 0.6, 0.6, 1.5, 0]; membranes worked out by hand:
  //   t1: R=0, U = 0.5·0 + 0.6 = 0.6                S=0
  //   t2: R=0, U = 0.3 + 0.6 = 0.9                  S=0
  //   t3: R=0, U = 0.45 + 0.6 = 1.05                S=1
  //   subtract t4: R=1, U = 0.525 + 1.5 − 1 = 1.025   S=1;  t5: R=1, U = 0.5125 − 1 = −0.4875  S=0
  //   zero     t4: R=1, U = 0 + 1.5 = 1.5             S=1;  t5: R=1, U = 0                       S=0
  //   none     t4: R=1, U = 0.525 + 1.5 = 2.025       S=1;  t5: U = 1.0125                       S=1
  const x = tensor([0.6, 0.6, 0.6, 1.5, 0], [5, 1]);
  const cases: Array<[ResetMechanism, number[], number[]]> = [
    ['subtract', [0.6, 0.9, 1.05, 1.025, -0.4875], [0, 0, 1, 1, 0]],
    ['zero', [0.6, 0.9, 1.05, 1.5, 0], [0, 0, 1, 1, 0]],
    ['none', [0.6, 0.9, 1.05, 2.025, 1.0125], [0, 0, 1, 1, 1]],
  ];
  for (const [reset, mem, spk] of cases) {
    it(reset, () => {
      const r = lif(x, { beta: tensor(0.5), threshold: tensor(1), reset, surrogate: atan() }, {}, { returnMem: true });
      expect([...r.spikes.data]).toEqual(spk);
      r.mem!.data.forEach((v, i) => expect(v).toBeCloseTo(mem[i], 6));
      expect(r.spikes.binary).toBe(true);
      expect(r.state.mem.item()).toBeCloseTo(mem[4], 6);
    });
  }

  it('fires only strictly above threshold', () => {
    const r = lif(tensor([1, 0], [2, 1]), { beta: tensor(0), threshold: tensor(1), reset: 'subtract', surrogate: atan() });
    expect([...r.spikes.data]).toEqual([0, 0]); // U = 1 = θ does not fire
  });

  it('Synaptic: I_t = α·I_{t−1} + X_t feeds U', () => {
    // α = 0.5, β = 0.5, θ = 1, X = [1, 0, 0]: I = [1, 0.5, 0.25]; U = [1, 1, 0.75] (no spike: U = θ), S = 0.
    const r = lif(tensor([1, 0, 0], [3, 1]), { beta: tensor(0.5), alpha: tensor(0.5), threshold: tensor(1), reset: 'subtract', surrogate: atan() }, {}, { returnMem: true });
    expect([...r.mem!.data]).toEqual([1, 1, 0.75]);
    expect([...r.spikes.data]).toEqual([0, 0, 0]);
    expect(r.state.syn!.item()).toBe(0.25);
  });

  it('carries state: two calls equal one call over the concatenated time axis', () => {
    const rng = new Rng(3);
    const xs = new Tensor(Float32Array.from({ length: 6 * 4 }, () => rng.uniformRange(0, 1.2)), [6, 4]);
    const p = { beta: tensor(0.8), threshold: tensor(1), reset: 'subtract' as const, surrogate: atan() };
    const whole = lif(xs, p);
    const first = lif(slice(xs, [[0, 3]]), p);
    const second = lif(slice(xs, [[3, 6]]), p, first.state);
    expect([...first.spikes.data, ...second.spikes.data]).toEqual([...whole.spikes.data]);
    expect([...second.state.mem.data]).toEqual([...whole.state.mem.data]);
  });

  it('firingRate and spikeCount reduce over time', () => {
    const s = tensor([[1, 0], [1, 1], [0, 0], [1, 0]]);
    expect([...firingRate(s).data]).toEqual([0.75, 0.25]);
    expect([...spikeCount(s).data]).toEqual([3, 1]);
  });
});

/** The same recurrence composed from primitive autograd ops, one step at a time. */
function composedLif(
  x: Tensor,
  p: { beta: Tensor; threshold: Tensor; alpha?: Tensor; reset: ResetMechanism; surrogate: Surrogate },
  u0?: Tensor,
): { spikes: Tensor; mem: Tensor } {
  const T = x.shape[0];
  const rest = x.shape.slice(1);
  let u: Tensor = u0 ?? zeros(rest);
  let i: Tensor = zeros(rest);
  const spikes: Tensor[] = [];
  const mems: Tensor[] = [];
  for (let t = 0; t < T; t++) {
    let xt = reshape(slice(x, [[t, t + 1]]), rest);
    if (p.alpha) {
      i = add(mul(p.alpha, i), xt);
      xt = i;
    }
    const r = spike(sub(u, p.threshold), p.surrogate).detach();
    if (p.reset === 'subtract') u = sub(add(mul(p.beta, u), xt), mul(r, p.threshold));
    else if (p.reset === 'zero') u = add(mul(p.beta, mul(sub(1, r), u)), xt);
    else u = add(mul(p.beta, u), xt);
    spikes.push(reshape(spike(sub(u, p.threshold), p.surrogate), [1, ...rest]));
    mems.push(reshape(u, [1, ...rest]));
  }
  return { spikes: concat(spikes, 0), mem: concat(mems, 0) };
}

describe('lif backward: fused equals the composed recurrence', () => {
  const surrogates = [atan(), fastSigmoid({ slope: 5 }), sigmoid({ slope: 4 }), triangular({ width: 1.5 })];
  it('on random inputs, every reset, scalar and per-feature β, Synaptic, initial state, membrane output', () => {
    fc.assert(
      fc.property(
        fc.record({
          T: fc.integer({ min: 1, max: 6 }),
          B: fc.integer({ min: 1, max: 3 }),
          F: fc.integer({ min: 1, max: 4 }),
          reset: fc.constantFrom<ResetMechanism>('subtract', 'zero', 'none'),
          perFeature: fc.boolean(),
          synaptic: fc.boolean(),
          withU0: fc.boolean(),
          withMem: fc.boolean(),
          sg: fc.integer({ min: 0, max: surrogates.length - 1 }),
          seed: fc.integer(),
        }),
        ({ T, B, F, reset, perFeature, synaptic, withU0, withMem, sg, seed }) => {
          const rng = new Rng(seed);
          const vals = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => rng.uniformRange(lo, hi));
          const mk = (data: Float32Array, shape: number[]) => () => new Tensor(data.slice(), shape, { requiresGrad: true });
          const xMk = mk(vals(T * B * F, -0.5, 1.5), [T, B, F]);
          const betaMk = mk(vals(perFeature ? F : 1, 0.3, 0.95), perFeature ? [F] : []);
          const thMk = mk(vals(1, 0.7, 1.2), []);
          const alphaMk = mk(vals(perFeature ? F : 1, 0.2, 0.9), perFeature ? [F] : []);
          const u0Mk = mk(vals(B * F, -0.5, 1.5), [B, F]);
          const w = vals(T * B * F, -1, 1);
          const wm = vals(T * B * F, -1, 1);

          const run = (fused: boolean) => {
            const x = xMk();
            const beta = betaMk();
            const threshold = thMk();
            const alpha = synaptic ? alphaMk() : undefined;
            const u0 = withU0 ? u0Mk() : undefined;
            const p = { beta, threshold, alpha, reset, surrogate: surrogates[sg] };
            const out = fused ? lif(x, p, { mem: u0 }, { returnMem: withMem }) : composedLif(x, p, u0);
            const terms = [mul(out.spikes, new Tensor(w, [T, B, F]))];
            if (withMem) terms.push(mul(out.mem!, new Tensor(wm, [T, B, F])));
            const loss = terms.length === 2 ? add(terms[0], terms[1]) : terms[0];
            backward(loss, new Tensor(new Float32Array(loss.size).fill(1), loss.shape));
            return { spikes: out.spikes.data, leaves: [x, beta, threshold, alpha, u0] };
          };
          const a = run(true);
          const b = run(false);
          expect([...a.spikes]).toEqual([...b.spikes]);
          a.leaves.forEach((leaf, k) => {
            if (!leaf) return;
            const ga = leaf.grad?.data ?? new Float32Array(leaf.size);
            const gb = b.leaves[k]!.grad?.data ?? new Float32Array(leaf.size);
            const i = firstMismatch(ga, gb, 1e-4, 1e-5);
            expect(i, `leaf ${k} element ${i}: fused ${ga[i]} vs composed ${gb[i]}`).toBe(-1);
          });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a retained graph keeps its membranes: a second backward adds the same gradient again', () => {
    // Without retainGraph the fused backward writes ∂L/∂X over the saved membranes; with it,
    // they must survive for the next pass.
    const rng = new Rng(7);
    const x = new Tensor(Float32Array.from({ length: 5 * 2 * 3 }, () => rng.uniformRange(-0.5, 1.5)), [5, 2, 3], { requiresGrad: true });
    const beta = tensor(0.8, [], { requiresGrad: true });
    const p = { beta, threshold: tensor(1), reset: 'subtract' as const, surrogate: atan() };
    const g = new Tensor(Float32Array.from({ length: 30 }, () => rng.uniformRange(-1, 1)), [5, 2, 3]);
    const out = lif(x, p).spikes;
    backward(out, g, { retainGraph: true });
    const once = { x: Float32Array.from(x.grad!.data), beta: beta.grad!.data[0] };
    backward(out, g);
    x.grad!.data.forEach((v, i) => expect(v).toBeCloseTo(2 * once.x[i], 5));
    expect(beta.grad!.data[0]).toBeCloseTo(2 * once.beta, 4);
    // The composed recurrence gives the first pass's gradient.
    const xc = new Tensor(x.data.slice(), x.shape, { requiresGrad: true });
    const bc = tensor(0.8, [], { requiresGrad: true });
    backward(composedLif(xc, { ...p, beta: bc }).spikes, g);
    expect(firstMismatch(once.x, xc.grad!.data, 1e-4, 1e-5)).toBe(-1);
  });

  it('without a graph (noGrad, no input needing gradients) spikes and membranes are those of the recurrence', () => {
    const rng = new Rng(3);
    const data = Float32Array.from({ length: 6 * 4 * 5 }, () => rng.uniformRange(-0.5, 1.5));
    const p = { beta: tensor(0.9), threshold: tensor(1), reset: 'subtract' as const, surrogate: atan() };
    const want = composedLif(new Tensor(data, [6, 4, 5]), p);
    // Two calls in a row: the second reuses the scratch membranes of the first.
    for (let k = 0; k < 2; k++) {
      const got = noGrad(() => lif(new Tensor(data, [6, 4, 5]), p, {}, { returnMem: true }));
      expect([...got.spikes.data]).toEqual([...want.spikes.data]);
      expect([...got.mem!.data]).toEqual([...want.mem!.data]);
    }
  });
});
