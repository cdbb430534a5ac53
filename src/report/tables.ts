// The tables of a sweep's results, as rows of display strings. Markdown (summary.md, ranking.md,
// ablations.md) and HTML (report.html) render these same tables, so the two never disagree.
import { ablationMetrics, ablations } from '../experiments/ablations.js';
import { headline, type Comparison } from '../experiments/compare.js';
import { gridLabel } from '../experiments/points.js';
import { paretoMarks, paretoSets, rankingAxes, ranking, type ParetoMarks } from '../experiments/ranking.js';
import type { SweepResults } from '../experiments/results.js';
import type { GridValue } from '../experiments/sweep-file.js';
import { integer, percent, signed, signedInteger, significant } from './format.js';

export interface Table {
  title: string;
  headers: string[];
  rows: string[][];
  /** Shown under the table when it has no rows. */
  empty?: string;
}

const markLetters = (marks: ParetoMarks): string =>
  rankingAxes.filter((a) => marks[a.axis]).map((a) => a.axis).join(', ') || '-';

export function resultsTable(results: SweepResults): Table {
  const marks = paretoMarks(results.finished);
  return {
    title: 'Results',
    headers: ['point', 'architecture', 'board', 'kernels', 'params', 'MACs', 'float acc', 'int8 acc', 'on-target acc',
      'flash', 'RAM', 'latency ms', 'energy µJ', 'train s', 'Pareto'],
    rows: results.finished.map(({ point, summary: s }, i) => [
      point.name, s.architecture, s.board, s.kernelPath, integer(s.params), integer(s.macs),
      percent(s.floatAccuracy), percent(s.int8Accuracy), percent(s.onTargetAccuracy),
      integer(s.flashBytes), integer(s.ramBytes), significant(s.latencyMs), significant(s.energyMicrojoules),
      integer(s.trainingSeconds), markLetters(marks[i]),
    ]),
    empty: 'No point has finished yet.',
  };
}

export function rankingTable(results: SweepResults): Table {
  return {
    title: 'Pareto-optimal points (on-target accuracy vs flash, RAM, latency)',
    headers: ['point', 'architecture', 'on-target acc', 'flash', 'RAM', 'latency ms', 'Pareto on'],
    rows: ranking(results.finished).map(({ result: { point, summary: s }, marks }) => [
      point.name, s.architecture, percent(s.onTargetAccuracy), integer(s.flashBytes), integer(s.ramBytes),
      significant(s.latencyMs), markLetters(marks),
    ]),
    empty: 'No finished points.',
  };
}

/** One table per axis: its front from cheapest to most accurate. */
export function frontTables(results: SweepResults): Table[] {
  const sets = paretoSets(results.finished);
  return rankingAxes.map((a) => ({
    title: `Front: accuracy vs ${a.title}`,
    headers: ['point', a.title, 'on-target acc'],
    rows: sets[a.axis].map((r) => [r.point.name, a.axis === 'latency' ? significant(a.cost(r)) : integer(a.cost(r)), percent(r.summary.onTargetAccuracy)]),
    empty: 'No finished points.',
  }));
}

function deltaCell(metricKey: string, stats: { mean: number; min: number; max: number } | null): string {
  if (!stats) return 'n/a';
  const show = metricKey === 'accuracy' ? (n: number) => signed(n) : metricKey === 'latency' ? (n: number) => signed(n, 3) : signedInteger;
  // Compare as shown: float noise must not make identical deltas look like a range.
  return show(stats.min) === show(stats.max) ? show(stats.mean) : `${show(stats.mean)} [${show(stats.min)}, ${show(stats.max)}]`;
}

const valueText = (field: string, value: GridValue): string => `${JSON.stringify(value)} (${gridLabel(field, value)})`;

export function ablationTables(results: SweepResults): Table[] {
  return ablations(results.manifest, results.finished).map((ablation) => ({
    title: `${ablation.field}: change vs ${valueText(ablation.field, ablation.reference)}`,
    headers: ['value', 'groups', ...ablationMetrics.map((m) => `Δ ${m.title}`)],
    rows: ablation.rows.map((row) => [
      valueText(ablation.field, row.value),
      String(row.groups),
      ...ablationMetrics.map((m) => deltaCell(m.key, row.deltas[m.key])),
    ]),
  }));
}

export function failuresTable(results: SweepResults): Table {
  const failed = new Map(results.failures.map((f) => [f.point, f]));
  return {
    title: 'Points without results',
    headers: ['point', 'status', 'log'],
    rows: results.missing.map((name) => {
      const f = failed.get(name);
      return f ? [name, `failed: ${f.reason}`, f.log] : [name, 'not run yet (or its config changed since)', '-'];
    }),
    empty: 'Every point finished.',
  };
}

function comparisonSentence(c: Comparison, what: string): string {
  const gap = c.accuracyGapPoints;
  const accuracy = gap === 0 ? 'the same on-target accuracy' : `${Math.abs(gap).toFixed(2)} points ${gap > 0 ? 'lower' : 'higher'} on-target accuracy`;
  return (
    `Against ${what} ${c.baseline.point.name} (${c.baseline.summary.architecture}, ${integer(c.baseline.summary.params)} parameters, ` +
    `${percent(c.baseline.summary.onTargetAccuracy)}): ${c.lightweight.point.name} has ${c.paramReductionPct.toFixed(1)}% fewer parameters, ` +
    `${c.flashReductionPct.toFixed(1)}% less flash and ${accuracy}.`
  );
}

/** The lightweight-vs-baseline findings as sentences, every number computed from the results. */
export function headlineSentences(results: SweepResults): string[] {
  const h = headline(results.finished);
  const lines: string[] = [];
  if (h.bestLightweight) {
    const s = h.bestLightweight.summary;
    lines.push(`Best lightweight model: ${h.bestLightweight.point.name} (${s.architecture}), ${integer(s.params)} parameters, ${percent(s.onTargetAccuracy)} on target, ${integer(s.flashBytes)} B flash, ${integer(s.ramBytes)} B RAM.`);
  } else lines.push('No lightweight model finished.');
  if (h.bestBaseline) {
    const s = h.bestBaseline.summary;
    lines.push(`Best baseline: ${h.bestBaseline.point.name} (${s.architecture}), ${integer(s.params)} parameters, ${percent(s.onTargetAccuracy)} on target.`);
  } else lines.push('No baseline (lenet5, keras-cnn) finished.');
  if (h.vsKeras) lines.push(comparisonSentence(h.vsKeras, 'the Keras CNN baseline'));
  else if (h.bestLightweight) lines.push('No keras-cnn point finished, so there is no parameter reduction against the Keras CNN to report.');
  if (h.vsBestBaseline && h.vsBestBaseline.baseline !== h.keras) lines.push(comparisonSentence(h.vsBestBaseline, 'the best baseline'));
  return lines;
}
