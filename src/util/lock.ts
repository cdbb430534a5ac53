// One owner per output directory. proper-lockfile takes the lock (an atomic mkdir of
// <dir>/.tinyforge.lock, kept fresh by touching its mtime, removed on exit). Beside it we record
// who holds it (pid, command, start time) so a refusal can name the process, and so a lock left by
// a process that no longer exists (kill -9) is recovered at once instead of after the stale delay.
// The recorded process is what counts while it lives: a lock whose mtime fell behind because the
// owner's event loop was busy (a long synchronous evaluation) is not taken away from a live owner.
import { existsSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import lockfile from 'proper-lockfile';
import { makeDirectory, writeJsonAtomic } from './atomic.js';
import { EnvironmentError, ExitCode } from './errors.js';
import { log } from './log.js';

/** Who holds a lock: written to <dir>/.tinyforge.lock.owner.json once the lock is taken. */
export interface LockOwner {
  pid: number;
  /** The process's start time (Linux: clock ticks since boot), so a reused pid is not mistaken for it. */
  startTime: string | null;
  host: string;
  command: string;
  since: string;
  /** Identity of the lock directory it took (inode and birth time), binding this record to that lock. */
  lockId: string;
}

/** Exit code of a refusal: the directory is busy (an environment condition, not bad input). */
export const lockedExitCode = ExitCode.environment;

export class LockedError extends EnvironmentError {
  constructor(message: string, readonly owner: LockOwner | null, dir: string) {
    super(message, { file: dir });
    this.name = 'LockedError';
  }
}

export const lockPath = (dir: string) => join(dir, '.tinyforge.lock');
const ownerPath = (dir: string) => join(dir, '.tinyforge.lock.owner.json');

/** The lock stays ours while its mtime is refreshed within this many ms (proper-lockfile's `stale`). */
const staleMs = 60_000;

function processStartTime(pid: number | 'self'): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return null; // a zombie has ended
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether the process the record names is still running (same pid and start time). */
export function ownerAlive(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return true; // cannot tell: trust the lock's mtime instead
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  if (!existsSync('/proc/self/stat')) return true;
  const start = processStartTime(owner.pid);
  return start !== null && (owner.startTime === null || start === owner.startTime);
}

function lockIdentity(dir: string): string | null {
  try {
    const s = statSync(lockPath(dir));
    return `${s.ino}:${s.birthtimeMs}`;
  } catch {
    return null;
  }
}

function readOwner(dir: string): LockOwner | null {
  try {
    return JSON.parse(readFileSync(ownerPath(dir), 'utf8')) as LockOwner;
  } catch {
    return null;
  }
}

export function describeOwner(owner: LockOwner): string {
  return `pid ${owner.pid} (\`${owner.command}\`, since ${owner.since}${owner.host === hostname() ? '' : `, on host ${owner.host}`})`;
}

/**
 * The live process holding `dir`'s lock, `null` when nobody does, or 'unknown' when the lock is
 * held (fresh) but its owner is not recorded (yet). A lock whose recorded owner has ended is made
 * stale, so the next lock attempt removes it; one with no record is stale after `staleMs`.
 */
export function lockHolder(dir: string): LockOwner | 'unknown' | null {
  const id = lockIdentity(dir);
  if (id === null) return null;
  const owner = readOwner(dir);
  if (!owner || owner.lockId !== id) {
    // Not recorded (yet): held while proper-lockfile keeps it fresh, abandoned after that.
    try {
      return Date.now() - statSync(lockPath(dir)).mtimeMs < staleMs ? 'unknown' : null;
    } catch {
      return null; // released meanwhile
    }
  }
  if (ownerAlive(owner)) return owner;
  log.warn(`${lockPath(dir)}: left by ${describeOwner(owner)}, which is no longer running; taking it over`);
  utimesSync(lockPath(dir), 0, 0);
  return null;
}

function busy(dir: string, owner: LockOwner | null, what: string): LockedError {
  const who = owner ? `by ${describeOwner(owner)}` : 'by another process (not recorded yet; try again in a moment)';
  return new LockedError(
    `${dir}: in use ${who}; ${what} would collide with it. Wait for it to finish` +
      (owner ? ` or stop it (kill ${owner.pid})` : '') + ', then run again.',
    owner,
    dir,
  );
}

/**
 * Takes `dir`'s lock for this process (creating `dir`), or throws LockedError naming the holder.
 * Returns the release function; the lock is also released when the process exits.
 */
export function lockDirectory(dir: string, what = 'this command'): () => void {
  makeDirectory(dir);
  const holder = lockHolder(dir);
  if (holder === 'unknown' || (holder && holder.pid !== process.pid)) throw busy(dir, holder === 'unknown' ? null : holder, what);
  let release: () => void;
  try {
    release = lockfile.lockSync(dir, {
      lockfilePath: lockPath(dir),
      realpath: false,
      stale: staleMs,
      onCompromised: (err) => {
        // Only the mtime refresh fell behind (a long synchronous step): the owner record below
        // still names this live process, which is what other tinyforge processes check first.
        log.debug(`${lockPath(dir)}: ${err.message}; the lock stays held through its owner record`);
      },
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOCKED') {
      const owner = readOwner(dir);
      throw busy(dir, owner && owner.lockId === lockIdentity(dir) ? owner : null, what);
    }
    throw err;
  }
  const me: LockOwner = {
    pid: process.pid,
    startTime: processStartTime('self'),
    host: hostname(),
    command: [basename(process.argv[1] ?? 'node'), ...process.argv.slice(2)].join(' '),
    since: new Date().toISOString(),
    lockId: lockIdentity(dir)!,
  };
  writeJsonAtomic(ownerPath(dir), me);
  return () => {
    if (readOwner(dir)?.pid === process.pid) rmSync(ownerPath(dir), { force: true });
    try {
      release();
    } catch {
      // Already released (compromised, or removed by hand).
    }
  };
}
