/**
 * The page's helpers (web/lib.ts) and its model file in Node, no browser needed: spikessl's
 * loadModel, which the page loads models with, builds what `spikessl train` built from the bundled
 * file (checked against spikessl/node's buildModel), bad files throw DataFormatErrors, the
 * bundled digits are the MNIST images they claim to be, and centerDigit normalises a drawing as
 * MNIST did.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { DataFormatError, Rng, Tensor, decodeModel, decodeSafetensors, encodeSafetensors, loadModel, noGrad, poisson } from 'spikessl';
import { buildModel, loadMnist } from 'spikessl/node';
import { describe, expect, it } from 'vitest';
import { centerDigit, parseDigits } from '../web/lib';

const assets = join(process.cwd(), 'web', 'assets');
const read = (f: string) => new Uint8Array(readFileSync(join(assets, f)));

describe('the bundled model through loadModel', () => {
  it('builds the architecture spikessl train saved, with the same weights and the same spikes', async () => {
    const bytes = read('model.safetensors');
    const web = await loadModel(bytes);
    const { tensors, metadata } = decodeSafetensors(bytes);
    const config = JSON.parse(metadata.config);
    const node = buildModel(config, new Rng(2));
    node.loadStateDict(tensors);
    node.eval();
    expect(Object.keys(web.model.stateDict()).sort()).toEqual(Object.keys(node.stateDict()).sort());
    const test = parseDigits({ images: read('test-images-idx3-ubyte'), labels: read('test-labels-idx1-ubyte') }, 'test');
    const x = new Tensor(test.images.slice(0, 8 * 784), [8, 784]);
    const input = poisson(x, { steps: config.steps, rng: new Rng(3) });
    const a = noGrad(() => web.encoder.forwardLayers(input));
    const b = noGrad(() => node.encoder.forwardLayers(input));
    expect(a.length).toBe(b.length);
    a.forEach((t, i) => expect(Array.from(t.data)).toEqual(Array.from(b[i].data)));
  });

  it('refuses bytes that are not a model with a DataFormatError (decodeModel, under loadModel, names the file)', async () => {
    await expect(loadModel(read('test-labels-idx1-ubyte'))).rejects.toThrow(DataFormatError);
    expect(() => decodeModel(read('test-labels-idx1-ubyte'), 'labels.bin')).toThrow(/labels\.bin/);
    const noConfig = encodeSafetensors({ w: new Tensor(new Float32Array(2), [2]) });
    await expect(loadModel(noConfig)).rejects.toThrow(/no 'config' metadata/);
    const { tensors, metadata } = decodeSafetensors(read('model.safetensors'));
    const wrong = encodeSafetensors(tensors, { config: JSON.stringify({ ...JSON.parse(metadata.config), hidden: 64 }) });
    await expect(loadModel(wrong)).rejects.toThrow(/tensor 'encoder\.\w+\.\w+' has shape \[128.*\], the architecture of its config .* needs \[64/);
    const badEncoder = encodeSafetensors(tensors, { config: JSON.stringify({ ...JSON.parse(metadata.config), encoder: 'rnn' }) });
    await expect(loadModel(badEncoder)).rejects.toThrow(/config\.encoder must be one of mlp, conv, got "rnn"/);
  });
});

describe('bundled digits', () => {
  it('are the MNIST images and labels the assets README says (100 per class from training image 50000 on)', () => {
    const train = parseDigits({ images: read('train-images-idx3-ubyte'), labels: read('train-labels-idx1-ubyte') }, 'train');
    const mnist = loadMnist({ split: 'train' });
    expect(train.n).toBe(1000);
    // Walk MNIST from 50000 and keep the first 100 of each class: a reference loop.
    const counts = new Array(10).fill(0);
    let r = 0;
    for (let i = 50000; r < 1000; i++) {
      const y = mnist.labels[i];
      if (counts[y] >= 100) continue;
      counts[y]++;
      expect(train.labels[r]).toBe(y);
      // Same bytes: u8 / 255 on both sides.
      expect(train.images.subarray(r * 784, (r + 1) * 784)).toEqual(mnist.images.subarray(i * 784, (i + 1) * 784));
      r++;
    }
  });
});

describe('centerDigit', () => {
  it('returns null for an empty canvas', () => {
    expect(centerDigit(new Float32Array(280 * 280), 280, 280)).toBeNull();
  });

  it('scales a 100×200 block to 10×20 and centres it: rows 4–23, columns 9–18', () => {
    const ink = new Float32Array(280 * 280);
    for (let y = 50; y < 250; y++) for (let x = 30; x < 130; x++) ink[y * 280 + x] = 1;
    const out = centerDigit(ink, 280, 280)!;
    for (let y = 0; y < 28; y++) {
      for (let x = 0; x < 28; x++) expect(out[y * 28 + x]).toBe(y >= 4 && y <= 23 && x >= 9 && x <= 18 ? 1 : 0);
    }
  });

  it('puts the centre of mass within half a pixel of (14, 14) and the longer side at 20 pixels', () => {
    fc.assert(
      fc.property(fc.integer({ min: 20, max: 200 }), fc.integer({ min: 20, max: 200 }), fc.integer({ min: 0, max: 79 }), fc.integer({ min: 0, max: 79 }), (w, h, x0, y0) => {
        const ink = new Float32Array(280 * 280);
        // A hollow rectangle (a stroke 12 px wide), so the shape is not uniform.
        for (let y = y0; y < y0 + h; y++) {
          for (let x = x0; x < x0 + w; x++) {
            if (x < x0 + 12 || y < y0 + 12 || x >= x0 + w - 12 || y >= y0 + h - 12) ink[y * 280 + x] = 1;
          }
        }
        const out = centerDigit(ink, 280, 280)!;
        let m = 0;
        let mx = 0;
        let my = 0;
        let x1 = -1;
        let y1 = -1;
        let xa = 28;
        let ya = 28;
        for (let y = 0; y < 28; y++) {
          for (let x = 0; x < 28; x++) {
            const p = out[y * 28 + x];
            if (p > 0) {
              xa = Math.min(xa, x);
              ya = Math.min(ya, y);
              x1 = Math.max(x1, x);
              y1 = Math.max(y1, y);
            }
            m += p;
            mx += p * (x + 0.5);
            my += p * (y + 0.5);
          }
        }
        expect(Math.abs(mx / m - 14)).toBeLessThanOrEqual(0.5 + 1e-9);
        expect(Math.abs(my / m - 14)).toBeLessThanOrEqual(0.5 + 1e-9);
        expect(Math.max(x1 - xa + 1, y1 - ya + 1)).toBe(20);
      }),
      { numRuns: 60, seed: 20261129 },
    );
  });
});
