// `run --reuse-ir`: a committed sweep point (IR, training record, evaluation; no trained model) is
// re-measured without training, and nothing stale is ever taken.
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { runPaths } from '../src/paths.js';
import { keptModel } from '../src/pipeline/kept-model.js';
import { setLogLevel } from '../src/util/log.js';
import { runCli } from './helpers/cli.js';

setLogLevel('silent');
const point = resolve('results/lightweight-vs-baselines/points/nano');

/** The committed nano point's config and run records, copied into a scratch folder. */
function copyPoint(overrides: object = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tinyforge-reuse-'));
  const original = JSON.parse(readFileSync(join(point, 'nano.json'), 'utf8'));
  const file = join(dir, 'nano.json');
  const out = join(dir, 'run');
  writeFileSync(file, JSON.stringify({ ...original, ...overrides, extends: resolve('configs/nano.json'), output: { dir: out } }));
  for (const name of ['model.ir.json', 'metrics.json', 'evaluation.json', 'history.json']) cpSync(join(point, 'run', name), join(out, name));
  return { dir, file, out };
}

describe('run --reuse-ir', () => {
  it.skipIf(!existsSync(point))('verifies the earlier IR on target without training', async () => {
    const { dir, file, out } = copyPoint();
    const r = await runCli(['run', file, '--reuse-ir', '--images', '25', '--quiet'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(out, 'model'))).toBe(false);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    const committed = JSON.parse(readFileSync(join(point, 'run', 'evaluation.json'), 'utf8'));
    expect(summary).toMatchObject({ reusedIr: true, passed: true, mismatches: 0, testImages: 25, floatAccuracy: committed.floatAccuracy, backend: 'wasm' });
    expect(summary.epochsRun).toBe(10);
  });

  it.skipIf(!existsSync(point))('takes nothing that does not match the config', () => {
    const fresh = copyPoint();
    expect(keptModel(loadConfig(fresh.file), runPaths(fresh.out))).not.toBeNull();
    // Another quantization: the IR is stale.
    const requantized = copyPoint({ quantization: { calibration: { samples: 500, method: 'minmax' } } });
    expect(keptModel(loadConfig(requantized.file), runPaths(requantized.out))).toBeNull();
    // A training record of other settings.
    const metricsPath = join(fresh.out, 'metrics.json');
    writeFileSync(metricsPath, JSON.stringify({ ...JSON.parse(readFileSync(metricsPath, 'utf8')), trainingHash: 'other' }));
    expect(keptModel(loadConfig(fresh.file), runPaths(fresh.out))).toBeNull();
    // A damaged evaluation.
    const bare = copyPoint();
    writeFileSync(join(bare.out, 'evaluation.json'), '{');
    expect(keptModel(loadConfig(bare.file), runPaths(bare.out))).toBeNull();
  });
});
