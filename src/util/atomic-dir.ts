// A folder replaced as one unit. The new contents are written into a temporary sibling
// (.<name>.<pid>.<n>.new), then swapped in with two renames: the current folder becomes
// .<name>.<pid>.old, the new one takes its name, and only then is the old one deleted. A crash,
// ENOSPC or kill -9 at any point leaves either the previous folder or the new one under the name
// (or, between the two renames, no folder and the complete .old beside it, which the next
// stageDirectory() puts back). Leftovers of processes that no longer run are cleaned up there too.
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { log } from './log.js';

let counter = 0;

export interface StagedDirectory {
  /** Where to write the new contents. */
  path: string;
  /** Swaps `path` in under the folder's name; the previous folder is deleted afterwards. */
  commit(): void;
  /** Deletes `path`; the folder keeps its previous contents. */
  abort(): void;
}

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Removes what interrupted replacements of `dir` left behind by processes that have ended, and
 * restores the previous folder if a replacement was killed between its two renames.
 */
export function recoverDirectory(dir: string): void {
  const parent = dirname(dir);
  if (!existsSync(parent)) return;
  const pattern = new RegExp(`^\\.${escape(basename(dir))}\\.(\\d+)\\.(?:\\d+\\.new|old)$`);
  for (const entry of readdirSync(parent).sort()) {
    const match = pattern.exec(entry);
    if (!match || pidAlive(Number(match[1]))) continue;
    const path = join(parent, entry);
    if (entry.endsWith('.old') && !existsSync(dir)) {
      log.warn(`${dir}: restoring the previous contents from ${path} (a replacement was interrupted)`);
      renameSync(path, dir);
    } else {
      log.debug(`removing ${path}, left by an interrupted replacement of ${dir}`);
      rmSync(path, { recursive: true, force: true });
    }
  }
}

/**
 * Starts replacing `dir`. `keep` names entries of the current folder to carry over into the new
 * one (copied into the staging folder before the swap), e.g. a user's own files beside a library.
 */
export function stageDirectory(dir: string, keep: (entry: string) => boolean = () => false): StagedDirectory {
  recoverDirectory(dir);
  const parent = dirname(dir);
  const path = join(parent, `.${basename(dir)}.${process.pid}.${counter++}.new`);
  rmSync(path, { recursive: true, force: true });
  mkdirSync(path, { recursive: true });
  let open = true;
  return {
    path,
    commit() {
      if (!open) throw new Error(`${path}: already committed or aborted`);
      open = false;
      try {
        if (existsSync(dir)) {
          for (const entry of readdirSync(dir)) {
            if (keep(entry) && !existsSync(join(path, entry))) cpSync(join(dir, entry), join(path, entry), { recursive: true });
          }
        }
      } catch (err) {
        rmSync(path, { recursive: true, force: true });
        throw err;
      }
      const old = join(parent, `.${basename(dir)}.${process.pid}.old`);
      rmSync(old, { recursive: true, force: true });
      if (existsSync(dir)) renameSync(dir, old);
      try {
        renameSync(path, dir);
      } catch (err) {
        if (existsSync(old)) renameSync(old, dir);
        rmSync(path, { recursive: true, force: true });
        throw err;
      }
      rmSync(old, { recursive: true, force: true });
    },
    abort() {
      if (!open) return;
      open = false;
      rmSync(path, { recursive: true, force: true });
    },
  };
}

/** Fills a staged copy of `dir` with `fill` and swaps it in; on any error `dir` is left as it was. */
export async function replaceDirectory<T>(dir: string, fill: (path: string) => Promise<T>, keep?: (entry: string) => boolean): Promise<T> {
  const stage = stageDirectory(dir, keep);
  let result: T;
  try {
    result = await fill(stage.path);
  } catch (err) {
    stage.abort();
    throw err;
  }
  stage.commit();
  return result;
}
