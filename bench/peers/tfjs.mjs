// The reference step R1 in TensorFlow.js (@tensorflow/tfjs-core 4.22 on its cpu or wasm
// backend), driven over stdin/stdout by bench/peers/run.mjs.
//
// R1 (batch B, T = 8): two Poisson views → Linear 784→512 → Leaky → Linear 512→512 → Leaky →
// firing rate (mean over T) → projector (Linear 512→512, BatchNorm1d, ReLU, Linear 512→512) →
// Barlow Twins (λ 5e-3, per-dimension standardisation over the batch, biased variance, eps
// 1e-5) → backward → Adam lr 1e-3. Leaky is a tf.customGrad: U_t = β·U_{t−1} + I_t − θ·S_{t−1}
// (subtract reset, detached), S_t = H(U_t − θ), β 0.9, θ 1, atan surrogate α 2 in backward.
// Each Linear is applied to all T steps at once ([T·B, in] · W).
//
// Args: --backend cpu|wasm --batch B --linear stock|custom --weight-scale s. `stock` uses tfjs's own matMul
// gradients; `custom` gives Linear a tf.customGrad whose backward transposes explicitly and
// then multiplies without transpose flags (the wasm backend's transposed matMul is slow).
// Protocol: one JSON line {"ready": …} after loading; each stdin line {"steps": n} runs n
// steps and answers {"ms": […]}; {"features": n} runs n feature extractions instead (one Poisson
// view of a batch → encoder → firing rates of the last layer, no gradients); {"quit": true} or
// end of input stops.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradients of its own; the umbrella package's Node entry does (it loads
// the same deduplicated tfjs-core, so the registrations reach the engine used here).
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';

const BETA = 0.9;
const THETA = 1;
const ALPHA = 2;
const T = 8;

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

/** The first n MNIST training images as float32 byte / 255, [n, 784], from $MNIST_IMAGES. */
function readMnistImages(n) {
  const path = process.env.MNIST_IMAGES;
  if (!path) throw new Error('tfjs: set MNIST_IMAGES to the train-images-idx3-ubyte file');
  const buf = readFileSync(path);
  if (buf.readUInt32BE(0) !== 0x803 || buf.readUInt32BE(8) !== 28 || buf.readUInt32BE(12) !== 28) throw new Error(`${path}: not an IDX [N, 28, 28] uint8 file`);
  if (n > buf.readUInt32BE(4)) throw new Error(`${path}: asked for ${n} images, the file has ${buf.readUInt32BE(4)}`);
  const out = new Float32Array(n * 784);
  for (let i = 0; i < out.length; i++) out[i] = buf[16 + i] / 255;
  return out;
}

/** Leaky over currents [T, B, N] → spikes [T, B, N], with the atan surrogate in backward. */
export const leaky = tf.customGrad((cur, save) => {
  const steps = tf.unstack(cur);
  let mem = tf.zerosLike(steps[0]);
  let spk = tf.zerosLike(steps[0]);
  const spikes = [];
  const shifted = [];
  for (const x of steps) {
    mem = tf.sub(tf.add(tf.mul(mem, BETA), x), tf.mul(spk, THETA));
    const u = tf.sub(mem, THETA);
    spk = tf.cast(tf.greater(u, 0), 'float32');
    shifted.push(u);
    spikes.push(spk);
  }
  const U = tf.stack(shifted);
  save([U]);
  return {
    value: tf.stack(spikes),
    gradFunc: (dy, [Us]) => {
      // dL/dU_t = g_t·σ′(U_t − θ) + β·dL/dU_{t+1}; the reset is detached, so dU_t/dI_t = 1.
      const k = (Math.PI * ALPHA) / 2;
      const gs = tf.unstack(tf.mul(dy, tf.div(ALPHA / 2, tf.add(1, tf.square(tf.mul(Us, k))))));
      const out = new Array(gs.length);
      let carry = null;
      for (let t = gs.length - 1; t >= 0; t--) {
        carry = carry === null ? gs[t] : tf.add(gs[t], tf.mul(carry, BETA));
        out[t] = carry;
      }
      return tf.stack(out);
    },
  };
});

/** x [M, in] · W [in, out] + b with explicit transposes in backward (see the header). */
const linearCustom = tf.customGrad((x, w, b, save) => {
  save([x, w]);
  return {
    value: tf.add(tf.matMul(x, w), b),
    gradFunc: (dy, [xs, ws]) => [tf.matMul(dy, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy), tf.sum(dy, 0)],
  };
});

