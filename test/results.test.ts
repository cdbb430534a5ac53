import { describe, expect, it } from 'vitest';
import { ablations } from '../src/experiments/ablations.js';
import { headline } from '../src/experiments/compare.js';
import { paretoFlags, paretoFront } from '../src/experiments/pareto.js';
import { paretoSets, ranking } from '../src/experiments/ranking.js';
import { rankingCsv, resultsCsv } from '../src/report/csv.js';
import { ablationsMarkdown, markdownTable, rankingMarkdown, summaryMarkdown } from '../src/report/markdown.js';
import { sweepResults, type Synthetic } from './fixtures/sweep/synthetic.js';

/** The CSV as header -> value records (no test value contains a comma or quote). */
function records(csv: string): Record<string, string>[] {
  const [header, ...lines] = csv.trim().split('\n').map((l) => l.split(','));
  return lines.map((cells) => Object.fromEntries(header.map((h, i) => [h, cells[i]])));
}

describe('Pareto optimality (higher accuracy, lower cost)', () => {
  // [name, accuracy, cost]
  const items: [string, number, number][] = [
    ['A', 0.99, 100],
    ['B', 0.99, 100], // ties A exactly: neither dominates the other
    ['C', 0.98, 50],
    ['D', 0.97, 60], // C is more accurate and cheaper
    ['E', 0.99, 120], // A is as accurate and cheaper
    ['F', 1.0, 200], // most accurate, however expensive
    ['G', 0.96, 50], // C costs the same and is more accurate
  ];
  const objective = { benefit: (i: (typeof items)[number]) => i[1], cost: (i: (typeof items)[number]) => i[2] };

  it('keeps ties and drops dominated points', () => {
    expect(paretoFlags(items, objective)).toEqual([true, true, true, false, false, true, false]);
  });

  it('orders the front cheapest first', () => {
    expect(paretoFront(items, objective).map((i) => i[0])).toEqual(['C', 'A', 'B', 'F']);
  });

  it('a single point is its own front; no points, no front', () => {
    expect(paretoFlags([items[3]], objective)).toEqual([true]);
    expect(paretoFront([], objective)).toEqual([]);
  });
});

// Each point wins on a different axis; p4 loses on all of them.
const axes: Synthetic[] = [
  { name: 'p1', accuracy: 0.99, flash: 20000, ram: 6000, latency: 30 },
  { name: 'p2', accuracy: 0.98, flash: 10000, ram: 8000, latency: 20 },
  { name: 'p3', accuracy: 0.97, flash: 12000, ram: 3000, latency: 40 },
  { name: 'p4', accuracy: 0.97, flash: 12000, ram: 9000, latency: 50 },
];

describe('ranking against flash, RAM and latency', () => {
  const results = sweepResults(axes);

  it('finds each axis front', () => {
    const sets = paretoSets(results.finished);
    expect(sets.flash.map((r) => r.point.name)).toEqual(['p2', 'p1']);
    expect(sets.ram.map((r) => r.point.name)).toEqual(['p3', 'p1']);
    expect(sets.latency.map((r) => r.point.name)).toEqual(['p2', 'p1']);
  });

  it('ranks the points on any front, most accurate first, marked per axis', () => {
    expect(ranking(results.finished).map((r) => [r.result.point.name, r.marks])).toEqual([
      ['p1', { flash: true, ram: true, latency: true }],
      ['p2', { flash: true, ram: false, latency: true }],
      ['p3', { flash: false, ram: true, latency: false }],
    ]);
  });

  it('ranking.csv and ranking.md hold the same points and marks', () => {
    const rows = records(rankingCsv(results));
    expect(rows.map((r) => r.point)).toEqual(['p1', 'p2', 'p3']);
    expect(rows[2]).toEqual({
      point: 'p3', architecture: 'tiny-cnn', on_target_accuracy: '0.97', flash_bytes: '12000', ram_bytes: '3000',
      latency_ms: '40', pareto_flash: 'false', pareto_ram: 'true', pareto_latency: 'false',
    });
    const md = rankingMarkdown(results);
    expect(md).toContain('| p2 | tiny-cnn | 98.00% | 10,000 | 8,000 | 20 | flash, latency |');
    expect(md).toContain('| p3 | tiny-cnn | 97.00% | 12,000 | 3,000 | 40 | ram |');
    expect(md).not.toMatch(/\| p4 \|/);
  });

  it('results.csv has one row per point with every column', () => {
    const csv = resultsCsv(results);
    const header = csv.split('\n')[0].split(',');
    expect(header).toEqual([
      'point', 'config', 'architecture', 'dataset', 'board', 'kernel_path', 'params', 'deployed_params', 'macs',
      'float_accuracy', 'int8_accuracy', 'on_target_accuracy', 'flash_bytes', 'ram_bytes', 'weights_bytes', 'code_bytes',
      'arena_bytes', 'instructions_per_inference', 'instructions_per_mac', 'latency_ms', 'energy_uj', 'training_seconds',
      'samples_per_second', 'epochs', 'pareto_flash', 'pareto_ram', 'pareto_latency',
    ]);
    const rows = records(csv);
    expect(rows.map((r) => r.point)).toEqual(['p1', 'p2', 'p3', 'p4']);
    expect(rows[3]).toMatchObject({
      config: 'base', params: '1000', macs: '10000', on_target_accuracy: '0.97', flash_bytes: '12000', ram_bytes: '9000',
      latency_ms: '50', epochs: '2', pareto_flash: 'false', pareto_ram: 'false', pareto_latency: 'false',
    });
    expect(rows[1]).toMatchObject({ pareto_flash: 'true', pareto_ram: 'false', pareto_latency: 'true' });
  });
});

