import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerExperimentCommands } from '../src/experiments/cli.js';
import { loadConfig } from '../src/config/load.js';
import { runSweep, type RunSweepOptions } from '../src/experiments/runner.js';
import { readManifest, type SweepManifest } from '../src/experiments/points.js';
import { sweepSchemaFileText } from '../src/experiments/sweep-schema-file.js';
import { readSweepFile } from '../src/experiments/sweep-file.js';
import type { PointFailure } from '../src/experiments/runner.js';
import type { RunSummary } from '../src/pipeline/summary.js';
import { codeVersion } from '../src/util/code-version.js';
import { UserError } from '../src/util/errors.js';
import { setLogLevel } from '../src/util/log.js';

setLogLevel('silent');
const fixtures = resolve('test/fixtures/sweep');
const fakePoint = join(fixtures, 'fake-point.ts');
const fake = (...options: string[]) => [process.execPath, '--import', 'tsx', fakePoint, ...options];

/** A scratch folder holding copies of the fixture configs, and a sweep file written into it. */
function workspace(sweep: object, file = 'sweep.json') {
  const dir = mkdtempSync(join(tmpdir(), 'tinyforge-sweep-'));
  cpSync(join(fixtures, 'configs'), join(dir, 'configs'), { recursive: true });
  const sweepFile = join(dir, file);
  writeFileSync(sweepFile, typeof sweep === 'string' ? sweep : JSON.stringify(sweep, null, 2));
  const root = join(dir, 'results');
  return { dir, sweepFile, root, calls: join(dir, 'calls.log') };
}

const standard = {
  name: 'demo',
  description: 'test sweep',
  configs: ['configs/keras.json', 'configs/lenet5.json'],
  base: 'configs/tiny-cnn.json',
  grid: { 'model.widthMultiplier': [0.5, 1] },
  fixed: { training: { seed: 7 } },
};

function calledPoints(calls: string): string[] {
  return existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n').filter(Boolean).map((l) => l.split(' ')[0]) : [];
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' });
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return (err as Error).message;
  }
  throw new Error('accepted');
}

describe('sweep schema', () => {
  it('schema/sweep.schema.json equals the schema the runner validates with', () => {
    expect(readFileSync('schema/sweep.schema.json', 'utf8')).toBe(sweepSchemaFileText());
  });
});

describe('sweep expansion', () => {
  it('takes the configs, then the cartesian product of the grid over the base, with fixed winning', async () => {
    const ws = workspace({
      name: 'expand',
      configs: ['configs/keras.json'],
      base: 'configs/tiny-cnn.json',
      grid: { 'model.widthMultiplier': [0.5, 1, 2], 'training.augmentation.enabled': [false, true] },
      // tiny-cnn.json says 3 epochs and keras.json 2: fixed must win over both, and over the defaults.
      fixed: { training: { epochs: 1, seed: 7 }, dataset: { testLimit: 100 } },
    });
    const outcome = await runSweep(ws.sweepFile, { resultsRoot: ws.root, dryRun: true });
    expect(outcome.points.map((p) => p.name)).toEqual([
      'keras',
      'tiny-cnn_w0.5_aug-off',
      'tiny-cnn_w0.5_aug-on',
      'tiny-cnn_w1_aug-off',
      'tiny-cnn_w1_aug-on',
      'tiny-cnn_w2_aug-off',
      'tiny-cnn_w2_aug-on',
    ]);
    expect(outcome.points.every((p) => p.status === 'planned')).toBe(true);
    const configOf = (point: string) => loadConfig(join(outcome.dir, 'points', point, `${point}.json`));
    for (const { name } of outcome.points) {
      const config = configOf(name);
      expect(config.training.epochs).toBe(1);
      expect(config.training.seed).toBe(7);
      expect(config.dataset.testLimit).toBe(100);
      expect(config.output.dir).toBe(join(outcome.dir, 'points', name, 'run'));
    }
    expect(configOf('keras').model.architecture).toBe('keras-cnn');
    expect(configOf('tiny-cnn_w2_aug-on').model.widthMultiplier).toBe(2);
    expect(configOf('tiny-cnn_w2_aug-on').training.augmentation.enabled).toBe(true);
    expect(configOf('tiny-cnn_w0.5_aug-off').training.augmentation.enabled).toBe(false);
    // A dry run prepares the points but runs and writes no results.
    const manifest = readManifest(outcome.dir);
    expect(manifest.grid.map((g) => g.field)).toEqual(['model.widthMultiplier', 'training.augmentation.enabled']);
    expect(manifest.points[3].grid).toEqual({ 'model.widthMultiplier': 1, 'training.augmentation.enabled': false });
    expect(existsSync(join(outcome.dir, 'results.csv'))).toBe(false);
    expect(existsSync(join(outcome.dir, 'failures.json'))).toBe(false);
  });

  it('applies a grid without a base to the defaults and names other fields by their last segment', async () => {
    const ws = workspace({ name: 'nobase', grid: { 'model.architecture': ['mlp', 'lenet5'], 'model.dropout': [0.25] } });
    const outcome = await runSweep(ws.sweepFile, { resultsRoot: ws.root, dryRun: true });
    expect(outcome.points.map((p) => p.name)).toEqual(['defaults_mlp_dropout0.25', 'defaults_lenet5_dropout0.25']);
    const config = loadConfig(join(outcome.dir, 'points', 'defaults_lenet5_dropout0.25', 'defaults_lenet5_dropout0.25.json'));
    expect(config.model.architecture).toBe('lenet5');
    expect(config.model.dropout).toBe(0.25);
    expect(config.training.epochs).toBe(10);
  });
});

