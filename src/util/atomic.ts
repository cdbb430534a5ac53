// Every result file is written to a temporary sibling and renamed into place, so a crash or
// Ctrl-C leaves either the old file or the new one, never half of one.
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

let counter = 0;

/**
 * mkdir -p whose error says why: Node's recursive mkdir reports ENOENT on a read-only file system
 * or without permission, so on ENOENT the missing levels are created one by one, and the first
 * that fails throws its real cause (EROFS, EACCES, ENOTDIR).
 */
export function makeDirectory(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const missing: string[] = [];
    for (let d = dir; !existsSync(d) && dirname(d) !== d; d = dirname(d)) missing.unshift(d);
    for (const d of missing) mkdirSync(d);
    throw err;
  }
}

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const dir = dirname(path);
  makeDirectory(dir);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${counter++}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    // A write error (ENOSPC) names no file: name the one being written.
    const errno = err as NodeJS.ErrnoException;
    if (errno.code && !errno.path) errno.path = path;
    throw err;
  }
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n');
}
