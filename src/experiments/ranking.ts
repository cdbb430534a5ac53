// Pareto ranking of finished points: on-target accuracy against flash, RAM and latency.
import { paretoFlags, paretoFront, type Objective } from './pareto.js';
import type { PointResult } from './results.js';

export type RankingAxis = 'flash' | 'ram' | 'latency';

export interface AxisInfo {
  axis: RankingAxis;
  title: string;
  cost: (result: PointResult) => number;
}

export const rankingAxes: readonly AxisInfo[] = [
  { axis: 'flash', title: 'flash (bytes)', cost: (r) => r.summary.flashBytes },
  { axis: 'ram', title: 'RAM (bytes)', cost: (r) => r.summary.ramBytes },
  { axis: 'latency', title: 'latency (ms)', cost: (r) => r.summary.latencyMs },
];

// Points without an accuracy (a model file verified on unlabelled inputs) are on no front.
export const onTargetAccuracy = (result: PointResult): number => result.summary.onTargetAccuracy ?? Number.NaN;
const rankable = (result: PointResult): boolean => result.summary.onTargetAccuracy !== null;

export function objective(cost: (result: PointResult) => number): Objective<PointResult> {
  return { benefit: onTargetAccuracy, cost };
}

export type ParetoMarks = Record<RankingAxis, boolean>;

/** For each result (same order), whether it is Pareto-optimal on each axis. */
export function paretoMarks(results: readonly PointResult[]): ParetoMarks[] {
  const ranked = results.filter(rankable);
  const perAxis = rankingAxes.map((a) => paretoFlags(ranked, objective(a.cost)));
  const marks = new Map(ranked.map((r, i) => [r, { flash: perAxis[0][i], ram: perAxis[1][i], latency: perAxis[2][i] }]));
  return results.map((r) => marks.get(r) ?? { flash: false, ram: false, latency: false });
}

/** Each axis's Pareto front, cheapest first. */
export function paretoSets(results: readonly PointResult[]): Record<RankingAxis, PointResult[]> {
  const sets = {} as Record<RankingAxis, PointResult[]>;
  for (const a of rankingAxes) sets[a.axis] = paretoFront(results.filter(rankable), objective(a.cost));
  return sets;
}

/** The points on at least one front with their marks, most accurate first (ties: sweep order). */
export function ranking(results: readonly PointResult[]): { result: PointResult; marks: ParetoMarks }[] {
  const marks = paretoMarks(results);
  return results
    .map((result, i) => ({ result, marks: marks[i], order: i }))
    .filter((r) => r.marks.flash || r.marks.ram || r.marks.latency)
    .sort((a, b) => onTargetAccuracy(b.result) - onTargetAccuracy(a.result) || a.order - b.order)
    .map(({ result, marks: m }) => ({ result, marks: m }));
}
