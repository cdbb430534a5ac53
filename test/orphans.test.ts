// No orphans: a kill -9 of `tinyforge verify` while QEMU runs takes QEMU down with it (QEMU is
// started through setpriv --pdeathsig). Real processes throughout, checked with pgrep.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root, start, waitFor } from './helpers/cli-process.js';

/** Pids of the processes whose command line matches `pattern` (pgrep -f). */
function pgrep(pattern: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).trim().split('\n').map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

describe('kill -9 of verify', () => {
  it('leaves no QEMU running', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tinyforge-orphans-'));
    const out = join(dir, 'out');
    // The committed default model of the sweep, verified again in a scratch output directory.
    const point = join(root, 'results', 'lightweight-vs-baselines', 'points', 'default');
    mkdirSync(out, { recursive: true });
    copyFileSync(join(point, 'run', 'model.ir.json'), join(out, 'model.ir.json'));
    const config = join(dir, 'default.json');
    writeFileSync(config, JSON.stringify({ extends: join(point, 'default.json'), output: { dir: out } }));

    const verify = start(['verify', config], dir);
    const qemuPattern = `qemu-system-arm .*${dir}`;
    // The whole test set takes QEMU well over ten seconds: kill verify as soon as QEMU runs.
    await waitFor(() => pgrep(qemuPattern).length > 0 || verify.child.exitCode !== null, 240_000, 'QEMU to start', verify.stderr);
    const qemus = pgrep(qemuPattern);
    expect(qemus.length, verify.stderr()).toBeGreaterThan(0);
    verify.child.kill('SIGKILL');
    await verify.exited;
    await waitFor(() => pgrep(qemuPattern).length === 0, 5_000, `QEMU (${qemus.join(', ')}) to end with verify`);
  }, 300_000);
});
