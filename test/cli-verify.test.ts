// Every row of the exit-code table through a real `tinyforge verify` in QEMU (docs/exit-codes.md),
// --json answering one object in each case, and the stale-IR finding reproduced with a real kill -9
// of `run`. The model is a small random IR saved as `quantize` would (no training).
import { existsSync, readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { irHash, loadConfig } from '../src/config/load.js';
import { loadIr, saveIr } from '../src/ir/io.js';
import { runPaths } from '../src/paths.js';
import { layerResources } from '../src/profile/resources.js';
import { runCli, writeConfig, type CliResult } from './helpers/cli.js';
import { randomIr } from './helpers/random-ir.js';

const dir = mkdtempSync(join(tmpdir(), 'tinyforge-verify-'));
/** A random model is as accurate as chance: only the flash and RAM budgets apply. */
const budgets = { minAccuracy: null };
const cli = (args: string[], onStderr?: Parameters<typeof runCli>[1]['onStderr']) => runCli(args, { cwd: dir, onStderr });

function writeIrFor(configFile: string): string {
  const config = loadConfig(configFile);
  const ir = randomIr(11, { architecture: 'mnist-cnn' });
  ir.metadata = { ...ir.metadata, configName: config.name, irHash: irHash(config) };
  const path = runPaths(config.output.dir).ir;
  saveIr(path, ir);
  return path;
}

/** stdout holds exactly one JSON object. */
function answer(r: CliResult) {
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]);
}

describe('tinyforge verify: one exit status per outcome, one JSON object each time', () => {
  const file = writeConfig(dir, 'rows', { dataset: { testLimit: 20 }, budgets });
  const irPath = writeIrFor(file);

  it('0: bit-exact, no budget exceeded; figures from the IR that was measured, not from the config', async () => {
    const r = await cli(['verify', file, '--images', '6', '--json']);
    expect(r.code).toBe(0);
    const report = answer(r);
    expect(report).toMatchObject({ ok: true, images: 6, mismatches: 0 });
    expect(report.error).toBeUndefined();
    // The config says tiny-cnn (510,912 MACs); the IR verified is another model.
    const irMacs = layerResources(loadIr(irPath)).reduce((a, l) => a + l.macs, 0);
    expect(report.macs).toBe(irMacs);
    expect(report.macs).not.toBe(510_912);
  }, 300_000);

  it('1: a budget exceeded', async () => {
    const tight = writeConfig(dir, 'rows-budget', { dataset: { testLimit: 20 }, budgets: { ...budgets, flashBytes: 1000 } });
    writeIrFor(tight);
    const r = await cli(['verify', tight, '--images', '4', '--json']);
    expect(r.code).toBe(1);
    const report = answer(r);
    expect(report.ok).toBe(false);
    expect(report.budgets.find((b: { name: string }) => b.name === 'flashBytes')).toMatchObject({ limit: 1000, ok: false });
    expect(r.stderr).toMatch(/budget exceeded: flashBytes/);
  }, 300_000);

  it('3: a firmware that does not finish within --timeout is killed and reported as such', async () => {
    const r = await cli(['verify', file, '--images', '4', '--timeout', '1', '--json']);
    expect(r.code).toBe(3);
    expect(answer(r)).toMatchObject({ ok: false, error: { code: 3, message: expect.stringMatching(/hung on board .*no exit within 1 ms, so QEMU was killed/) } });
  }, 300_000);

  it('130: Ctrl-C during the build', async () => {
    let sent = false;
    const r = await cli(['verify', file, '--images', '4', '--json'], (stderr, child) => {
      // The C library is written; the compiler runs next.
      if (!sent && /wrote \d+ files to/.test(stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    expect(answer(r)).toMatchObject({ ok: false, error: { code: 130, message: 'interrupted' } });
  }, 300_000);
});

describe('a config edited after a run, and a run killed during training', () => {
  it('leaves the old IR behind; verify refuses it instead of passing on it', async () => {
    // A finished run of the first version of the config left its IR.
    const file = writeConfig(dir, 'edited', { dataset: { trainLimit: 600, testLimit: 20 }, training: { epochs: 1 }, budgets });
    const irPath = writeIrFor(file);
    expect((await cli(['verify', file, '--images', '4', '--json'])).code).toBe(0);

    // The config is edited (another model width), and the new run is killed -9 while it trains.
    writeConfig(dir, 'edited', { dataset: { trainLimit: 600, testLimit: 20 }, training: { epochs: 1 }, model: { widthMultiplier: 0.5 }, budgets });
    let killed = false;
    const run = await cli(['run', file], (stderr, child) => {
      if (!killed && /\[1\/5\] train/.test(stderr)) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    expect(run.signal).toBe('SIGKILL');
    expect(existsSync(irPath)).toBe(true);
    expect(JSON.parse(readFileSync(irPath, 'utf8')).metadata.irHash).not.toBe(irHash(loadConfig(file)));

    const r = await cli(['verify', file, '--images', '4', '--json']);
    expect(r.code).toBe(2);
    expect(answer(r)).toMatchObject({
      ok: false,
      error: { code: 2, file: irPath, field: '/metadata/irHash', message: expect.stringMatching(/is stale: it was made from config 'edited' .*Rebuild it with `tinyforge run /) },
    });
  }, 300_000);
});
