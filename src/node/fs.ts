/**
 * File access for Node: checked reads, atomic writes and safetensors files. Synchronous, so a
 * training loop can save between steps without interleaving. Every failure of the environment
 * (missing file, a directory where a file belongs, no permission, disk full, …) becomes a
 * one-line {@link FileError} naming the path, never a raw Node error.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FileError } from '../errors';
import { type DecodedSafetensors, type RawTensor, decodeSafetensors, encodeSafetensors } from '../io/safetensors';
import type { Tensor } from '../tensor/tensor';

/**
 * The largest file read whole here: 2 GiB − 1 byte, Node's limit for one read (and far beyond any
 * MNIST-format file or model this library writes).
 */
export const MAX_FILE_BYTES = 2 ** 31 - 1;

/** What the common system error codes mean, for one-line messages. */
const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EISDIR: 'is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for this file system or process limit',
  ENAMETOOLONG: 'file name too long',
  EEXIST: 'already exists',
  ELOOP: 'too many levels of symbolic links',
  EMFILE: 'too many open files',
  EIO: 'input/output error',
};

/**
 * Converts an error thrown by `node:fs` into a {@link FileError} saying `path: cannot <action>:
 * <reason> (<CODE>)`; a FileError, or anything that is not a system error (no string `code`), is
 * returned as is.
 */
export function fileError(e: unknown, path: string, action: string): unknown {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || e instanceof FileError) return e;
  const reason = REASONS[code] ?? String((e as Error).message).split('\n')[0].replace(/^[A-Z_]+: /, '');
  return new FileError(`${path === '' ? "''" : path}: cannot ${action}: ${reason} (${code})`, code);
}

/**
 * Reads a whole file after checking that it is one: a missing path, a directory, something that is
 * not a regular file, or a file over {@link MAX_FILE_BYTES} throws a one-line {@link FileError}
 * (and nothing is read).
 *
 * @example
 * ```ts
 * const bytes = readFileChecked('data/train-images-idx3-ubyte');
 * ```
 */
export function readFileChecked(path: string): Uint8Array {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new FileError(`${path}: is a directory, expected a file`, 'EISDIR');
    if (!st.isFile()) throw new FileError(`${path}: is not a regular file`);
    size = st.size;
  } catch (e) {
    throw fileError(e, path, 'read');
  }
  if (size > MAX_FILE_BYTES) throw new FileError(`${path}: ${size} bytes, more than the ${MAX_FILE_BYTES} (2 GiB) a file read whole may hold`, 'EFBIG');
  try {
    return readFileSync(path);
  } catch (e) {
    throw fileError(e, path, 'read');
  }
}

/**
 * Creates directory `path` and its parents if missing, as a run folder needs. Throws a one-line
 * {@link FileError} when `path` is empty, exists as something other than a directory, or cannot
 * be created (no permission, read-only, name too long, a file in the way).
 *
 * @example
 * ```ts
 * ensureDirectory('runs/demo');
 * ```
 */
export function ensureDirectory(path: string): void {
  if (path === '') throw new FileError("'': an empty path names no directory", 'ENOENT');
  try {
    mkdirSync(path, { recursive: true });
  } catch (e) {
    // mkdir -p reports a file in the way as EEXIST or ENOTDIR; say what is there.
    const code = (e as { code?: unknown }).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new FileError(`${path}: cannot create the directory: ${code === 'EEXIST' ? 'a file of that name' : 'a file in its path'} is in the way (${code})`, code);
    throw fileError(e, path, 'create the directory');
  }
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch (e) {
    throw fileError(e, path, 'create the directory');
  }
  if (!isDir) throw new FileError(`${path}: cannot create the directory: a file of that name is in the way (EEXIST)`, 'EEXIST');
}

/** The temporary file {@link writeFileAtomic} writes `.<name>.<pid>.<12 hex digits>.tmp` beside `<name>`. */
function temporaryName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** The names {@link temporaryName} gives, with the writer's pid. */
const TEMPORARY = /^\..+\.(\d{1,10})\.[0-9a-f]{12}\.tmp$/;

