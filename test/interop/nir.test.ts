import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DataFormatError, Leaky, NIR_DT, OptionError, Rng, SpikingConvNet, SpikingMlp, batchNorm, conv2d, avgPool2d, decodeNir,
  encodeNir, fromNir, Tensor, linear, nirGraph, noGrad, poisson, rand, readHdf5, reshape, toNir, writeHdf5, hdf5Group, hdf5Dataset,
  type NirGraph, type NirNode, type Module,
} from '../../src/index';
import type { Linear } from '../../src/nn/layers';
import { BatchNorm1d, BatchNorm2d } from '../../src/nn/norm';

/** Gives every BatchNorm of `m` trained-looking statistics and affine parameters, then eval mode. */
function randomizeNorms(m: Module, rng: Rng): void {
  for (const mod of m.modules()) {
    if (mod instanceof BatchNorm1d || mod instanceof BatchNorm2d) {
      for (let i = 0; i < mod.numFeatures; i++) {
        mod.runningMean.data[i] = rng.uniformRange(-0.5, 0.5);
        mod.runningVar.data[i] = rng.uniformRange(0.05, 0.5);
        mod.weight!.data[i] = rng.uniformRange(0.5, 2);
        mod.bias!.data[i] = rng.uniformRange(-0.2, 0.4);
      }
    }
  }
  m.eval();
}

const fixture = (name: string) => new Uint8Array(readFileSync(new URL(`../fixtures/${name}`, import.meta.url)));