async function main() {
  const backend = arg('backend', 'wasm');
  const B = Number(arg('batch', 256));
  const batches = Number(arg('batches', 8));
  const linearMode = arg('linear', 'custom');
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs: backend ${backend} did not initialise`);
  await tf.ready();
  const images = readMnistImages(B * batches);

  // PyTorch's default Linear init, U(±1/√fan_in) for weight and bias; BatchNorm γ = 1, β = 0.
  let seed = 0;
  const linearParams = (fanIn, fanOut) => {
    const bound = 1 / Math.sqrt(fanIn);
    return { w: tf.variable(tf.randomUniform([fanIn, fanOut], -bound, bound, 'float32', ++seed)), b: tf.variable(tf.randomUniform([fanOut], -bound, bound, 'float32', ++seed)) };
  };
  const fc1 = linearParams(784, 512);
  const fc2 = linearParams(512, 512);
  // --weight-scale s: the encoder's Linear weights times s at init, as in ours.ts.
  const scale = Number(arg('weight-scale', 1));
  for (const p of [fc1, fc2]) p.w.assign(tf.mul(p.w, scale));
  const p1 = linearParams(512, 512);
  const p2 = linearParams(512, 512);
  const gamma = tf.variable(tf.ones([512]));
  const shift = tf.variable(tf.zeros([512]));
  const vars = [fc1.w, fc1.b, fc2.w, fc2.b, p1.w, p1.b, gamma, shift, p2.w, p2.b];
  const opt = tf.train.adam(1e-3);

  const linear = (x, p) => (linearMode === 'stock' ? tf.add(tf.matMul(x, p.w), p.b) : linearCustom(x, p.w, p.b));
  const encoder = (v) => {
    const s1 = leaky(tf.reshape(linear(tf.reshape(v, [T * B, 784]), fc1), [T, B, 512]));
    const s2 = leaky(tf.reshape(linear(tf.reshape(s1, [T * B, 512]), fc2), [T, B, 512]));
    return [s1, s2];
  };
  const head = (r) => {
    const h = linear(r, p1);
    const { mean, variance } = tf.moments(h, 0, true); // biased variance
    const n = tf.add(tf.mul(tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, 1e-5))), gamma), shift);
    return linear(tf.relu(n), p2);
  };
  const standardize = (z) => {
    const { mean, variance } = tf.moments(z, 0, true);
    return tf.div(tf.sub(z, mean), tf.sqrt(tf.add(variance, 1e-5)));
  };
  const barlowTwins = (z1, z2) => {
    const c = tf.div(tf.matMul(tf.transpose(standardize(z1)), standardize(z2)), B);
    const d = tf.sum(tf.mul(c, tf.eye(512)), 1);
    const on = tf.sum(tf.square(tf.sub(1, d)));
    const off = tf.sub(tf.sum(tf.square(c)), tf.sum(tf.square(d)));
    return tf.add(on, tf.mul(off, 5e-3));
  };

  let k = 0;
  let density = [];
  const step = () => {
    const b = k++ % batches;
    const x = tf.tensor2d(images.subarray(b * B * 784, (b + 1) * B * 784), [B, 784]);
    const t0 = performance.now();
    let spikes = null;
    const loss = opt.minimize(
      () => {
        const poisson = () => tf.cast(tf.less(tf.randomUniform([T, B, 784]), x), 'float32');
        const v1 = poisson();
        const v2 = poisson();
        const l1 = encoder(v1);
        const l2 = encoder(v2);
        spikes = [v1, ...l1].map((s) => tf.keep(tf.mean(s)));
        return barlowTwins(head(tf.mean(l1[1], 0)), head(tf.mean(l2[1], 0)));
      },
      true,
      vars,
    );
    const value = loss.dataSync()[0];
    const ms = performance.now() - t0;
    if (!Number.isFinite(value)) throw new Error(`tfjs: loss is ${value}`);
    density = spikes.map((s) => s.dataSync()[0]);
    tf.dispose([loss, x, ...spikes]);
    return ms;
  };

  const feature = () => {
    const b = k++ % batches;
    const x = tf.tensor2d(images.subarray(b * B * 784, (b + 1) * B * 784), [B, 784]);
    const t0 = performance.now();
    const rates = tf.tidy(() => tf.mean(encoder(tf.cast(tf.less(tf.randomUniform([T, B, 784]), x), 'float32'))[1], 0));
    rates.dataSync();
    const ms = performance.now() - t0;
    tf.dispose([rates, x]);
    return ms;
  };

  const send = (o) => process.stdout.write(JSON.stringify(o) + '\n');
  send({ ready: true, engine: `tfjs-${backend}`, version: tf.version_core, backend: tf.getBackend(), batch: B, linear: linearMode, simd: backend === 'wasm' ? await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT') : undefined, threads: 1 });
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    const cmd = JSON.parse(line);
    if (cmd.quit) break;
    const ms = [];
    if (cmd.features !== undefined) for (let i = 0; i < cmd.features; i++) ms.push(feature());
    else for (let i = 0; i < (cmd.steps ?? 1); i++) ms.push(step());
    send({ ms, density, peakRssMiB: process.resourceUsage().maxRSS / 1024, tensors: tf.memory().numTensors });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