describe('the example in docs/experiments.md', () => {
  it('is a valid sweep with the points the doc lists', async () => {
    const doc = readFileSync('docs/experiments.md', 'utf8');
    const example = doc.match(/Example \(`sweeps\/mnist-widths\.json`\):\s*```json\n([\s\S]*?)```/)![1];
    const dir = mkdtempSync(join(tmpdir(), 'tinyforge-doc-'));
    cpSync('configs', join(dir, 'configs'), { recursive: true });
    mkdirSync(join(dir, 'sweeps'));
    writeFileSync(join(dir, 'sweeps', 'mnist-widths.json'), example);
    const outcome = await runSweep(join(dir, 'sweeps', 'mnist-widths.json'), { resultsRoot: join(dir, 'results'), dryRun: true });
    const names = outcome.points.map((p) => p.name);
    expect(names).toHaveLength(9);
    expect(names.slice(0, 5)).toEqual(['lenet5', 'baseline-keras', 'nano', 'default_w0.5_aug-off', 'default_w0.5_aug-on']);
    expect(names.at(-1)).toBe('default_w2_aug-on');
    const keras = loadConfig(join(outcome.dir, 'points', 'baseline-keras', 'baseline-keras.json'));
    expect(keras.training.epochs).toBe(10); // fixed beats the config's own 6
    expect(keras.model.architecture).toBe('keras-cnn');
  });
});

