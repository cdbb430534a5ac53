// Bad input and a bad environment through the real CLI: every case ends with one line naming the
// file (or option) and the cause, the exit status of its row in docs/exit-codes.md, and, with
// --json, exactly one JSON object on stdout. None of these cases needs QEMU.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { irHash, loadConfig } from '../src/config/load.js';
import { encodeIdx } from '../src/data/idx.js';
import { saveIr } from '../src/ir/io.js';
import { runPaths } from '../src/paths.js';
import { runCli, writeConfig, type CliResult } from './helpers/cli.js';
import { randomIr } from './helpers/random-ir.js';

const dir = mkdtempSync(join(tmpdir(), 'tinyforge-input-'));
const cli = (args: string[], env?: NodeJS.ProcessEnv) => runCli(args, { cwd: dir, env });
const mounts: string[] = [];

/** One error line (no stack trace, no Node dump) and nothing else on stderr but warnings. */
function expectOneLineError(r: CliResult, code: number, pattern: RegExp): void {
  expect(r.code).toBe(code);
  const errors = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/^\s+at /m);
}

/** stdout is exactly one JSON object: {ok: false, error: {code, message, file, field}}. */
function jsonError(r: CliResult) {
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  const answer = JSON.parse(lines[0]);
  expect(answer.ok).toBe(false);
  expect(Object.keys(answer.error).sort()).toEqual(['code', 'field', 'file', 'message']);
  expect(answer.error.code).toBe(r.code);
  return answer.error;
}

/** The config's IR as `quantize` would leave it, made from a random model with the config's hash. */
function writeIrFor(configFile: string, hashFrom = configFile): void {
  const ir = randomIr(7, { architecture: 'mnist-cnn' });
  const from = loadConfig(hashFrom);
  ir.metadata = { ...ir.metadata, configName: from.name, irHash: irHash(from) };
  saveIr(runPaths(loadConfig(configFile).output.dir).ir, ir);
}

afterAll(() => {
  for (const m of mounts) execFileSync('umount', [m]);
});

describe('numeric options are parsed and range-checked before any work', () => {
  const file = writeConfig(dir, 'options', {});
  const out = join(dir, 'out', 'options');
  const cases: [string, string[], string][] = [
    ['verify', ['--images', 'abc'], '--images'],
    ['verify', ['--images', '0'], '--images'],
    ['verify', ['--images', '-5'], '--images'],
    ['verify', ['--timeout', '0'], '--timeout'],
    ['verify', ['--timeout', 'abc'], '--timeout'],
    ['run', ['--timeout', '-1'], '--timeout'],
  ];
  it.each(cases)('%s %j: exit 2, one JSON error naming the option, nothing written', async (command, args, option) => {
    const r = await cli([command, file, ...args, '--json']);
    expectOneLineError(r, 2, new RegExp(`option '${option} <\\w+>' argument '${args[1]}' is invalid. expected a whole number`));
    expect(jsonError(r).field).toBe(option);
    expect(existsSync(out)).toBe(false);
  });

  it('sweep --workers 0: exit 2 before reading the sweep file', async () => {
    expectOneLineError(await cli(['sweep', join(dir, 'missing-sweep.json'), '--workers', '0']), 2, /--workers/);
  });

  it('--images beyond the test set is refused, not silently clamped', async () => {
    const small = writeConfig(dir, 'few-images', { dataset: { testLimit: 5 } });
    writeIrFor(small);
    const r = await cli(['verify', small, '--images', '6', '--json']);
    expectOneLineError(r, 2, /--images 6: the test set has only 5 images/);
    expect(existsSync(join(dir, 'out', 'few-images', 'firmware'))).toBe(false);
  });
});

