// c/ and firmware/ are replaced as one unit: a full disk half-way through a generate or a build
// leaves the previous model's library and firmware whole, and the leftovers of a kill -9 are
// recovered by the next run. The disk is a real small tmpfs (skipped where mounting is not allowed).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { generateLibrary, writeLibrary } from '../src/codegen/generate.js';
import { loadConfig } from '../src/config/load.js';
import { loadIr } from '../src/ir/io.js';
import { runPaths } from '../src/paths.js';
import { buildStage } from '../src/pipeline/verify-stage.js';
import { recoverDirectory, stageDirectory } from '../src/util/atomic-dir.js';
import { setLogLevel } from '../src/util/log.js';

setLogLevel('silent');
const points = join('results', 'lightweight-vs-baselines', 'points');
const irOf = (point: string) => loadIr(join(points, point, 'run', 'model.ir.json'));

/** Every file under dir (relative path -> sha256), dotfiles included. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out[path.slice(dir.length + 1)] = createHash('sha256').update(readFileSync(path)).digest('hex');
  }
  return out;
}

const scratch = mkdtempSync(join(tmpdir(), 'tinyforge-atomic-dir-'));
const mountPoint = join(scratch, 'small-disk');
mkdirSync(mountPoint);
const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountPoint]).status === 0;
if (!mounted) console.warn(`atomic-dir.test: cannot mount a tmpfs here (needs root); the full-disk tests are skipped`);
afterAll(() => {
  if (mounted) execFileSync('umount', [mountPoint]);
});
afterEach(() => {
  for (const entry of readdirSync(mountPoint)) if (entry.startsWith('ballast-')) rmSync(join(mountPoint, entry));
});

/** Fills the small disk with a ballast file so that only `free` bytes (about) remain. */
function leaveFree(free: number): void {
  const stat = statfsSync(mountPoint);
  const available = stat.bavail * stat.bsize;
  writeFileSync(join(mountPoint, `ballast-${Date.now()}`), Buffer.alloc(Math.max(0, available - free)));
}

const librarySize = (lib: { files: Record<string, string> }) => Object.values(lib.files).reduce((s, t) => s + Buffer.byteLength(t) + 4096, 0);

describe.skipIf(!mounted)('a full disk half-way through', () => {
  it('generate leaves the previous library whole (and no temporary folder)', () => {
    const dir = join(mountPoint, 'gen', 'c');
    writeLibrary(dir, generateLibrary(irOf('default')));
    const before = snapshot(dir);
    const lenet = generateLibrary(irOf('lenet5'));
    leaveFree(librarySize(lenet) / 2);
    expect(() => writeLibrary(dir, lenet)).toThrow(/ENOSPC/);
    expect(snapshot(dir)).toEqual(before);
    expect(readdirSync(join(mountPoint, 'gen'))).toEqual(['c']);
  });

  it('build leaves the previous firmware whole', async () => {
    const out = join(mountPoint, 'build');
    const file = join(scratch, 'build.json');
    writeFileSync(file, JSON.stringify({ extends: join(process.cwd(), points, 'default', 'default.json'), output: { dir: out } }));
    const config = loadConfig(file);
    const paths = runPaths(out);
    const first = await buildStage(config, paths, irOf('default'));
    expect(first.build.elf).toBe(join(out, 'firmware', 'firmware.elf'));
    expect(existsSync(first.footprint.hex)).toBe(true);
    const before = snapshot(paths.firmwareDir);
    // Room for the new library, not for the new firmware.
    leaveFree(librarySize(generateLibrary(irOf('lenet5'))) + 64 * 1024);
    await expect(buildStage(config, paths, irOf('lenet5'))).rejects.toThrow(/No space left on device|ENOSPC/);
    expect(snapshot(paths.firmwareDir)).toEqual(before);
    expect(readdirSync(out).filter((e) => e.startsWith('.firmware'))).toEqual([]);
  }, 300_000);
});

/** A pid that belonged to a process which has ended. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('what a kill -9 leaves behind', () => {
  it('a half-written staging folder is removed by the next generation', () => {
    const dir = join(scratch, 'killed-writing', 'c');
    writeLibrary(dir, generateLibrary(irOf('default')));
    const leftover = join(scratch, 'killed-writing', `.c.${deadPid()}.0.new`);
    mkdirSync(leftover);
    writeFileSync(join(leftover, 'model.h'), '/* half */');
    writeLibrary(dir, generateLibrary(irOf('nano')));
    expect(readdirSync(join(scratch, 'killed-writing'))).toEqual(['c']);
    expect(readFileSync(join(dir, 'model.h'), 'utf8')).toContain("config 'nano'");
  });

  it('killed between the two renames: the previous folder is put back', () => {
    const parent = join(scratch, 'killed-swapping');
    const old = join(parent, `.c.${deadPid()}.old`);
    mkdirSync(old, { recursive: true });
    writeFileSync(join(old, 'model.h'), 'previous');
    recoverDirectory(join(parent, 'c'));
    expect(readdirSync(parent)).toEqual(['c']);
    expect(readFileSync(join(parent, 'c', 'model.h'), 'utf8')).toBe('previous');
  });

  it('a live process\'s staging folder is left alone; a user\'s own files in c/ are carried over', () => {
    const dir = join(scratch, 'live', 'c');
    writeLibrary(dir, generateLibrary(irOf('default')));
    writeFileSync(join(dir, 'my_main.c'), 'int main(void) { return 0; }\n');
    const mine = stageDirectory(dir);
    writeLibrary(dir, generateLibrary(irOf('nano')));
    expect(existsSync(mine.path)).toBe(true);
    mine.abort();
    expect(readFileSync(join(dir, 'my_main.c'), 'utf8')).toContain('main');
    expect(readdirSync(join(scratch, 'live'))).toEqual(['c']);
  });
});