describe('sweep file errors name the file, the JSON path, what was expected and what was found', () => {
  const cases: [string, unknown, RegExp][] = [
    ['unknown key', { ...standard, grdi: {} }, /\/grdi: unknown key \(did you mean "grid"\?\)/],
    ['grid path typo', { ...standard, grid: { 'model.widthMultipler': [1] } },
      /\/grid\/model\.widthMultipler: "model\.widthMultipler" is not a config field: "model" has no "widthMultipler" \(did you mean "widthMultiplier"\?\)/],
    ['grid section typo', { ...standard, grid: { 'modle.widthMultiplier': [1] } }, /the config has no "modle" \(did you mean "model"\?\)/],
    ['grid path too deep', { ...standard, grid: { 'model.dropout.rate': [1] } }, /"model\.dropout" has no fields/],
    ['grid output dir', { ...standard, grid: { 'output.dir': ['x'] } }, /\/grid\/output\.dir: "output\.dir" is not a config field/],
    ['grid value type', { ...standard, grid: { 'model.widthMultiplier': [0.5, 'wide'] } },
      /\/grid\/model\.widthMultiplier\/1: expected number, found string "wide"/],
    ['grid value enum', { ...standard, grid: { 'model.architecture': ['resnet50'] } },
      /\/grid\/model\.architecture\/0: expected one of "tiny-cnn".*found string "resnet50"/],
    ['grid value range', { ...standard, grid: { 'quantization.calibration.samples': [0] } },
      /\/grid\/quantization\.calibration\.samples\/0: expected a number >= 1, found number 0/],
    ['empty value list', { ...standard, grid: { 'model.widthMultiplier': [] } }, /\/grid\/model\.widthMultiplier: expected at least 1 item/],
    ['fixed typo', { ...standard, fixed: { training: { epocs: 3 } } }, /\/fixed\/training\/epocs: unknown key \(did you mean "epochs"\?\)/],
    ['fixed value', { ...standard, fixed: { training: { epochs: 'ten' } } }, /\/fixed\/training\/epochs: expected integer, found string "ten"/],
    ['fixed cancels grid', { ...standard, fixed: { model: { widthMultiplier: 1 } } }, /\/fixed: sets "model\.widthMultiplier", which the grid sweeps/],
    ['fixed output', { ...standard, fixed: { output: { dir: 'x' } } }, /\/fixed\/output: not allowed/],
    ['missing config', { ...standard, configs: ['configs/nope.json'] }, /\/configs\/0: expected an existing config file, found "configs\/nope\.json"/],
    ['no points', { name: 'x' }, /expected "configs" or "grid"/],
    ['no name', { configs: ['configs/keras.json'] }, /\/: missing required key "name"/],
    ['bad name', { ...standard, name: '../escape' }, /\/name: expected a string matching/],
    ['base without grid', { name: 'x', base: 'configs/keras.json', configs: ['configs/keras.json'] }, /\/base: only used with "grid"/],
    ['not an object', [1], /\/: expected an object, found an array/],
  ];
  for (const [title, sweep, pattern] of cases) {
    it(title, () => {
      const ws = workspace(sweep as object, 'bad-sweep.json');
      const message = errorOf(() => readSweepFile(ws.sweepFile));
      expect(message).toContain('bad-sweep.json');
      expect(message).toMatch(pattern);
    });
  }

  it('not JSON', () => {
    const ws = workspace('{"name": "x",}' as unknown as object, 'bad-sweep.json');
    expect(errorOf(() => readSweepFile(ws.sweepFile))).toMatch(/bad-sweep\.json: not valid JSON/);
  });

  it('a bad grid path stops the sweep before anything is written or run', async () => {
    const ws = workspace({ ...standard, grid: { 'model.widthMultipler': [1] } });
    await expect(runSweep(ws.sweepFile, { resultsRoot: ws.root, command: fake('--calls', ws.calls) })).rejects.toThrow(/widthMultipler/);
    expect(existsSync(ws.root)).toBe(false);
    expect(existsSync(ws.calls)).toBe(false);
  });

  it('two points with the same name', async () => {
    const ws = workspace({ name: 'dup', configs: ['configs/keras.json', 'other/keras.json'] });
    cpSync(join(ws.dir, 'configs'), join(ws.dir, 'other'), { recursive: true });
    await expect(runSweep(ws.sweepFile, { resultsRoot: ws.root, dryRun: true })).rejects.toThrow(
      /sweep\.json: two points would both be named "keras" \(.*configs\/keras\.json and .*other\/keras\.json\)/,
    );
  });

  it('--only with an unknown point name', async () => {
    const ws = workspace(standard);
    await expect(runSweep(ws.sweepFile, { resultsRoot: ws.root, dryRun: true, only: ['keras', 'kerass'] })).rejects.toThrow(
      /--only: no point named "kerass"; the points are: keras, lenet5, tiny-cnn_w0.5, tiny-cnn_w1/,
    );
  });
});

function summaryOf(dir: string, point: string): RunSummary {
  return JSON.parse(readFileSync(join(dir, 'points', point, 'run', 'summary.json'), 'utf8')) as RunSummary;
}

function csvRows(dir: string): string[][] {
  return readFileSync(join(dir, 'results.csv'), 'utf8').trim().split('\n').map((l) => l.split(','));
}

