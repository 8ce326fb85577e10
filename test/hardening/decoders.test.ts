/**
 * Issue 23, "widen the net": any byte string given to any public decoder ends, within a time
 * bound, in a valid result or in a typed one-line error (a SpikesslError) — never a RangeError,
 * TypeError, a hang or a multi-megabyte message. Inputs are random bytes and mutations of a
 * valid file of each format (flipped bytes, truncation, a rewritten length word, a spliced-in
 * chunk), so the decoders get past their first checks.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Linear,
  Rng,
  SpikesslError,
  SpikingMlp,
  buildModel,
  decodeModelFile,
  decodeNir,
  decodeSafetensors,
  encodeModelFile,
  encodeSafetensors,
  fromNir,
  hdf5Dataset,
  hdf5Group,
  loadCheckpoint,
  loadModelFile,
  parseIdx,
  readHdf5,
  saveCheckpoint,
  tensor,
  toNir,
  writeHdf5,
} from '../../src/node';
import { Adam } from '../../src/optim/adam';
import { defaultRunConfig } from '../../src/ssl/config';
import { gunzipIdx } from '../../src/node/mnist';

/** Generous for two shared cores: a well-behaved decoder answers these inputs in milliseconds. */
const DEADLINE_MS = 1500;
const MAX_MESSAGE = 1000;

const dir = mkdtempSync(join(tmpdir(), 'spikessl-decoders-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `decode`; fails unless it returns or throws a short one-line SpikesslError, within DEADLINE_MS. */
function typedOrValid(name: string, decode: (bytes: Uint8Array) => unknown, bytes: Uint8Array): void {
  const t0 = performance.now();
  try {
    decode(bytes);
  } catch (e) {
    if (!(e instanceof SpikesslError)) throw new Error(`${name}: expected a SpikesslError, got ${(e as Error)?.name}: ${String((e as Error)?.message).slice(0, 300)}`);
    if (e.message.includes('\n') || e.message.length > MAX_MESSAGE) throw new Error(`${name}: error message of ${e.message.length} characters or several lines: ${e.message.slice(0, 200)}`);
  }
  const ms = performance.now() - t0;
  if (ms > DEADLINE_MS) throw new Error(`${name}: took ${ms.toFixed(0)} ms on ${bytes.length} bytes`);
}

/** Random bytes, and mutations of `valid`. */
function hostileBytes(valid: Uint8Array): fc.Arbitrary<Uint8Array> {
  const n = valid.length;
  return fc.oneof(
    fc.uint8Array({ maxLength: 256 }),
    fc.array(fc.tuple(fc.nat(n - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }).map((flips) => {
      const b = valid.slice();
      for (const [i, v] of flips) b[i] = v;
      return b;
    }),
    fc.nat(n).map((len) => valid.slice(0, len)),
    // A length word (a safetensors header length, an HDF5 address, an IDX dimension) rewritten.
    fc.tuple(fc.nat(Math.max(0, n - 4)), fc.constantFrom(0, 1, 0x7fffffff, 0xffffffff, n, n + 1)).map(([at, v]) => {
      const b = valid.slice();
      new DataView(b.buffer).setUint32(at, v, true);
      return b;
    }),
    fc.tuple(fc.nat(n), fc.uint8Array({ minLength: 1, maxLength: 32 })).map(([at, chunk]) => {
      const b = new Uint8Array(n + chunk.length);
      b.set(valid.subarray(0, at));
      b.set(chunk, at);
      b.set(valid.subarray(at), at + chunk.length);
      return b;
    }),
  );
}

function fuzz(name: string, valid: Uint8Array, decode: (bytes: Uint8Array) => unknown, numRuns = 400): void {
  decode(valid); // the seed itself decodes
  fc.assert(
    fc.property(hostileBytes(valid), (b) => typedOrValid(name, decode, b)),
    { numRuns },
  );
}

const IDX = Uint8Array.of(0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 0, 51, 102, 153, 204, 255, 0, 7);

describe('every public decoder: a valid result or a typed one-line error, in bounded time', () => {
  it('decodeSafetensors', () => {
    const valid = encodeSafetensors({ w: tensor([[1, 2], [3, 4]]), n: { dtype: 'I64', shape: [1], data: BigInt64Array.of(3n) }, h: { dtype: 'F16', shape: [2], data: Uint16Array.of(1, 2) } }, { format: 'pt' });
    fuzz('decodeSafetensors', valid, (b) => decodeSafetensors(b, 'fuzz'));
  });

  it('parseIdx, and gzip-compressed IDX as loadMnist reads it', () => {
    fuzz('parseIdx', IDX, (b) => parseIdx(b, 'fuzz'));
    const gz = gzipSync(IDX);
    fuzz('IDX gz', gz, (b) => parseIdx(gunzipIdx(b, 'fuzz'), 'fuzz'));
    // Valid gzip around hostile IDX content.
    fc.assert(fc.property(hostileBytes(IDX), (b) => typedOrValid('IDX gz content', (x) => parseIdx(gunzipIdx(gzipSync(x), 'fuzz'), 'fuzz'), b)), { numRuns: 300 });
  });

  it('loadCheckpoint (from a file)', () => {
    const path = join(dir, 'checkpoint.safetensors');
    const model = new Linear(3, 2, { rng: new Rng(1) });
    saveCheckpoint(path, { model, optimizer: new Adam(model.parameters()), epoch: 1, step: 4, rng: new Rng(2), extra: { batchLoss: [0.5] } });
    const valid = new Uint8Array(readFileSync(path));
    const file = join(dir, 'fuzzed.safetensors');
    fuzz('loadCheckpoint', valid, (b) => {
      writeFileSync(file, b);
      return loadCheckpoint(file);
    }, 200);
  });

  it('decodeModelFile and loadModelFile', () => {
    const config = { ...defaultRunConfig(), hidden: 6, projDim: 4 };
    const valid = encodeModelFile(buildModel(config, new Rng(0)), config);
    fuzz('decodeModelFile', valid, (b) => decodeModelFile(b, 'fuzz'), 300);
    fuzz('loadModelFile', valid, (b) => loadModelFile(b, 'fuzz'), 200);
  });

  it('readHdf5', () => {
    const valid = writeHdf5(hdf5Group({ a: hdf5Dataset('float32', Float32Array.of(1, 2, 3, 4), [2, 2]), g: hdf5Group({ s: hdf5Dataset('string', ['hi']) }) }));
    fuzz('readHdf5', valid, (b) => readHdf5(b, 'fuzz'));
  });

  it('decodeNir and fromNir', () => {
    const valid = toNir(new SpikingMlp({ inputs: 4, hidden: [3], rng: new Rng(0), reset: 'zero' }));
    fuzz('decodeNir', valid, (b) => decodeNir(b, 'fuzz'), 300);
    fuzz('fromNir', valid, (b) => fromNir(b, 'fuzz'), 200);
  });

  it('the checker itself rejects an untyped error and a slow decoder', () => {
    expect(() => typedOrValid('t', () => new Float32Array(-1), Uint8Array.of(1))).toThrow(/expected a SpikesslError, got RangeError/);
    expect(() =>
      typedOrValid('t', () => {
        const end = performance.now() + DEADLINE_MS + 50;
        while (performance.now() < end);
      }, Uint8Array.of(1)),
    ).toThrow(/took \d+ ms/);
  });
});
