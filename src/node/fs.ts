/**
 * File access for Node: atomic writes and safetensors files. Synchronous, so a training loop
 * can save between steps without interleaving.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type DecodedSafetensors, type RawTensor, decodeSafetensors, encodeSafetensors } from '../io/safetensors';
import type { Tensor } from '../tensor/tensor';

/**
 * Writes `bytes` to `path` so that `path` holds either its old content or all of the new one,
 * never a part: the bytes go to a temporary file in the same directory, are flushed to disk
 * (fsync), and the file is renamed over `path` (atomic on POSIX file systems). On any error the
 * temporary file is removed and the error rethrown.
 *
 * @example
 * ```ts
 * writeFileAtomic('runs/a/report.json', new TextEncoder().encode(JSON.stringify(report)));
 * ```
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | null = null;
  try {
    fd = openSync(tmp, 'wx');
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
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
    throw e;
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
}

/**
 * Reads and decodes a safetensors file; errors name the file (see `decodeSafetensors`).
 *
 * @example
 * ```ts
 * const { tensors, metadata } = readSafetensorsFile('runs/a/model.safetensors');
 * ```
 */
export function readSafetensorsFile(path: string): DecodedSafetensors {
  return decodeSafetensors(readFileSync(path), path);
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
