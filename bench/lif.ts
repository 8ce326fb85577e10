/**
 * Fused multi-step LIF (one autograd node) against the same recurrence composed from
 * primitive autograd ops, forward + backward, T = 8, [B = 256, 512] (the reference R1 layer).
 * Reports the median time of each (measured in alternation, each run after a full GC, inputs
 * built untimed) and the memory the graph holds between forward and backward. Run: node bench/run.mjs lif
 */
import { Rng, Tensor, add, backward, concat, mul, reshape, slice, sub, tensor, zeros } from '../src/index';
import { spike } from '../src/neurons/functional';
import { lif } from '../src/neurons/lif';
import { type Surrogate, atan } from '../src/neurons/surrogate';
import { arrayBytes, interleavedMedianMs, table } from './lib/measure';

const T = 8;
const B = 256;
const F = 512;

function composed(x: Tensor, beta: Tensor, threshold: Tensor, surrogate: Surrogate): Tensor {
  let u: Tensor = zeros([B, F]);
  const out: Tensor[] = [];
  for (let t = 0; t < T; t++) {
    const xt = reshape(slice(x, [[t, t + 1]]), [B, F]);
    const r = spike(sub(u, threshold), surrogate).detach();
    u = sub(add(mul(beta, u), xt), mul(r, threshold));
    out.push(reshape(spike(sub(u, threshold), surrogate), [1, B, F]));
  }
  return concat(out, 0);
}

export async function main() {
  const rng = new Rng(0);
  const xData = Float32Array.from({ length: T * B * F }, () => rng.uniformRange(-0.2, 0.8));
  const gData = Float32Array.from({ length: T * B * F }, () => rng.uniformRange(-1, 1));
  const surrogate = atan();
  const g = new Tensor(gData, [T, B, F]);

  const setup = () => ({
    x: new Tensor(xData.slice(), [T, B, F], { requiresGrad: true }),
    beta: tensor(0.9, [], { requiresGrad: true }),
    threshold: tensor(1),
  });
  const fusedForward = (s: ReturnType<typeof setup>) => lif(s.x, { beta: s.beta, threshold: s.threshold, reset: 'subtract', surrogate }).spikes;
  const composedForward = (s: ReturnType<typeof setup>) => composed(s.x, s.beta, s.threshold, surrogate);

  // Forward + backward of each, alternating for 15 rounds; inputs are built untimed.
  const times = interleavedMedianMs(
    {
      fused: () => {
        const s = setup();
        return () => backward(fusedForward(s), g);
      },
      composed: () => {
        const s = setup();
        return () => backward(composedForward(s), g);
      },
    },
    15,
  );
  const rows: Array<Record<string, string | number>> = [];
  const result: Record<string, number> = {};
  for (const [name, fwd] of [
    ['fused', fusedForward],
    ['composed', composedForward],
  ] as const) {
    // Memory the graph keeps alive between forward and backward (inputs excluded).
    const s = setup();
    const before = arrayBytes();
    const out = fwd(s);
    const held = arrayBytes() - before;
    backward(out, g);
    rows.push({ kernel: name, 'fwd+bwd ms': times[name], 'graph MiB': held / 2 ** 20 });
    result[`${name}Ms`] = times[name];
    result[`${name}GraphMiB`] = held / 2 ** 20;
  }
  result.speedup = result.composedMs / result.fusedMs;
  result.memoryRatio = result.composedGraphMiB / result.fusedGraphMiB;
  console.log(table(rows));
  console.log(`\nfused is ${result.speedup.toFixed(1)}× faster and holds ${result.memoryRatio.toFixed(1)}× less memory (target ≥ 5×, smaller)`);
  return result;
}
