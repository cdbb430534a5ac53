// A sweep whose points name .tflite files: each runs the real `tinyforge run` (import, generate,
// build, verify in QEMU) and ends with summary.json like a zoo point, so the sweep's results,
// CSV and report cover it. One point is tinyforge's default model exported as a .tflite and
// verified on MNIST (labels: accuracy, ranked); the other a conformance model chosen by a grid
// over model.file, verified against TensorFlow Lite Micro's golden outputs (no labels: no
// accuracy, never ranked on it).
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportTflite } from '../src/export/export.js';
import { loadIr } from '../src/ir/io.js';
import { runSweep } from '../src/experiments/runner.js';
import type { RunSummary } from '../src/pipeline/summary.js';
import { setLogLevel } from '../src/util/log.js';
import { conformanceRoot } from './helpers/tflite-spec.js';

setLogLevel('silent');
const tsxCommand = [process.execPath, '--import', 'tsx', resolve('src/cli.ts'), 'run', '--quiet'];
const committed = 'results/lightweight-vs-baselines/points/default/run/model.ir.json';

describe.skipIf(!existsSync(conformanceRoot))('a sweep over model files', () => {
  it('runs each .tflite point end to end and reports it like a zoo point', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tinyforge-sweep-tflite-'));
    mkdirSync(join(dir, 'models'));
    mkdirSync(join(dir, 'configs'));
    writeFileSync(join(dir, 'models', 'default.tflite'), exportTflite(loadIr(committed), committed).bytes);
    copyFileSync(join(conformanceRoot, 'ops', 'conv_1x1_s2', 'model.tflite'), join(dir, 'models', 'conv_1x1_s2.tflite'));
    for (const file of ['inputs.bin', 'outputs.bin']) copyFileSync(join(conformanceRoot, 'ops', 'conv_1x1_s2', file), join(dir, 'models', `conv_1x1_s2.${file}`));
    writeFileSync(join(dir, 'configs', 'exported.json'), JSON.stringify({
      model: { file: '../models/default.tflite', verifyOn: 'dataset' },
      dataset: { name: 'mnist', testLimit: 100 },
      budgets: { minAccuracy: 0.9 },
    }));
    const sweepFile = join(dir, 'sweep.json');
    writeFileSync(sweepFile, JSON.stringify({
      name: 'tflite',
      configs: ['configs/exported.json'],
      base: 'configs/golden.json',
      // Relative to the sweep file, like every path in it.
      grid: { 'model.file': ['models/conv_1x1_s2.tflite'] },
      fixed: {},
    }));
    // The golden point's inputs and outputs come from its base config, relative to that config.
    writeFileSync(join(dir, 'configs', 'golden.json'), JSON.stringify({
      model: { inputs: '../models/conv_1x1_s2.inputs.bin', outputs: '../models/conv_1x1_s2.outputs.bin' },
      budgets: { minAccuracy: null },
    }));

    const outcome = await runSweep(sweepFile, { resultsRoot: join(dir, 'results'), command: tsxCommand, workers: 1 });
    expect(outcome.failures, JSON.stringify(outcome.failures, null, 2)).toEqual([]);
    expect(outcome.points.map((p) => [p.name, p.status])).toEqual([['exported', 'done'], ['golden_conv_1x1_s2', 'done']]);

    const summary = (point: string): RunSummary => JSON.parse(readFileSync(join(outcome.dir, 'points', point, 'run', 'summary.json'), 'utf8'));
    const exported = summary('exported');
    expect(exported).toMatchObject({ source: 'tflite', architecture: 'tflite:default', dataset: 'mnist', passed: true, mismatches: 0, testImages: 100, floatAccuracy: null });
    expect(exported.onTargetAccuracy).toBeGreaterThan(0.9);
    expect(exported.int8Accuracy).toBe(exported.onTargetAccuracy);
    expect(exported.flashBytes).toBeGreaterThan(exported.weightsBytes);
    expect(exported.instructionsPerInference).toBeGreaterThan(0);
    expect(exported.budgets.map((b) => b.name)).toContain('minAccuracy');
    const golden = summary('golden_conv_1x1_s2');
    expect(golden).toMatchObject({ source: 'tflite', dataset: 'none', passed: true, mismatches: 0, testImages: 64, onTargetAccuracy: null, int8Accuracy: null });
    expect(golden.modelFile!.file).toMatch(/models\/conv_1x1_s2\.tflite$/);

    // The report: both in the results, only the labelled one ranked.
    const csv = readFileSync(join(outcome.dir, 'results.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(3);
    expect(csv.find((l) => l.startsWith('golden_conv_1x1_s2,'))).toMatch(/tflite:conv_1x1_s2/);
    const ranking = readFileSync(join(outcome.dir, 'ranking.md'), 'utf8');
    expect(ranking).toMatch(/\| exported \|/);
    expect(ranking).not.toMatch(/golden_conv_1x1_s2/);

    // Finished points are skipped by a rerun: their summaries' config hashes still match.
    const again = await runSweep(sweepFile, { resultsRoot: join(dir, 'results'), command: tsxCommand, workers: 1 });
    expect(again.points.map((p) => p.status)).toEqual(['skipped', 'skipped']);
  }, 600_000);
});