describe('ablations', () => {
  const w = 'model.widthMultiplier';
  const aug = 'training.augmentation.enabled';
  const board = 'target.board';
  const g = (width: number, augmentation: boolean) => ({ [w]: width, [aug]: augmentation, [board]: 'mps2-an386' });
  const items: Synthetic[] = [
    { name: 'keras', architecture: 'keras-cnn', accuracy: 0.995, flash: 900000 }, // from `configs`: not in any group
    { name: 'w0.5-off', accuracy: 0.97, flash: 5000, grid: g(0.5, false) },
    { name: 'w0.5-on', accuracy: 0.975, flash: 5000, grid: g(0.5, true) },
    { name: 'w1-off', accuracy: 0.98, flash: 9000, grid: g(1, false) },
    { name: 'w1-on', accuracy: 0.99, flash: 9000, grid: g(1, true) },
    { name: 'w2-off', accuracy: 0.985, flash: 20000, grid: g(2, false) },
    // w2-on failed: groups that need it are left out
  ];
  const grid = [
    { field: w, values: [0.5, 1, 2] },
    { field: aug, values: [false, true] },
    { field: board, values: ['mps2-an386'] }, // one value: nothing to ablate
  ];
  const results = sweepResults(items, grid, ['w2-on']);

  it('groups points that differ only in the field and compares with its first value', () => {
    const [width, augmentation, ...rest] = ablations(results.manifest, results.finished);
    expect(rest).toEqual([]);
    expect(width.field).toBe(w);
    expect(width.reference).toBe(0.5);
    expect(width.rows.map((r) => [r.value, r.groups])).toEqual([[1, 2], [2, 1]]);
    const w1 = width.rows[0].deltas;
    expect(w1.accuracy!.mean).toBeCloseTo(1.25, 9); // (+1.0 without, +1.5 with augmentation) / 2
    expect(w1.accuracy!.min).toBeCloseTo(1.0, 9);
    expect(w1.accuracy!.max).toBeCloseTo(1.5, 9);
    expect(w1.flash).toEqual({ mean: 4000, min: 4000, max: 4000 });
    expect(width.rows[1].deltas.accuracy!.mean).toBeCloseTo(1.5, 9);
    expect(width.rows[1].deltas.flash!.mean).toBe(15000);

    expect(augmentation.reference).toBe(false);
    expect(augmentation.rows).toHaveLength(1);
    expect(augmentation.rows[0].groups).toBe(2); // w0.5 and w1; w2 has no aug-on point
    expect(augmentation.rows[0].deltas.accuracy!.min).toBeCloseTo(0.5, 9);
    expect(augmentation.rows[0].deltas.accuracy!.max).toBeCloseTo(1.0, 9);
    expect(augmentation.rows[0].deltas.ram).toEqual({ mean: 0, min: 0, max: 0 });
  });

  it('ablations.md shows mean and [min, max] per value', () => {
    const md = ablationsMarkdown(results);
    expect(md).toContain('## model.widthMultiplier: change vs 0.5 (w0.5)');
    expect(md).toContain('| 1 (w1) | 2 | +1.25 [+1.00, +1.50] | +0 | +4,000 | +0 | +0.000 |');
    expect(md).toContain('| 2 (w2) | 1 | +1.50 | +0 | +15,000 | +0 | +0.000 |');
    expect(md).toContain('| true (aug-on) | 2 | +0.75 [+0.50, +1.00] |');
    expect(md).not.toContain('target.board:');
  });

  it('a value with no complete group reports n/a', () => {
    const partial = sweepResults(items.filter((i) => !i.name.startsWith('w2')), grid.map((f) => (f.field === w ? { ...f, values: [0.5, 2] } : f)));
    const [width] = ablations(partial.manifest, partial.finished);
    expect(width.rows).toEqual([{ value: 2, groups: 0, deltas: expect.objectContaining({ accuracy: null }) }]);
    expect(ablationsMarkdown(partial)).toContain('| 2 (w2) | 0 | n/a |');
  });
});