/** True when process `pid` exists on this machine (signal 0 only checks; EPERM means it exists but is not ours). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: unknown }).code === 'EPERM';
  }
}

/** Options of {@link removeStaleTemporaries}. */
export interface StaleTemporariesOptions {
  /**
   * A temporary file younger than this is left alone even when its writer is gone (default 60 s):
   * a writer in another PID namespace sharing the directory looks dead from here, and its file's
   * modification time is at most seconds old while it writes.
   */
  minAgeMs?: number;
  /** Older than this, a temporary file is removed whoever wrote it (default 24 h: no write takes that long). */
  maxAgeMs?: number;
}

/**
 * Removes the temporary files that {@link writeFileAtomic} left in directory `dir` when its
 * process was killed before the rename: only names of exactly its pattern
 * (`.<name>.<pid>.<12 hex>.tmp`), only regular files (never a symbolic link or directory), and
 * only stale ones — written by a process that no longer runs and older than `minAgeMs`, or older
 * than `maxAgeMs`. Returns the names removed. Best effort: a file that cannot be examined or
 * removed is skipped.
 *
 * @example
 * ```ts
 * removeStaleTemporaries('runs/demo'); // e.g. ['.checkpoint.safetensors.4242.0a1b2c3d4e5f.tmp']
 * ```
 */
export function removeStaleTemporaries(dir: string, options: StaleTemporariesOptions = {}): string[] {
  const { minAgeMs = 60_000, maxAgeMs = 24 * 3600_000 } = options;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  const now = Date.now();
  for (const name of names) {
    const m = TEMPORARY.exec(name);
    if (m === null) continue;
    const file = join(dir, name);
    try {
      const st = lstatSync(file);
      if (!st.isFile()) continue;
      const age = now - st.mtimeMs;
      const pid = Number(m[1]);
      const writerGone = pid !== process.pid && !processAlive(pid);
      if (!(age > maxAgeMs || (writerGone && age > minAgeMs))) continue;
      unlinkSync(file);
      removed.push(name);
    } catch {
      // vanished meanwhile or not ours to remove: leave it
    }
  }
  return removed;
}

/**
 * Writes `bytes` to `path` so that `path` holds either its old content or all of the new one,
 * never a part: the bytes go to a temporary file in the same directory, are flushed to disk
 * (fsync), and the file is renamed over `path` (atomic on POSIX file systems). On any error the
 * temporary file is removed, `path` is left as it was, and a one-line {@link FileError} is thrown
 * (disk full: `ENOSPC`; no permission: `EACCES`; …). After a successful write, stale temporary
 * files of earlier writes to `path` killed before their rename are removed (see
 * `removeStaleTemporaries`).
 *
 * @example
 * ```ts
 * writeFileAtomic('runs/a/report.json', new TextEncoder().encode(JSON.stringify(report)));
 * ```
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  if (path === '') throw new FileError("'': an empty path names no file", 'ENOENT');
  const dir = dirname(path);
  const tmp = temporaryName(path);
  let fd: number | null = null;
  let step = 'write';
  try {
    fd = openSync(tmp, 'wx');
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    step = 'replace';
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== null) {
      try {
        closeSync(fd);
      } catch {
        // already failing; the original error is the one to report
      }
    }
    try {
      unlinkSync(tmp);
    } catch {
      // the temporary file may never have been created
    }
    throw fileError(e, path, step);
  }
  // Make the rename itself durable; directories cannot be opened for fsync everywhere (Windows), so best effort.
  try {
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch {
    // not supported on this platform
  }
  removeStaleTemporaries(dir);
}

/**
 * Reads and decodes a safetensors file; errors name the file: a {@link FileError} when it cannot
 * be read (see `readFileChecked`), else those of `decodeSafetensors`.
 *
 * @example
 * ```ts
 * const { tensors, metadata } = readSafetensorsFile('runs/a/model.safetensors');
 * ```
 */
export function readSafetensorsFile(path: string): DecodedSafetensors {
  return decodeSafetensors(readFileChecked(path), path);
}

/**
 * Encodes tensors as safetensors (see `encodeSafetensors`) and writes them atomically.
 *
 * @example
 * ```ts
 * writeSafetensorsFile('model.safetensors', model.stateDict(), { format: 'pt' });
 * ```
 */
export function writeSafetensorsFile(path: string, tensors: Record<string, Tensor | RawTensor>, metadata?: Record<string, string>): void {
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}