describe('running a sweep', () => {
  it('runs every point, then skips the finished ones and reruns only points whose config changed', async () => {
    const ws = workspace(standard);
    const options: RunSweepOptions = { resultsRoot: ws.root, workers: 2, command: fake('--calls', ws.calls) };
    const first = await runSweep(ws.sweepFile, options);
    expect(first.failures).toEqual([]);
    expect(first.points.every((p) => p.status === 'done')).toBe(true);
    expect(calledPoints(ws.calls).sort()).toEqual(['keras', 'lenet5', 'tiny-cnn_w0.5', 'tiny-cnn_w1']);
    const manifest: SweepManifest = readManifest(first.dir);
    for (const point of manifest.points) expect(summaryOf(first.dir, point.name).configHash).toBe(point.configHash);
    for (const file of ['results.csv', 'ranking.csv', 'ranking.md', 'ablations.md', 'summary.md', 'report.html', 'manifest.json', 'failures.json']) {
      expect(existsSync(join(first.dir, file)), file).toBe(true);
    }
    expect(readdirSync(join(first.dir, 'plots')).sort()).toEqual([
      'accuracy-vs-flash.svg', 'accuracy-vs-latency.svg', 'accuracy-vs-params.svg', 'training-curves.svg',
    ]);
    expect(csvRows(first.dir).map((r) => r[0])).toEqual(['point', 'keras', 'lenet5', 'tiny-cnn_w0.5', 'tiny-cnn_w1']);
    expect(readFileSync(join(first.dir, 'points', 'keras', 'worker.log'), 'utf8')).toContain('fake run of keras');

    const second = await runSweep(ws.sweepFile, options);
    expect(second.points.every((p) => p.status === 'skipped')).toBe(true);
    expect(calledPoints(ws.calls)).toHaveLength(4);

    // A summary from another config (stale hash) does not count as finished; nor do old grid values.
    const stale = join(first.dir, 'points', 'lenet5', 'run', 'summary.json');
    writeFileSync(stale, JSON.stringify({ ...summaryOf(first.dir, 'lenet5'), configHash: 'something-else' }));
    writeFileSync(ws.sweepFile, JSON.stringify({ ...standard, grid: { 'model.widthMultiplier': [0.5, 2] } }));
    const third = await runSweep(ws.sweepFile, options);
    expect(calledPoints(ws.calls).slice(4).sort()).toEqual(['lenet5', 'tiny-cnn_w2']);
    expect(third.points.map((p) => `${p.name}:${p.status}`)).toEqual([
      'keras:skipped', 'lenet5:done', 'tiny-cnn_w0.5:skipped', 'tiny-cnn_w2:done',
    ]);
    expect(csvRows(first.dir).map((r) => r[0])).toEqual(['point', 'keras', 'lenet5', 'tiny-cnn_w0.5', 'tiny-cnn_w2']);
  });

  it('reruns a point that passed with other code, unless told to accept older code', async () => {
    const ws = workspace(standard);
    const options: RunSweepOptions = { resultsRoot: ws.root, workers: 2, command: fake('--calls', ws.calls) };
    const first = await runSweep(ws.sweepFile, options);
    expect(summaryOf(first.dir, 'keras').code).toEqual(codeVersion());
    // keras passed with other kernels (another code hash); lenet5 before code versions were recorded.
    const other = { ...summaryOf(first.dir, 'keras'), code: { version: '0.0.9', commit: 'abc1234', codeHash: '0000000000000000' } };
    writeFileSync(join(first.dir, 'points', 'keras', 'run', 'summary.json'), JSON.stringify(other));
    const { code: _, ...old } = summaryOf(first.dir, 'lenet5');
    writeFileSync(join(first.dir, 'points', 'lenet5', 'run', 'summary.json'), JSON.stringify(old));
    const kept = await runSweep(ws.sweepFile, { ...options, acceptOlderCode: true });
    expect(kept.points.every((p) => p.status === 'skipped')).toBe(true);
    expect(calledPoints(ws.calls)).toHaveLength(4);
    // Rerun as re-measurements of the kept IRs (`run --reuse-ir`).
    const rerun = await runSweep(ws.sweepFile, { ...options, reuseIr: true });
    expect(rerun.points.map((p) => `${p.name}:${p.status}`)).toEqual(['keras:done', 'lenet5:done', 'tiny-cnn_w0.5:skipped', 'tiny-cnn_w1:skipped']);
    expect(calledPoints(ws.calls).slice(4).sort()).toEqual(['keras', 'lenet5']);
    expect(summaryOf(first.dir, 'keras').code?.codeHash).toBe(codeVersion().codeHash);
    expect(summaryOf(first.dir, 'keras').reusedIr).toBe(true);
    expect(summaryOf(first.dir, 'tiny-cnn_w1').reusedIr).toBeUndefined();
  });

  it('records a failing point in failures.json without stopping the others', async () => {
    const ws = workspace(standard);
    const outcome = await runSweep(ws.sweepFile, {
      resultsRoot: ws.root,
      workers: 2,
      command: fake('--crash', 'lenet5', '--calls', ws.calls),
    });
    expect(calledPoints(ws.calls).sort()).toEqual(['keras', 'lenet5', 'tiny-cnn_w0.5', 'tiny-cnn_w1']);
    expect(outcome.points.find((p) => p.name === 'lenet5')!.status).toBe('failed');
    const failures = JSON.parse(readFileSync(join(outcome.dir, 'failures.json'), 'utf8')) as PointFailure[];
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ point: 'lenet5', exitCode: 3, signal: null, reason: 'exited with code 3', log: join('points', 'lenet5', 'worker.log') });
    expect(failures[0].logTail).toContain('simulated failure: out of flash');
    expect(outcome.failures).toEqual(failures);
    expect(csvRows(outcome.dir).map((r) => r[0])).toEqual(['point', 'keras', 'tiny-cnn_w0.5', 'tiny-cnn_w1']);
    expect(readFileSync(join(outcome.dir, 'summary.md'), 'utf8')).toMatch(/\| lenet5 \| failed: exited with code 3 \|/);
  });

  it('a command that exits 0 without writing a summary counts as failed', async () => {
    const ws = workspace({ name: 'silent', configs: ['configs/keras.json'] });
    const outcome = await runSweep(ws.sweepFile, { resultsRoot: ws.root, command: [process.execPath, '-e', ''] });
    expect(outcome.failures.map((f) => f.reason)).toEqual([
      expect.stringMatching(/exited with code 0 but wrote no run\/summary\.json with configHash [0-9a-f]{16}/),
    ]);
  });

  it('a command that cannot start counts as failed, once per point', async () => {
    const ws = workspace({ name: 'nocommand', configs: ['configs/keras.json', 'configs/lenet5.json'] });
    const outcome = await runSweep(ws.sweepFile, { resultsRoot: ws.root, workers: 2, command: [join(ws.dir, 'no-such-program')] });
    expect(outcome.failures.map((f) => [f.point, f.reason])).toEqual([
      ['keras', expect.stringMatching(/^could not start: .*ENOENT/)],
      ['lenet5', expect.stringMatching(/^could not start: .*ENOENT/)],
    ]);
  });

  it('--only runs just the named points', async () => {
    const ws = workspace(standard);
    const outcome = await runSweep(ws.sweepFile, { resultsRoot: ws.root, command: fake('--calls', ws.calls), only: ['tiny-cnn_w1'] });
    expect(calledPoints(ws.calls)).toEqual(['tiny-cnn_w1']);
    expect(outcome.points.filter((p) => p.status === 'not selected').map((p) => p.name)).toEqual(['keras', 'lenet5', 'tiny-cnn_w0.5']);
  });
});