describe('toNir / fromNir', () => {
  it('a zero-reset MLP with BatchNorm travels exactly: same spikes after export and import', () => {
    const rng = new Rng(1);
    const enc = new SpikingMlp({ inputs: 20, hidden: [16, 12], batchNorm: true, reset: 'zero', beta: 0.8, rng });
    randomizeNorms(enc, rng);
    const input = poisson(rand([5, 20], rng), { steps: 6, rng }); // [6, 5, 20] binary spikes
    const net = fromNir(toNir(enc));
    noGrad(() => {
      const want = enc.forward(input);
      const got = net.forward(input);
      expect(got.shape).toEqual([6, 5, 12]);
      expect(want.data.reduce((a, b) => a + b, 0)).toBeGreaterThan(20); // the layers do fire
      expect([...got.data]).toEqual([...want.data]);
    });
  });

  it('writes snnTorch\'s LIF convention: τ = dt/(1 − β), r = τ/dt, v_leak = v_reset = 0, per neuron', () => {
    const enc = new SpikingMlp({ inputs: 3, hidden: [4], reset: 'zero', beta: 0.95, threshold: 0.75, rng: new Rng(0) });
    const g = nirGraph(enc);
    const lif = g.nodes.get('lif1') as Extract<NirNode, { type: 'LIF' }>;
    expect(lif.type).toBe('LIF');
    for (const f of [lif.tau, lif.r, lif.vLeak, lif.vThreshold, lif.vReset]) expect(f.shape).toEqual([4]);
    const beta = Math.fround(0.95);
    for (let i = 0; i < 4; i++) {
      expect(lif.tau.data[i]).toBeCloseTo(1e-4 / (1 - 0.95), 9);
      expect(Math.fround(1 - NIR_DT / lif.tau.data[i])).toBe(beta); // β comes back bit for bit
      expect(lif.r.data[i] * NIR_DT / lif.tau.data[i]).toBeCloseTo(1, 6);
      expect(lif.vThreshold.data[i]).toBe(0.75);
      expect(lif.vLeak.data[i]).toBe(0);
      expect(lif.vReset.data[i]).toBe(0);
    }
    expect([...g.edges]).toEqual([['input', 'fc1'], ['fc1', 'lif1'], ['lif1', 'output']]);
    expect(g.nodes.get('input')).toEqual({ type: 'Input', shape: [3] });
    expect(g.nodes.get('output')).toEqual({ type: 'Output', shape: [4] });
  });

  it('folds eval-mode BatchNorm into the Affine: W·x + b through BN equals W′·x + b′', () => {
    const rng = new Rng(2);
    const enc = new SpikingMlp({ inputs: 5, hidden: [3], batchNorm: true, reset: 'zero', rng });
    randomizeNorms(enc, rng);
    const fc = new Map(enc.namedChildren()).get('fc1') as Linear;
    const bn = enc.namedChildren().find(([n]) => n === 'bn1')![1] as BatchNorm1d;
    const x = rand([4, 5], rng);
    const want = noGrad(() => batchNorm(linear(x, fc.weight, fc.bias), 1, { weight: bn.weight, bias: bn.bias, runningMean: bn.runningMean, runningVar: bn.runningVar, training: false, eps: bn.eps }));
    const aff = nirGraph(enc).nodes.get('fc1') as Extract<NirNode, { type: 'Affine' }>;
    for (let b = 0; b < 4; b++) {
      for (let o = 0; o < 3; o++) {
        let y = aff.bias.data[o];
        for (let i = 0; i < 5; i++) y += aff.weight.data[o * 5 + i] * x.data[b * 5 + i];
        expect(y).toBeCloseTo(want.data[b * 3 + o], 5);
      }
    }
  });

  it('refuses subtract reset and max pooling unless asked to approximate', () => {
    const mlp = new SpikingMlp({ inputs: 4, hidden: [3], rng: new Rng(0) }); // subtract reset (the default)
    expect(() => toNir(mlp)).toThrow(OptionError);
    expect(() => toNir(mlp)).toThrow(/subtraction.*reset: 'zero'.*approximate: true/);
    const g = nirGraph(mlp, { approximate: true });
    expect((g.nodes.get('lif1') as Extract<NirNode, { type: 'LIF' }>).vReset.data[0]).toBe(0);
    const conv = new SpikingConvNet({ channels: [2, 3], features: 4, reset: 'zero', rng: new Rng(0) });
    expect(() => toNir(conv)).toThrow(/max-pools.*approximate: true/);
  });

  it('the approximate conv export runs as conv → average pool → BN → zero-reset LIF, composed here by hand', () => {
    const rng = new Rng(3);
    const enc = new SpikingConvNet({ channels: [3, 4], features: 6, reset: 'zero', beta: 0.7, rng });
    randomizeNorms(enc, rng);
    const input = poisson(rand([2, 784], rng), { steps: 3, rng });
    const net = fromNir(toNir(enc, { approximate: true }));
    noGrad(() => {
      const lif = () => new Leaky({ beta: 0.7, reset: 'zero' });
      const bn = (m: BatchNorm1d | BatchNorm2d | null, t: ReturnType<typeof rand>, axis: number) =>
        batchNorm(t, axis, { weight: m!.weight, bias: m!.bias, runningMean: m!.runningMean, runningVar: m!.runningVar, training: false, eps: m!.eps });
      let s = reshape(input, [3, 2, 1, 28, 28]);
      s = lif().forward(bn(enc.bn1, avgPool2d(conv2d(s, enc.conv1.weight, enc.conv1.bias, { padding: 2 }), 2), 2));
      s = lif().forward(bn(enc.bn2, avgPool2d(conv2d(s, enc.conv2.weight, enc.conv2.bias, { padding: 2 }), 2), 2));
      s = lif().forward(bn(enc.bn3, linear(reshape(s, [3, 2, 4 * 49]), enc.fc.weight, enc.fc.bias), 2));
      const got = net.forward(input);
      expect(got.shape).toEqual([3, 2, 6]);
      expect([...got.data]).toEqual([...s.data]);
    });
  });
});

