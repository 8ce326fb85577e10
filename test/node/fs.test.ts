import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataFormatError } from '../../src/errors';
import { readSafetensorsFile, writeFileAtomic, writeSafetensorsFile } from '../../src/node';
import { tensor } from '../../src/tensor/tensor';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'spikessl-fs-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('writeFileAtomic', () => {
  it('writes and replaces a file, leaving no temporary file behind', () => {
    const path = join(dir, 'a.bin');
    writeFileAtomic(path, Uint8Array.of(1, 2, 3));
    expect(Array.from(readFileSync(path))).toEqual([1, 2, 3]);
    writeFileAtomic(path, new Uint8Array(100_000).fill(7));
    const back = readFileSync(path);
    expect(back.length).toBe(100_000);
    expect(back.every((b) => b === 7)).toBe(true);
    writeFileAtomic(path, new Uint8Array(0));
    expect(readFileSync(path).length).toBe(0);
    expect(readdirSync(dir)).toEqual(['a.bin']);
  });

  it('removes its temporary file and rethrows when the final rename fails', () => {
    const target = join(dir, 'taken');
    mkdirSync(target);
    writeFileSync(join(target, 'keep'), 'x'); // a non-empty directory cannot be replaced by a file
    expect(() => writeFileAtomic(target, Uint8Array.of(1))).toThrow();
    expect(readdirSync(dir)).toEqual(['taken']);
    expect(readFileSync(join(target, 'keep'), 'utf8')).toBe('x');
  });

  it('rethrows when the directory does not exist', () => {
    expect(() => writeFileAtomic(join(dir, 'missing', 'a.bin'), Uint8Array.of(1))).toThrow(/ENOENT/);
  });
});

describe('safetensors files', () => {
  it('writes atomically and reads back', () => {
    const path = join(dir, 'model.safetensors');
    writeSafetensorsFile(path, { w: tensor([[1, 2], [3, 4]]), n: { dtype: 'I32', shape: [], data: Int32Array.of(5) } }, { epoch: '2' });
    const { tensors, raw, metadata } = readSafetensorsFile(path);
    expect(tensors.w.toArray()).toEqual([[1, 2], [3, 4]]);
    expect(raw.n.data).toEqual(Int32Array.of(5));
    expect(metadata).toEqual({ epoch: '2' });
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
  });

  it('names the file in errors', () => {
    const path = join(dir, 'cut.safetensors');
    writeSafetensorsFile(path, { w: tensor([1, 2, 3]) });
    writeFileSync(path, readFileSync(path).subarray(0, -2));
    expect(() => readSafetensorsFile(path)).toThrow(DataFormatError);
    expect(() => readSafetensorsFile(path)).toThrow(`${path}: tensor "w": data_offsets [0, 12] run past the end of the data (10 bytes`);
  });
});
