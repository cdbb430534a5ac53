// `tinyforge search` on fake points: rejection before training by lower bounds, successive halving
// on validation accuracy, budgets checked on measured figures, the winner's config, and resuming.
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { rungEpochs, runSearch } from '../src/experiments/search/run.js';
import { setLogLevel } from '../src/util/log.js';
import { UserError } from '../src/util/errors.js';

setLogLevel('silent');
const fixtures = resolve('test/fixtures/sweep');
const fake = (...options: string[]) => [process.execPath, '--import', 'tsx', join(fixtures, 'fake-point.ts'), ...options];

function workspace(search: object) {
  const dir = mkdtempSync(join(tmpdir(), 'tinyforge-search-'));
  cpSync(join(fixtures, 'configs'), join(dir, 'configs'), { recursive: true });
  const file = join(dir, 'search.json');
  writeFileSync(file, JSON.stringify(search));
  return { dir, file, root: join(dir, 'results'), calls: join(dir, 'calls.log') };
}

const search = {
  name: 'micro',
  description: 'test search',
  base: 'configs/tiny-cnn.json',
  board: 'microbit',
  budgets: { flashBytes: 65536, ramBytes: 16384, minAccuracy: 0.9 },
  space: { 'model.architecture': ['tiny-cnn', 'keras-cnn'], 'model.widthMultiplier': [0.5, 1, 2] },
  halving: { eta: 2, minEpochs: 1, maxEpochs: 4, rungTestImages: 100 },
};