describe('config files: one line with file, line and column', () => {
  const base = join(process.cwd(), 'configs', 'default.json');
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };

  it('a directory given as the config or as extends (EISDIR)', async () => {
    mkdirSync(join(dir, 'a-directory'), { recursive: true });
    expectOneLineError(await cli(['profile', join(dir, 'a-directory')]), 2, /a-directory: is a directory; expected a config file/);
    const child = write('extends-dir.json', JSON.stringify({ extends: './a-directory' }));
    expectOneLineError(await cli(['profile', child]), 2, /extends-dir\.json: \/extends: a-directory is a directory/);
  });

  it('a UTF-8 byte-order mark', async () => {
    const file = write('bom.json', `\ufeff${JSON.stringify({ extends: base })}`);
    expectOneLineError(await cli(['profile', file]), 2, /bom\.json: line 1, column 1: .*byte-order mark \(BOM\)/);
  });

  it('comments', async () => {
    const file = write('comments.json', `{\n  "extends": ${JSON.stringify(base)},\n  "training": { "epochs": 3 } /* fewer */\n}`);
    expectOneLineError(await cli(['profile', file]), 2, /comments\.json: line 3, column 31: comments are not allowed in JSON/);
  });

  it('a syntax error gives its line and column', async () => {
    const file = write('syntax.json', `{\n  "extends": ${JSON.stringify(base)},\n  "training": { "epochs": }\n}`);
    expectOneLineError(await cli(['profile', file]), 2, /syntax\.json: not valid JSON at line 3, column 27: unexpected "}/);
  });

  it('epochs: 1e400 is "too large", not "found null"', async () => {
    const file = write('huge.json', `{ "extends": ${JSON.stringify(base)}, "training": { "epochs": 1e400 } }`);
    const r = await cli(['verify', file, '--json']);
    expectOneLineError(r, 2, /huge\.json: \/training\/epochs: number too large/);
    expect(r.stderr).not.toMatch(/null/);
    expect(jsonError(r)).toMatchObject({ field: '/training/epochs', file: file });
  });

  it('an invalid field is located in the JSON error', async () => {
    const file = writeConfig(dir, 'bad-board', { target: { board: 'esp32' } });
    const r = await cli(['verify', file, '--json']);
    expect(r.code).toBe(2);
    expect(jsonError(r)).toMatchObject({ file, field: '/target/board' });
  });
});

describe('output directory and disk errors: one line, not a crash in the error handler', () => {
  it('an output directory that is a file (exit 2)', async () => {
    writeFileSync(join(dir, 'plain-file'), 'x');
    const file = writeConfig(dir, 'out-is-file', { output: { dir: join(dir, 'plain-file', 'sub') } });
    const r = await cli(['verify', file, '--json']);
    expectOneLineError(r, 2, /plain-file\/sub: a part of this path is a file, not a directory \(ENOTDIR/);
    expect(jsonError(r).file).toBe(join(dir, 'plain-file', 'sub'));
  });

  /** A small tmpfs, when this process may mount one (root); the test is skipped otherwise. */
  function mount(name: string, options: string): string | null {
    const at = join(dir, name);
    mkdirSync(at, { recursive: true });
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', at], { stdio: 'ignore' });
    } catch {
      console.warn(`skipped: cannot mount a tmpfs at ${at} (needs root)`);
      return null;
    }
    mounts.push(at);
    return at;
  }

  it('a full disk (ENOSPC, exit 3)', async () => {
    const at = mount('full', 'size=64k');
    if (!at) return;
    const file = writeConfig(dir, 'on-full-disk', { output: { dir: join(at, 'out') } });
    mkdirSync(join(at, 'out'));
    // Fill the file system: dd stops with "No space left on device".
    try { execFileSync('dd', ['if=/dev/zero', `of=${join(at, 'filler')}`, 'bs=4k'], { stdio: 'ignore' }); } catch { /* full */ }
    const r = await cli(['verify', file, '--json']);
    expectOneLineError(r, 3, /full\/out\/\S+: no space left on the device \(ENOSPC in write\)/);
    expect(jsonError(r).code).toBe(3);
  });

  it('a read-only file system (EROFS, exit 3)', async () => {
    const at = mount('read-only', 'size=64k,ro');
    if (!at) return;
    const file = writeConfig(dir, 'on-read-only', { output: { dir: join(at, 'out') } });
    const r = await cli(['verify', file]);
    expectOneLineError(r, 3, /read-only\/out: read-only file system \(EROFS in mkdir\)/);
  });
});