describe('a point whose run writes summary.json and fails its budget', () => {
  it('is failed, never ranked, retried by the next sweep and kept in failures.json until it passes', async () => {
    const ws = workspace({ name: 'budget', configs: ['configs/keras.json', 'configs/tiny-cnn.json'] });
    const failing = { resultsRoot: ws.root, workers: 2, command: fake('--fail-budget', 'tiny-cnn', '--calls', ws.calls) };
    const first = await runSweep(ws.sweepFile, failing);
    expect(summaryOf(first.dir, 'tiny-cnn').onTargetAccuracy).toBeCloseTo(0.13, 2); // the summary is there ...
    expect(first.points.map((p) => `${p.name}:${p.status}`)).toEqual(['keras:done', 'tiny-cnn:failed']);
    expect(first.failures.map((f) => [f.point, f.reason])).toEqual([
      ['tiny-cnn', expect.stringMatching(/^exited with code 1: budget minAccuracy failed/)],
    ]);
    // ... but it is no result: not in the tables, not the best lightweight model.
    const summaryMd = () => readFileSync(join(first.dir, 'summary.md'), 'utf8');
    expect(csvRows(first.dir).map((r) => r[0])).toEqual(['point', 'keras']);
    expect(summaryMd()).toContain('No lightweight model finished.');
    expect(summaryMd()).toMatch(/\| tiny-cnn \| failed: exited with code 1: budget minAccuracy failed/);
    expect(summaryMd()).toContain('2 point(s): 1 passed, 1 without results (1 failed)');

    // The rerun retries the failed point (and only it) and still reports it as failed.
    const second = await runSweep(ws.sweepFile, failing);
    expect(calledPoints(ws.calls).sort()).toEqual(['keras', 'tiny-cnn', 'tiny-cnn']);
    expect(second.points.map((p) => `${p.name}:${p.status}`)).toEqual(['keras:skipped', 'tiny-cnn:failed']);
    expect(JSON.parse(readFileSync(join(first.dir, 'failures.json'), 'utf8')).map((f: PointFailure) => f.point)).toEqual(['tiny-cnn']);

    // A sweep that does not run the failed point keeps its failure, so `tinyforge sweep` still exits 1
    // (it exits 1 exactly when outcome.failures is not empty).
    const other = await runSweep(ws.sweepFile, { ...failing, only: ['keras'] });
    expect(other.points.map((p) => `${p.name}:${p.status}`)).toEqual(['keras:skipped', 'tiny-cnn:failed']);
    expect(other.failures.map((f) => f.point)).toEqual(['tiny-cnn']);
    expect(calledPoints(ws.calls)).toHaveLength(3);

    // Once it passes, the failure is forgotten and the point is a result.
    const fixed = await runSweep(ws.sweepFile, { ...failing, command: fake('--calls', ws.calls) });
    expect(fixed.failures).toEqual([]);
    expect(JSON.parse(readFileSync(join(first.dir, 'failures.json'), 'utf8'))).toEqual([]);
    expect(csvRows(first.dir).map((r) => r[0])).toEqual(['point', 'keras', 'tiny-cnn']);
    expect(summaryMd()).toContain('Best lightweight model: tiny-cnn');
  });
});