describe('lightweight vs baseline', () => {
  const items: Synthetic[] = [
    { name: 'keras', architecture: 'keras-cnn', accuracy: 0.992, params: 1199882, flash: 1300000 },
    { name: 'lenet', architecture: 'lenet5', accuracy: 0.99, params: 61706, flash: 80000 },
    { name: 'tiny', architecture: 'tiny-cnn', accuracy: 0.988, params: 9000, flash: 14000 },
    // As accurate as tiny with half the parameters: the tie goes to the smaller model.
    { name: 'sep', architecture: 'separable-cnn', accuracy: 0.988, params: 4500, flash: 13000 },
    { name: 'mlp', architecture: 'mlp', accuracy: 0.97, params: 50000 },
  ];

  it('picks the most accurate of each kind, smaller on ties, and computes the reduction', () => {
    const h = headline(sweepResults(items).finished);
    expect(h.bestLightweight!.point.name).toBe('sep');
    expect(h.bestBaseline!.point.name).toBe('keras');
    expect(h.vsKeras!.paramReductionPct).toBeCloseTo((1 - 4500 / 1199882) * 100, 9);
    expect(h.vsKeras!.flashReductionPct).toBeCloseTo((1 - 13000 / 1300000) * 100, 9);
    expect(h.vsKeras!.accuracyGapPoints).toBeCloseTo(0.4, 9);
  });

  it('summary.md states the numbers computed from the results', () => {
    const md = summaryMarkdown(sweepResults(items));
    expect(md).toContain('Best lightweight model: sep (separable-cnn), 4,500 parameters, 98.80% on target');
    expect(md).toContain('sep has 99.6% fewer parameters, 99.0% less flash and 0.40 points lower on-target accuracy.');
    expect(md).toContain('| keras | keras-cnn | mps2-an386 | dsp | 1,199,882 |');
    // Change the data and the sentence follows.
    const better = summaryMarkdown(sweepResults(items.map((i) => (i.name === 'sep' ? { ...i, accuracy: 0.995 } : i))));
    expect(better).toContain('0.30 points higher on-target accuracy');
  });

  it('says so when there is no Keras CNN, and compares with the best other baseline', () => {
    const md = summaryMarkdown(sweepResults(items.filter((i) => i.name !== 'keras')));
    expect(md).toContain('No keras-cnn point finished');
    expect(md).toContain('Against the best baseline lenet (lenet5, 61,706 parameters, 99.00%): sep has 92.7% fewer parameters');
  });
});

describe('markdown tables', () => {
  it('escapes pipes and says when a table is empty', () => {
    expect(markdownTable({ title: 'T', headers: ['a|b'], rows: [['x|y']] })).toBe('## T\n\n| a\\|b |\n| --- |\n| x\\|y |\n');
    expect(markdownTable({ title: 'T', headers: ['a'], rows: [], empty: 'nothing yet' })).toBe('## T\n\nnothing yet\n');
  });
});