describe('decodeNir', () => {
  it('reads a NIR file h5py wrote the way nir.write does, and runs it by the LIF equations', () => {
    // test/fixtures/h5py_lif.nir: scripts/nir_check.py --write-fixture (Input [3] → Affine → LIF → Output).
    const bytes = fixture('h5py_lif.nir');
    const g = decodeNir(bytes, 'h5py_lif.nir');
    expect([...g.nodes.keys()].sort()).toEqual(['affine', 'input', 'lif', 'output']);
    const aff = g.nodes.get('affine') as Extract<NirNode, { type: 'Affine' }>;
    expect(aff.weight.shape).toEqual([2, 3]);
    expect([...aff.weight.data]).toEqual([0.5, -1, 0.25, 1, 0.5, -0.5]);
    const net = fromNir(bytes);
    // The fixture's LIF: τ = 2e-4 (β = 1 − 1e-4/2e-4 = 0.5), r = 2 (r·dt/τ = 1), θ = 0.6, zero reset.
    const x = [[1, 0, 1], [1, 1, 0], [0, 1, 1], [0, 0, 0]];
    const W = [[0.5, -1, 0.25], [1, 0.5, -0.5]];
    const b = [0.1, 0];
    const want: number[] = [];
    const u = [0, 0];
    for (const xt of x) {
      for (let o = 0; o < 2; o++) {
        const i = b[o] + W[o].reduce((a, w, k) => a + w * xt[k], 0);
        u[o] = 0.5 * u[o] + i;
        const s = u[o] > 0.6 ? 1 : 0;
        want.push(s);
        if (s) u[o] = 0;
      }
    }
    const out = noGrad(() => net.forward(new Tensor(Float32Array.from(x.flat()), [4, 1, 3])));
    expect([...out.data]).toEqual(want);
  });

  function graphBytes(g: NirGraph): Uint8Array {
    return encodeNir(g);
  }
  const lif = (n: number): NirNode => {
    const f = (v: number) => ({ shape: [n], data: new Float32Array(n).fill(v) });
    return { type: 'LIF', tau: f(1e-3), r: f(10), vLeak: f(0), vThreshold: f(1), vReset: f(0) };
  };

  it('refuses graphs it cannot run, in one line naming the node', () => {
    const base = (): NirGraph => ({
      nodes: new Map<string, NirNode>([
        ['input', { type: 'Input', shape: [2] }],
        ['fc', { type: 'Linear', weight: { shape: [2, 2], data: new Float32Array(4) } }],
        ['lif', lif(2)],
        ['output', { type: 'Output', shape: [2] }],
      ]),
      edges: [['input', 'fc'], ['fc', 'lif'], ['lif', 'output']],
    });
    expect(fromNir(graphBytes(base())).outputShape).toEqual([2]);
    const cyc = base();
    cyc.edges.push(['output', 'input']);
    expect(() => fromNir(graphBytes(cyc), 'c.nir')).toThrow(/^c\.nir: the graph is a cycle/);
    const branch = base();
    branch.edges.push(['fc', 'output']);
    expect(() => fromNir(graphBytes(branch))).toThrow(DataFormatError);
    const shapes = base();
    shapes.nodes.set('lif', lif(3));
    expect(() => fromNir(graphBytes(shapes))).toThrow(/node 'lif' \(LIF\) has tau of shape \[3\], expected the \[2\]/);
    const reset = base();
    (reset.nodes.get('lif') as Extract<NirNode, { type: 'LIF' }>).vReset.data[1] = -0.5;
    expect(() => fromNir(graphBytes(reset))).toThrow(/v_reset -0\.5/);
    const negative = base();
    (negative.nodes.get('lif') as Extract<NirNode, { type: 'LIF' }>).vThreshold.data.fill(-1);
    expect(() => fromNir(graphBytes(negative))).toThrow(/v_threshold -1; a Leaky's threshold must be positive/);
    const wrongIn = base();
    wrongIn.nodes.set('input', { type: 'Input', shape: [5] });
    expect(() => fromNir(graphBytes(wrongIn))).toThrow(/node 'fc' \(Linear\) takes \[2\] but receives \[5\]/);
  });

  it('refuses unknown node types, missing or extra fields, and wrong dtypes', () => {
    const file = (nodeFields: Record<string, ReturnType<typeof hdf5Dataset>>) =>
      writeHdf5(hdf5Group({
        version: hdf5Dataset('string', ['1.0.7']),
        node: hdf5Group({
          type: hdf5Dataset('string', ['NIRGraph']),
          nodes: hdf5Group({ n: hdf5Group(nodeFields) }),
          edges: hdf5Dataset('string', [], [0, 2]),
        }),
      }));
    expect(() => decodeNir(file({ type: hdf5Dataset('string', ['Softmax']) }))).toThrow(/node 'n' has unknown type 'Softmax'/);
    expect(() => decodeNir(file({ type: hdf5Dataset('string', ['CubaLIF']) }))).toThrow(/does not run/);
    expect(() => decodeNir(file({ type: hdf5Dataset('string', ['Input']) }))).toThrow(/lacks its 'shape' field/);
    expect(() => decodeNir(file({ type: hdf5Dataset('string', ['Input']), shape: hdf5Dataset('float32', Float32Array.of(2)) }))).toThrow(/'shape' must be integers, got float32/);
    expect(() => decodeNir(file({ type: hdf5Dataset('string', ['Input']), shape: hdf5Dataset('int64', BigInt64Array.of(2n), [1]), extra: hdf5Dataset('int64', BigInt64Array.of(1n)) }))).toThrow(/unexpected field 'extra'/);
    expect(() => decodeNir(writeHdf5(hdf5Group({ x: hdf5Dataset('int64', BigInt64Array.of(1n)) })))).toThrow(/not a NIR file/);
  });
});

describe('readHdf5 on corrupt input', () => {
  const good = toNir(new SpikingMlp({ inputs: 4, hidden: [3], reset: 'zero', rng: new Rng(0) }));

  it('reads what h5py wrote: groups, vlen strings, float32, int64', () => {
    const root = readHdf5(fixture('h5py_lif.nir'));
    const version = root.children.get('version');
    expect(version).toMatchObject({ kind: 'dataset', dtype: 'string', shape: [], strings: 'variable' });
  });

  it('truncation and a bad signature are one-line DataFormatErrors', () => {
    expect(() => readHdf5(good.subarray(0, 50), 'f.nir')).toThrow(/^f\.nir: .*runs past the end/);
    for (const n of [200, 1000, good.length - 8]) expect(() => readHdf5(good.subarray(0, n))).toThrow(DataFormatError);
    const bad = good.slice();
    bad[1] = 0x41;
    expect(() => readHdf5(bad, 'f.nir')).toThrow('f.nir: not an HDF5 file (no signature at byte 0)');
  });

  it('a group that links back to its parent is a cycle, not a hang', () => {
    // Point the root group's first member at the root group's own object header.
    const bytes = writeHdf5(hdf5Group({ a: hdf5Group({ b: hdf5Dataset('int64', BigInt64Array.of(1n)) }) }));
    const view = new DataView(bytes.buffer);
    const rootHeader = Number(view.getBigUint64(64, true));
    const tree = Number(view.getBigUint64(80, true));
    const snod = Number(view.getBigUint64(tree + 32, true));
    view.setBigUint64(snod + 8 + 8, BigInt(rootHeader), true);
    expect(() => readHdf5(bytes, 'cyc.h5')).toThrow(/^cyc\.h5: "\/a" links back to a group that contains it \(a cycle\)/);
  });

  it('any single corrupted byte gives a result or a DataFormatError, never another error', () => {
    const rng = new Rng(4);
    for (let k = 0; k < 400; k++) {
      const bytes = good.slice();
      const at = rng.int(0, bytes.length);
      bytes[at] = rng.int(0, 256);
      try {
        decodeNir(bytes);
      } catch (e) {
        if (!(e instanceof DataFormatError)) throw new Error(`byte ${at} = ${bytes[at]}: ${(e as Error).name}: ${(e as Error).message}`);
        expect((e as Error).message).not.toContain('\n');
      }
    }
  });

  it('a huge declared shape is refused before anything of that size is allocated', () => {
    const bytes = writeHdf5(hdf5Group({ w: hdf5Dataset('float32', Float32Array.of(1, 2), [2]) }));
    // The dataspace's one dimension is the first 8-byte value after the 16-byte header prefix,
    // 8-byte message header and 8-byte dataspace prefix of the dataset's object header: find it by value.
    const view = new DataView(bytes.buffer);
    let patched = false;
    for (let p = 96; p + 16 <= bytes.length; p += 8) {
      if (view.getUint32(p, true) === 0x00000101 && view.getBigUint64(p + 8, true) === 2n) {
        view.setBigUint64(p + 8, 2n ** 40n, true);
        patched = true;
        break;
      }
    }
    expect(patched).toBe(true);
    expect(() => readHdf5(bytes)).toThrow(/has shape \[1099511627776\] of 4-byte elements but only 8 bytes of data/);
  });
});