describe('the sweep command', () => {
  it('parses --workers, --dry-run and --only and writes under ./results', async () => {
    const ws = workspace(standard);
    const program = new Command().exitOverride();
    registerExperimentCommands(program);
    const cwd = process.cwd();
    process.chdir(ws.dir);
    try {
      await program.parseAsync(['node', 'tinyforge', 'sweep', 'sweep.json', '--dry-run', '--workers', '2', '--only', 'keras, lenet5']);
      expect(readManifest(join(ws.dir, 'results', 'demo')).points).toHaveLength(4);
      await expect(program.parseAsync(['node', 'tinyforge', 'sweep', 'sweep.json', '--workers', '0'])).rejects.toThrow(
        /--workers <n>' argument '0' is invalid\. expected a whole number from 1 to 1024/,
      );
      await expect(program.parseAsync(['node', 'tinyforge', 'sweep', 'sweep.json', '--dry-run', '--only', 'nope'])).rejects.toThrow(
        /--only: no point named "nope"/,
      );
    } finally {
      process.chdir(cwd);
    }
  });
});

const hanging = ['tiny-cnn_w0.5', 'tiny-cnn_w1'];

/** The standard sweep in its own process (as the CLI runs it), its two grid points hanging. */
function startHangingSweep(ws: ReturnType<typeof workspace>) {
  const runner = spawn(
    process.execPath,
    ['--import', 'tsx', join(fixtures, 'run-sweep.ts'), ws.sweepFile, ws.root, '2', ...fake('--hang', hanging.join(','), '--calls', ws.calls)],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  runner.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((done) => runner.on('close', (code) => done(code)));
  return { runner, exited, stderr: () => stderr };
}

async function rerunCompletesOnlyTheHangingPoints(ws: ReturnType<typeof workspace>): Promise<void> {
  appendFileSync(ws.calls, '--- rerun\n');
  const rerun = await runSweep(ws.sweepFile, { resultsRoot: ws.root, workers: 2, command: fake('--calls', ws.calls) });
  const calls = readFileSync(ws.calls, 'utf8').split('--- rerun\n')[1].trim().split('\n').map((l) => l.split(' ')[0]);
  expect(calls.sort()).toEqual(hanging);
  expect(rerun.points.map((p) => p.status)).toEqual(['skipped', 'skipped', 'done', 'done']);
  expect(csvRows(join(ws.root, 'demo'))).toHaveLength(5);
}

describe('interrupting a sweep', () => {
  it('stops the workers on SIGINT, leaves no partial files, and a rerun completes only the rest', async () => {
    const ws = workspace(standard);
    const { runner, exited, stderr } = startHangingSweep(ws);
    const dir = join(ws.root, 'demo');

    // Wait until the two quick points are done and both hanging points have started.
    for (let waited = 0; ; waited += 100) {
      const started = calledPoints(ws.calls);
      const done = ['keras', 'lenet5'].every((p) => existsSync(join(dir, 'points', p, 'run', 'summary.json')));
      if (done && hanging.every((p) => started.includes(p))) break;
      if (waited > 60_000) throw new Error(`sweep did not get going: ${stderr()}`);
      await sleep(100);
    }
    const keras = readFileSync(join(dir, 'points', 'keras', 'run', 'summary.json'), 'utf8');
    runner.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr()).toMatch(/interrupted.*Rerun/s);

    // The hanging workers were stopped with the runner.
    const pids = readFileSync(ws.calls, 'utf8').trim().split('\n').map((l) => l.split(' ')).filter(([p]) => hanging.includes(p)).map(([, pid]) => Number(pid));
    for (const pid of pids) {
      for (let waited = 0; isAlive(pid); waited += 100) {
        if (waited > 10_000) throw new Error(`worker ${pid} still running`);
        await sleep(100);
      }
    }
    const files = filesUnder(dir);
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    for (const result of ['results.csv', 'summary.md', 'report.html', 'failures.json']) expect(files).not.toContain(result);
    expect(hanging.some((p) => existsSync(join(dir, 'points', p, 'run', 'summary.json')))).toBe(false);
    expect(readFileSync(join(dir, 'points', 'keras', 'run', 'summary.json'), 'utf8')).toBe(keras);

    await rerunCompletesOnlyTheHangingPoints(ws);
  });
});

