// The whole pipeline through the CLI on a small model: train on a subset, quantize, generate C,
// build firmware, verify in QEMU; then the documented failures: an exceeded budget and a missing
// toolchain.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve('.');
const tsxCli = join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'cli.mjs');
const dir = mkdtempSync(join(tmpdir(), 'tinyforge-e2e-'));

function cli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [tsxCli, join(root, 'src', 'cli.ts'), ...args], { cwd: dir, env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

function config(name: string, extra: object): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify({
    extends: join(root, 'configs', 'default.json'),
    dataset: { trainLimit: 1500, testLimit: 200 },
    training: { epochs: 1, batchSize: 32 },
    quantization: { calibration: { samples: 100 } },
    output: { dir: join(dir, 'out', name) },
    ...extra,
  }));
  return path;
}

describe('tinyforge run, end to end on a small model', () => {
  it('trains, quantizes, generates, builds and verifies bit-exact in QEMU; an exceeded budget fails the run', async () => {
    const file = config('small', { budgets: { flashBytes: 4096, ramBytes: null, minAccuracy: 0.3 } });
    const { code, stdout, stderr } = await cli(['run', file, '--json']);
    const report = JSON.parse(stdout);
    // Every logit of every image equals the TypeScript int8 reference.
    expect(report.images).toBe(200);
    expect(report.mismatches).toBe(0);
    expect(report.accuracy).toBe(report.referenceAccuracy);
    expect(report.accuracy).toBeGreaterThan(0.3);
    expect(report.instructionsPerInference).toBeGreaterThan(report.macs);
    expect(report.arenaBytes).toBe(report.arenaLowerBoundBytes);
    for (const key of ['board', 'floatAccuracy', 'flashBytes', 'ramBytes', 'weightsBytes', 'codeBytes']) expect(report).toHaveProperty(key);
    // 4 KB of flash cannot hold 9.5 KB of weights: the budget fails, the run exits non-zero and says why.
    const flash = report.budgets.find((b: { name: string }) => b.name === 'flashBytes');
    expect(flash).toMatchObject({ limit: 4096, ok: false });
    expect(report.budgets.find((b: { name: string }) => b.name === 'minAccuracy').ok).toBe(true);
    expect(code).toBe(1);
    expect(stderr).toMatch(/budget exceeded: flashBytes: \d+ \(at most 4096\) EXCEEDED/);
    // Every stage left its artifact (the library's prefix is the config's name).
    const out = join(dir, 'out', 'small');
    for (const f of ['metrics.json', 'model.ir.json', 'evaluation.json', 'c/small.h', 'firmware/firmware.hex', 'verify.json', 'summary.json', 'run.log']) {
      expect(existsSync(join(out, f))).toBe(true);
    }
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.onTargetAccuracy).toBe(report.accuracy);
    expect(summary.passed).toBe(false); // written for diagnosis, but a sweep never counts it as a result
  }, 600_000);

  it('verify with a missing toolchain names the Debian package (exit 3: the environment)', async () => {
    const file = config('small', {});
    // PATH without arm-none-eabi-gcc (node itself is called by absolute path).
    const { code, stderr } = await cli(['verify', file], { ...process.env, PATH: '/nonexistent' });
    expect(code).toBe(3);
    expect(stderr).toMatch(/arm-none-eabi-gcc.*apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi/s);
  }, 120_000);

  it('a bad config is rejected before anything runs, naming the file and field', async () => {
    const file = config('bad', { target: { board: 'esp32' } });
    const { code, stderr } = await cli(['run', file]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/bad\.json: invalid config\n\s+\/target\/board: expected one of .*found string "esp32"/);
    expect(existsSync(join(dir, 'out', 'bad', 'model'))).toBe(false);
  }, 120_000);
});