describe('fail before the expensive part', () => {
  it('run without the toolchain stops before training (exit 3, naming the package)', async () => {
    const file = writeConfig(dir, 'no-tools', { dataset: { trainLimit: 100, testLimit: 10 }, training: { epochs: 1 } });
    const r = await cli(['run', file, '--json'], { ...process.env, PATH: '/nonexistent' });
    expectOneLineError(r, 3, /arm-none-eabi-gcc was not found.*apt-get install gcc-arm-none-eabi/);
    expect(r.stderr).not.toMatch(/\[1\/5\] train/);
    expect(existsSync(join(dir, 'out', 'no-tools', 'model'))).toBe(false);
    expect(jsonError(r).code).toBe(3);
  });

  it('run with a model that cannot fit the board stops before training (exit 2)', async () => {
    const file = writeConfig(dir, 'too-big', { model: { architecture: 'keras-cnn' }, target: { board: 'microbit' } });
    const r = await cli(['run', file]);
    expectOneLineError(r, 2, /too-big\.json: model keras-cnn cannot fit board microbit .*weights alone take 1200584 bytes of flash, and the board has 262144/);
    expect(r.stderr).not.toMatch(/\[1\/5\] train/);
    expect(existsSync(join(dir, 'out', 'too-big', 'model'))).toBe(false);
  });

  it('flash without a probe: one line from OpenOCD, exit 3, no execa stack', async () => {
    // An openocd that fails the way the real one does when no probe is connected.
    const bin = join(dir, 'fake-bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'openocd'), '#!/bin/sh\necho "Open On-Chip Debugger 0.12.0" >&2\necho "Error: unable to find a matching CMSIS-DAP device" >&2\nexit 1\n');
    chmodSync(join(bin, 'openocd'), 0o755);
    const file = writeConfig(dir, 'flash', { target: { board: 'microbit' } });
    writeIrFor(file);
    const r = await cli(['flash', file], { ...process.env, PATH: `${bin}:${process.env.PATH}` });
    expectOneLineError(r, 3, /openocd could not flash board microbit \(exit status 1\): Error: unable to find a matching CMSIS-DAP device/);
  }, 180_000);
});

describe('nothing to train on or to verify is refused', () => {
  it('training on zero images (everything held out for validation)', async () => {
    const file = writeConfig(dir, 'no-train', { dataset: { trainLimit: 1, testLimit: 10 }, training: { validationSplit: 0.5 } });
    const r = await cli(['train', file]);
    expectOneLineError(r, 2, /no-train\.json: no images left to train on: 1 training image\(s\), all taken by training\.validationSplit 0\.5/);
  });

  it('an empty test set (an IDX file of 0 images) is never a pass', async () => {
    const data = join(dir, 'empty-idx');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'train-images-idx3-ubyte'), encodeIdx([2, 28, 28], new Uint8Array(2 * 784)));
    writeFileSync(join(data, 'train-labels-idx1-ubyte'), encodeIdx([2], new Uint8Array(2)));
    writeFileSync(join(data, 't10k-images-idx3-ubyte'), encodeIdx([0, 28, 28], new Uint8Array(0)));
    writeFileSync(join(data, 't10k-labels-idx1-ubyte'), encodeIdx([0], new Uint8Array(0)));
    const file = writeConfig(dir, 'empty-test', { dataset: { dir: data } });
    writeIrFor(file);
    const r = await cli(['verify', file, '--json']);
    expectOneLineError(r, 2, /t10k-images-idx3-ubyte: holds 0 images; a test set needs at least one/);
    expect(jsonError(r).file).toBe(join(data, 't10k-images-idx3-ubyte'));
  });
});

describe('artifacts must belong to the config they are used with', () => {
  it('an IR made from another config is refused by verify, build, generate and evaluate, naming its config and what to run', async () => {
    const old = writeConfig(dir, 'edited', {});
    writeIrFor(old);
    // The config is edited after the IR was made: another width.
    const edited = writeConfig(dir, 'edited', { model: { widthMultiplier: 2 } });
    for (const command of ['verify', 'build', 'generate', 'evaluate']) {
      const r = await cli([command, edited, '--json'].filter((a) => a !== '--json' || command === 'verify' || command === 'evaluate'));
      expectOneLineError(r, 2, /model\.ir\.json is stale: it was made from config 'edited' \(.*hash [0-9a-f]{16}\), but .*edited\.json now hashes to [0-9a-f]{16}\. Rebuild it with `tinyforge run /);
    }
    expect(existsSync(join(dir, 'out', 'edited', 'c'))).toBe(false);
  });

  it('a trained model from other settings is refused by quantize', async () => {
    const file = writeConfig(dir, 'retrained', {});
    const paths = runPaths(loadConfig(file).output.dir);
    mkdirSync(paths.modelDir, { recursive: true });
    writeFileSync(paths.trainMetrics, JSON.stringify({ config: 'somewhere-else', trainingHash: '0123456789abcdef' }));
    const r = await cli(['quantize', file]);
    expectOneLineError(r, 2, /metrics\.json: the trained model is stale: it was trained for config 'somewhere-else' \(training hash 0123456789abcdef\)/);
  });
});