describe('kill -9 of a sweep', () => {
  it('takes its workers down with it, and a rerun runs only the unfinished points, once each', async () => {
    const ws = workspace(standard);
    const { runner, exited } = startHangingSweep(ws);
    const dir = join(ws.root, 'demo');
    for (let waited = 0; !hanging.every((p) => calledPoints(ws.calls).includes(p)); waited += 100) {
      if (waited > 60_000) throw new Error('the hanging points did not start');
      await sleep(100);
    }
    const workerPids = () => pgrep(`fake-point.ts .*${join(ws.root, "demo", "points")}`);
    expect(workerPids()).toHaveLength(2);
    runner.kill('SIGKILL');
    await exited;
    for (let waited = 0; workerPids().length > 0; waited += 100) {
      if (waited > 10_000) throw new Error(`workers ${workerPids().join(', ')} outlived the sweep`);
      await sleep(100);
    }

    await rerunCompletesOnlyTheHangingPoints(ws);
  }, 120_000);

  it('a sweep refuses to start while a live process still holds one of its points', async () => {
    const ws = workspace(standard);
    await runSweep(ws.sweepFile, { resultsRoot: ws.root, dryRun: true });
    const config = join(ws.root, 'demo', 'points', 'lenet5', 'lenet5.json');
    const holder = spawn(process.execPath, ['--import', 'tsx', fakePoint, '--hang', 'lenet5', '--calls', ws.calls, config], { stdio: 'ignore' });
    try {
      for (let waited = 0; !calledPoints(ws.calls).includes('lenet5'); waited += 100) {
        if (waited > 30_000) throw new Error('the holder did not start');
        await sleep(100);
      }
      const attempt = runSweep(ws.sweepFile, { resultsRoot: ws.root, workers: 2, command: fake('--calls', ws.calls) });
      await expect(attempt).rejects.toThrow(new RegExp(`1 point\\(s\\) are still being run by another process:\\n  lenet5: pid ${holder.pid} \\(\`fake-point.ts `));
      await expect(attempt).rejects.toMatchObject({ exitCode: 3 });
      expect(calledPoints(ws.calls)).toEqual(['lenet5']); // nothing else was started
    } finally {
      holder.kill('SIGKILL');
    }
  }, 60_000);
});

function pgrep(pattern: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).trim().split('\n').map(Number);
  } catch {
    return [];
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
