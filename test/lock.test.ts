// One owner per output directory: a second tinyforge process on the same config is refused with
// the holder's pid and command, and a lock left by a kill -9 is taken over at once.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lockDirectory, lockHolder, LockedError } from '../src/util/lock.js';
import { setLogLevel } from '../src/util/log.js';
import { cli, isAlive, root, start, waitFor } from './helpers/cli-process.js';

setLogLevel('silent');
const dir = mkdtempSync(join(tmpdir(), 'tinyforge-lock-'));

function smallConfig(name: string): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify({
    extends: join(root, 'configs', 'default.json'),
    dataset: { trainLimit: 3000, testLimit: 100 },
    training: { epochs: 2, batchSize: 32 },
    output: { dir: join(dir, 'out', name) },
  }));
  return path;
}

describe('the output directory lock', () => {
  it('refuses a second process naming the holder, and takes over the lock of a process killed with -9', async () => {
    const file = smallConfig('shared');
    const out = join(dir, 'out', 'shared');
    const owner = join(out, '.tinyforge.lock.owner.json');
    const first = start(['train', file], dir);
    await waitFor(() => existsSync(owner), 60_000, 'the first process to take the lock', first.stderr);
    expect(JSON.parse(readFileSync(owner, 'utf8')).pid).toBe(first.child.pid);

    const second = await cli(['run', file], dir);
    expect(second.code).toBe(3);
    expect(second.stderr).toContain(`${out}: in use by pid ${first.child.pid} (\`cli.ts train ${file}\``);
    expect(second.stderr).toMatch(/`tinyforge run` would collide with it.*kill \d+/);
    expect(second.stderr).not.toMatch(/\n\s+at /); // one message, no stack
    expect(isAlive(first.child.pid!)).toBe(true); // the refused process did not disturb the first

    first.child.kill('SIGKILL');
    await first.exited;
    expect(existsSync(join(out, '.tinyforge.lock'))).toBe(true); // kill -9 ran no cleanup
    // The next command sees that the holder is gone and takes the lock at once (then fails for its
    // own reason: there is no IR to generate from).
    const third = await cli(['generate', file], dir);
    expect(third.stderr).toContain(`left by pid ${first.child.pid}`);
    expect(third.stderr).toContain('no longer running; taking it over');
    expect(third.stderr).not.toContain('in use');
    expect(third.code).toBe(2);
    expect(existsSync(join(out, '.tinyforge.lock'))).toBe(false); // released on exit
  }, 180_000);

  it('is re-entrant for its own process and free again after release', () => {
    const out = join(dir, 'out', 'own');
    const release = lockDirectory(out);
    expect(lockHolder(out)).toMatchObject({ pid: process.pid });
    expect(() => lockDirectory(out)).toThrow(); // proper-lockfile: already held
    release();
    expect(lockHolder(out)).toBeNull();
    lockDirectory(out)();
  });

  it('a held lock whose owner is not recorded yet is still refused', () => {
    const out = join(dir, 'out', 'fresh');
    const release = lockDirectory(out);
    writeFileSync(join(out, '.tinyforge.lock.owner.json'), '{}');
    try {
      expect(lockHolder(out)).toBe('unknown');
      let error: unknown;
      try {
        lockDirectory(out, 'x');
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(LockedError);
      expect((error as Error).message).toContain('in use by another process (not recorded yet');
    } finally {
      release();
    }
  });

  it('a lock with no owner record that nobody refreshes is taken over after the stale delay', () => {
    const out = join(dir, 'out', 'abandoned');
    mkdirSync(join(out, '.tinyforge.lock'), { recursive: true }); // as left by a kill between mkdir and the record
    expect(lockHolder(out)).toBe('unknown');
    const longAgo = new Date(Date.now() - 10 * 60_000);
    utimesSync(join(out, '.tinyforge.lock'), longAgo, longAgo);
    expect(lockHolder(out)).toBeNull();
    lockDirectory(out)();
  });
});
