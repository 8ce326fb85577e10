/**
 * spikessl's side of the peer comparison: the reference step R1 exactly as bench/train-step.ts
 * runs it (SSLTrainer.trainStep), driven over stdin/stdout by bench/peers/run.mjs (the protocol is below; r1_torch.py
 * and tfjs.mjs speak the same). Bundled with src/node/worker.ts into bench/peers/.build/ by run.mjs, so it
 * runs the library from source with no transpiler in the loop.
 *
 * Args: --threads N --batch B --weight-scale s. Protocol: prints one JSON line {"ready": …} after loading; then
 * each stdin line {"steps": n} runs n steps and answers {"ms": [per-step times]}; {"features": n}
 * runs n feature extractions instead (one Poisson view of a batch → encoder → firing rates of
 * the last layer, no graph) and answers {"ms": [...]}; {"quit": true} or end of input stops.
 */
import { createInterface } from 'node:readline';
import { Adam, Rng, SSLTrainer, SpikingMlp, Tensor, disableThreads, enableThreads, firingRate, noGrad, parseIdx, poisson, projector, threadCount } from '../../src/node';
import { readFileSync } from 'node:fs';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

/**
 * The first `n` MNIST training images as float32 byte / 255, row-major [n, 784], from the IDX
 * file named by $MNIST_IMAGES (set by run.mjs). Every engine reads the same bytes the same way.
 */
function readMnistImages(n: number): Float32Array {
  const path = process.env.MNIST_IMAGES;
  if (!path) throw new Error('ours: set MNIST_IMAGES to the train-images-idx3-ubyte file');
  const idx = parseIdx(readFileSync(path), path);
  const [count, h, w] = idx.shape;
  if (idx.dtype !== 'u8' || h !== 28 || w !== 28) throw new Error(`${path}: not an IDX [N, 28, 28] uint8 file`);
  if (n > count) throw new Error(`${path}: asked for ${n} images, the file has ${count}`);
  return Float32Array.from(idx.data.subarray(0, n * 784), (v) => v / 255);
}

export async function main(): Promise<void> {
  const threads = arg('threads', 1);
  const B = arg('batch', 256);
  const T = 8;
  const batches = arg('batches', 8);
  const images = readMnistImages(B * batches);
  enableThreads(threads);
  const rng = new Rng(0);
  const encoder = new SpikingMlp({ rng });
  const head = projector(512, 512, { rng });
  // --weight-scale s multiplies the encoder's Linear weights at init (every engine does the
  // same), to time the step at the spike densities of a trained network instead of init's.
  const scale = arg('weight-scale', 1);
  for (const [name, p] of encoder.namedParameters()) if (name.endsWith('weight')) for (let i = 0; i < p.data.length; i++) p.data[i] *= scale;
  const trainer = new SSLTrainer({
    encoder, projector: head, loss: 'barlow', steps: T, batchSize: B, rng,
    optimizer: new Adam([...encoder.parameters(), ...head.parameters()], { lr: 1e-3 }),
  });
  let k = 0;
  let density: number[] = [];

  /** One R1 step on the next batch; returns its wall time in ms (data slicing excluded). */
  function step(): number {
    const b = k++ % batches;
    const x = new Tensor(images.subarray(b * B * 784, (b + 1) * B * 784), [B, 784]);
    const t0 = performance.now();
    const r = trainer.trainStep(x);
    const ms = performance.now() - t0;
    density = r.density.slice(0, 3);
    return ms;
  }

  /** Features of the next batch, as the evaluation computes them (forward only); its wall time in ms. */
  function feature(): number {
    const b = k++ % batches;
    const x = new Tensor(images.subarray(b * B * 784, (b + 1) * B * 784), [B, 784]);
    const t0 = performance.now();
    const rates = noGrad(() => firingRate(encoder.forward(poisson(x, { steps: T, rng }))));
    const ms = performance.now() - t0;
    if (rates.shape[0] !== B || rates.shape[1] !== 512) throw new Error(`ours: features of shape ${rates.shape.join('×')}`);
    return ms;
  }

  const send = (o: object) => process.stdout.write(JSON.stringify(o) + '\n');
  send({ ready: true, engine: 'spikessl', threads: threadCount(), batch: B, node: process.version });
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    const cmd = JSON.parse(line) as { steps?: number; features?: number; quit?: boolean };
    if (cmd.quit) break;
    const ms: number[] = [];
    if (cmd.features !== undefined) for (let i = 0; i < cmd.features; i++) ms.push(feature());
    else for (let i = 0; i < (cmd.steps ?? 1); i++) ms.push(step());
    send({ ms, density, peakRssMiB: process.resourceUsage().maxRSS / 1024 });
  }
  await disableThreads();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
