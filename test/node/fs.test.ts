import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataFormatError, FileError } from '../../src/errors';
import { Linear, Rng, loadCheckpoint, readSafetensorsFile, saveCheckpoint, writeFileAtomic, writeSafetensorsFile } from '../../src/node';
import { ensureDirectory, readFileChecked, removeStaleTemporaries } from '../../src/node/fs';
import { tensor } from '../../src/tensor/tensor';
import { bundleNode } from '../helpers/bundle';

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

  it('throws a one-line FileError when the directory does not exist or the target is a directory', () => {
    const missing = join(dir, 'missing', 'a.bin');
    expect(() => writeFileAtomic(missing, Uint8Array.of(1))).toThrow(new FileError(`${missing}: cannot write: no such file or directory (ENOENT)`, 'ENOENT'));
    const target = join(dir, 'taken');
    mkdirSync(target);
    writeFileSync(join(target, 'keep'), 'x');
    expect(() => writeFileAtomic(target, Uint8Array.of(1))).toThrow(FileError);
    expect(() => writeFileAtomic(target, Uint8Array.of(1))).toThrow(/^.*taken: cannot replace: .*\((EISDIR|ENOTEMPTY|EEXIST)\)$/);
    expect(() => writeFileAtomic('', Uint8Array.of(1))).toThrow(FileError);
  });
});