describe('tinyforge search', () => {
  it('halves epochs up to the maximum', () => {
    expect(rungEpochs(1, 9, 3)).toEqual([1, 3, 9]);
    expect(rungEpochs(1, 4, 2)).toEqual([1, 2, 4]);
    expect(rungEpochs(2, 5, 3)).toEqual([2, 5]);
    expect(rungEpochs(3, 3, 3)).toEqual([3]);
  });

  it('rejects what cannot fit before training, halves the rest, and writes the winner', async () => {
    const ws = workspace({ ...search, budgets: { ...search.budgets, ramBytes: 5120 } });
    // Layer by layer: with row bands (codegen.rowBands: true) the spec alone bounds the arena much lower.
    const base = join(ws.dir, 'configs', 'tiny-cnn.json');
    writeFileSync(base, JSON.stringify({ ...JSON.parse(readFileSync(base, 'utf8')), codegen: { rowBands: false } }));
    const outcome = await runSearch(ws.file, { resultsRoot: ws.root, command: fake('--calls', ws.calls), workers: 2 });
    const byName = new Map(outcome.candidates.map((c) => [c.name, c]));
    // The Keras CNN's 1.2 M weights cannot fit 64 KB at any width: rejected before training.
    for (const c of outcome.candidates.filter((c) => c.values['model.architecture'] === 'keras-cnn')) {
      expect(c.dropped).toMatchObject({ rung: -1 });
      expect(c.dropped!.reason).toMatch(/weights alone need \d+ B of flash/);
    }
    // tiny-cnn at width 2 needs at least a 4,704-byte arena (conv1's input and pooled output, the
    // fused kernel's smallest pair): more than 5 KB less the 1 KB stack.
    const wide = [...byName.values()].find((c) => c.name.includes('tiny-cnn_w2'))!;
    expect(wide.dropped).toEqual({ rung: -1, reason: 'the arena needs at least 4704 B of RAM (budget less the 1024 B stack: 4096 B)' });
    expect(outcome.rungs.map((r) => [r.epochs, r.candidates.length])).toEqual([[1, 2], [2, 1], [4, 1]]);
    const calls = readFileSync(ws.calls, 'utf8').trim().split('\n');
    expect(calls).toHaveLength(2 + 1 + 1);
    expect(calls.some((l) => l.includes('keras'))).toBe(false);
    // The fake accuracy saturates at width 1; the smaller of the two best goes on.
    expect(outcome.winner).toBe([...byName.keys()].find((n) => n.includes('tiny-cnn_w1')));
    expect(outcome.pareto).toEqual([outcome.winner]);
    const winner = loadConfig(join(outcome.dir, 'winner.json'));
    expect(winner.model.widthMultiplier).toBe(1);
    expect(winner.training.epochs).toBe(4);
    expect(winner.target.board).toBe('microbit');
    expect(winner.budgets.flashBytes).toBe(65536);
    expect(winner.budgets.ramBytes).toBe(5120);
    const md = readFileSync(join(outcome.dir, 'summary.md'), 'utf8');
    expect(md).toMatch(/6 candidate\(s\) from the space; 4 rejected before training/);
    expect(existsSync(join(outcome.dir, 'rungs', 'micro-rung2', 'report.html'))).toBe(true);

    // Resuming runs nothing again.
    const again = await runSearch(ws.file, { resultsRoot: ws.root, command: fake('--calls', ws.calls), workers: 2 });
    expect(again.winner).toBe(outcome.winner);
    expect(again.totalSeconds).toBeCloseTo(outcome.totalSeconds + again.seconds, 6);
    expect(readFileSync(ws.calls, 'utf8').trim().split('\n')).toHaveLength(4);
  });

  it('runs the hand-made baselines with the finalists\' budget and judges the winner against each', async () => {
    const ws = workspace({ ...search, baselines: ['configs/wide.json', 'configs/lenet5.json', 'configs/aug.json'] });
    // The fake accuracy saturates at width 1 and gains 0.3 points with augmentation.
    writeFileSync(join(ws.dir, 'configs', 'wide.json'), JSON.stringify({ extends: 'tiny-cnn.json', model: { widthMultiplier: 2 } }));
    writeFileSync(join(ws.dir, 'configs', 'aug.json'), JSON.stringify({ extends: 'tiny-cnn.json', training: { augmentation: { enabled: true } } }));
    const outcome = await runSearch(ws.file, { resultsRoot: ws.root, command: fake('--calls', ws.calls), workers: 2 });
    expect(outcome.baselines.map((b) => [b.config, b.verdict])).toEqual([
      ['configs/wide.json', 'beaten'],
      ['configs/lenet5.json', 'outside the budgets'],
      ['configs/aug.json', 'not beaten'],
    ]);
    expect(outcome.baselines[0].why).toMatch(/^accuracy 98.40% = 98.40%; flash 13000 B better than 40000 B/);
    expect(outcome.baselines[1].why).toMatch(/^flash 65706 B > 65536 B/);
    expect(outcome.baselines[2].why).toMatch(/^accuracy 98.40% worse than 98.70%/);
    // Trained like the finalists, on the search's board, on all test images.
    const config = loadConfig(join(outcome.dir, 'baselines', 'baseline_wide.json'));
    expect([config.training.epochs, config.target.board, config.dataset.testLimit, config.budgets.flashBytes]).toEqual([4, 'microbit', null, null]);
    const md = readFileSync(join(outcome.dir, 'summary.md'), 'utf8');
    expect(md).toMatch(/## Against the hand-made points/);
    expect(md).toMatch(/\| configs\/wide.json \| 98.40% \| 40000 \| 8000 \| [\d.]+ \| \*\*beaten\*\* \|/);
    // Resuming runs no baseline again.
    const calls = readFileSync(ws.calls, 'utf8').trim().split('\n').length;
    await runSearch(ws.file, { resultsRoot: ws.root, command: fake('--calls', ws.calls), workers: 2 });
    expect(readFileSync(ws.calls, 'utf8').trim().split('\n')).toHaveLength(calls);
    const missing = workspace({ ...search, baselines: ['configs/nope.json'] });
    await expect(runSearch(missing.file, { resultsRoot: missing.root })).rejects.toThrow(/\/baselines\/0: expected an existing config file, found "configs\/nope.json"/);
  });

  it('drops candidates whose measured figures break a budget, and says when nothing fits', async () => {
    // The fake point reports flash = 4000 + 9000 w^2: width 1 passes the 12 KB bound on its weights
    // (9,504 B) but not the measured 13,000 B, and width 0.5 misses the 99.9% accuracy floor.
    const ws = workspace({ ...search, budgets: { flashBytes: 12000, minAccuracy: 0.999 }, space: { 'model.widthMultiplier': [0.5, 1] } });
    const outcome = await runSearch(ws.file, { resultsRoot: ws.root, command: fake(), workers: 2 });
    expect(outcome.winner).toBeNull();
    const reasons = outcome.candidates.map((c) => c.dropped!.reason);
    expect(reasons).toContain('measured on microbit: flash 13000 B > 12000 B');
    expect(reasons.some((r) => /below 99.9%/.test(r))).toBe(true);
  });

  it('names the file and field of a bad search', async () => {
    const ws = workspace({ ...search, space: { 'model.widht': [1] }, halving: { minEpochs: 5, maxEpochs: 2 } });
    const err = await runSearch(ws.file, { resultsRoot: ws.root }).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/search\.json: invalid search/);
    expect(err.message).toMatch(/\/space\/model.widht: "model.widht" is not a config field/);
    expect(err.message).toMatch(/\/halving\/minEpochs: expected at most maxEpochs \(2\), found 5/);
    const board = workspace({ ...search, board: 'nope' });
    await expect(runSearch(board.file, { resultsRoot: board.root })).rejects.toThrow(/\/board: .*nope/);
  });
});