/** The pid of a process that has exited (so no process of that pid runs, barring reuse within milliseconds). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '0']);
  return child.pid as number;
}

describe('stale temporary files', () => {
  it('a later write into the folder removes stale temporaries only: our pattern, regular files, writer gone and older than a minute', () => {
    const path = join(dir, 'checkpoint.safetensors');
    const gone = deadPid();
    const hour = Date.now() / 1000 - 3600;
    const make = (name: string, old = true): string => {
      writeFileSync(join(dir, name), 'partial');
      if (old) utimesSync(join(dir, name), hour, hour);
      return name;
    };
    const stale = make(`.checkpoint.safetensors.${gone}.0123456789ab.tmp`);
    const fresh = make(`.checkpoint.safetensors.${gone}.0123456789ac.tmp`, false); // its writer may be in another PID namespace
    const live = make(`.checkpoint.safetensors.${process.pid}.0123456789ad.tmp`); // this process is alive
    const otherFile = make(`.model.safetensors.${gone}.0123456789ab.tmp`); // another file's temporary, as stale
    const notOurs = make(`.checkpoint.safetensors.${gone}.0123456789ab.tmp.bak`);
    const upper = make(`.checkpoint.safetensors.${gone}.0123456789AB.tmp`);
    mkdirSync(join(dir, `.checkpoint.safetensors.${gone}.0123456789ae.tmp`));
    const outside = join(dir, 'outside');
    writeFileSync(outside, 'keep');
    symlinkSync(outside, join(dir, `.checkpoint.safetensors.${gone}.0123456789af.tmp`));
    saveCheckpoint(path, { model: new Linear(2, 2, { rng: new Rng(1) }), epoch: 1 });
    const left = readdirSync(dir);
    expect(left).not.toContain(stale);
    expect(left).not.toContain(otherFile);
    for (const kept of [fresh, live, notOurs, upper, `.checkpoint.safetensors.${gone}.0123456789ae.tmp`, `.checkpoint.safetensors.${gone}.0123456789af.tmp`]) expect(left).toContain(kept);
    expect(readFileSync(outside, 'utf8')).toBe('keep');
    expect(loadCheckpoint(path).epoch).toBe(1);
    // A day-old temporary goes whoever wrote it; the live writer's fresh one stays.
    const day = Date.now() / 1000 - 25 * 3600;
    utimesSync(join(dir, live), day, day);
    expect(removeStaleTemporaries(dir)).toEqual([live]);
  });
});

describe('file errors are one line and typed', () => {
  it('readFileChecked: missing, a directory, a file over 2 GiB (refused before reading)', () => {
    const missing = join(dir, 'nope.safetensors');
    expect(() => readFileChecked(missing)).toThrow(new FileError(`${missing}: cannot read: no such file or directory (ENOENT)`, 'ENOENT'));
    expect(() => readSafetensorsFile(missing)).toThrow(FileError);
    expect(() => readSafetensorsFile(dir)).toThrow(new FileError(`${dir}: is a directory, expected a file`, 'EISDIR'));
    expect(() => loadCheckpoint(dir)).toThrow(new FileError(`${dir}: is a directory, expected a file`, 'EISDIR'));
    const big = join(dir, 'big.safetensors');
    writeFileSync(big, '');
    truncateSync(big, 2 ** 31 + 8); // sparse: takes no space
    expect(statSync(big).size).toBe(2 ** 31 + 8);
    const t0 = performance.now();
    expect(() => readSafetensorsFile(big)).toThrow(new FileError(`${big}: ${2 ** 31 + 8} bytes, more than the 2147483647 (2 GiB) a file read whole may hold`, 'EFBIG'));
    expect(performance.now() - t0).toBeLessThan(1000); // refused from its size, not read
  });

  it('ensureDirectory: creates parents; refuses an empty path and a file in the way', () => {
    ensureDirectory(join(dir, 'a', 'b'));
    expect(statSync(join(dir, 'a', 'b')).isDirectory()).toBe(true);
    ensureDirectory(join(dir, 'a', 'b')); // already there: fine
    writeFileSync(join(dir, 'file'), 'x');
    expect(() => ensureDirectory(join(dir, 'file'))).toThrow(new FileError(`${join(dir, 'file')}: cannot create the directory: a file of that name is in the way (EEXIST)`, 'EEXIST'));
    expect(() => ensureDirectory(join(dir, 'file', 'sub'))).toThrow(/cannot create the directory: a file in its path is in the way \(ENOTDIR\)$/);
    expect(() => ensureDirectory('')).toThrow(FileError);
    expect(() => ensureDirectory(join(dir, 'x'.repeat(300)))).toThrow(/cannot create the directory: file name too long \(ENAMETOOLONG\)$/);
  });

  it.skipIf(process.platform === 'win32')('a write that runs out of room (file size limit) throws FileError and leaves the previous checkpoint intact', async () => {
    const bundle = await bundleNode();
    try {
      const path = join(dir, 'checkpoint.safetensors');
      saveCheckpoint(path, { model: new Linear(4, 4, { rng: new Rng(1) }), epoch: 1 });
      const before = readFileSync(path);
      const script = `
import { saveCheckpoint, Linear, Rng } from ${JSON.stringify(join(bundle.dir, 'node.js'))};
try {
  saveCheckpoint(${JSON.stringify(path)}, { model: new Linear(512, 512, { rng: new Rng(2) }), epoch: 2 });
  console.log(JSON.stringify({ ok: true }));
} catch (e) {
  console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message }));
}`;
      // ulimit -f caps the size of any file this process writes (in blocks of 512 or 1024 bytes): 64 blocks < the 1 MiB checkpoint.
      const out = execFileSync('/bin/sh', ['-c', `ulimit -f 64 && exec "${process.execPath}" --input-type=module -e "$SCRIPT"`], { env: { ...process.env, SCRIPT: script }, encoding: 'utf8' });
      const r = JSON.parse(out.trim()) as { name: string; code: string; message: string };
      expect(r.name).toBe('FileError');
      expect(r.code).toBe('EFBIG');
      expect(r.message).toBe(`${path}: cannot write: file too large for this file system or process limit (EFBIG)`);
      expect(readFileSync(path).equals(before)).toBe(true);
      expect(loadCheckpoint(path).epoch).toBe(1);
      expect(readdirSync(dir)).toEqual(['checkpoint.safetensors']);
    } finally {
      bundle.cleanup();
    }
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
