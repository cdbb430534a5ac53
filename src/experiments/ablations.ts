// Ablations: the effect of one grid field with every other grid field held fixed. Points that
// differ only in that field form a group; within each group every value is compared with the
// field's first value (the reference), and the deltas are summarised over groups.
import type { RunSummary } from '../pipeline/summary.js';
import type { SweepManifest } from './points.js';
import type { PointResult } from './results.js';
import type { GridValue } from './sweep-file.js';

export interface AblationMetric {
  key: string;
  title: string;
  /** null when the summary has no such figure (the accuracy of a model file without labels). */
  value: (summary: RunSummary) => number | null;
}

export const ablationMetrics: readonly AblationMetric[] = [
  // Accuracy deltas in percentage points read better than fractions of one.
  { key: 'accuracy', title: 'on-target accuracy (points)', value: (s) => (s.onTargetAccuracy === null ? null : s.onTargetAccuracy * 100) },
  { key: 'params', title: 'parameters', value: (s) => s.params },
  { key: 'flash', title: 'flash (bytes)', value: (s) => s.flashBytes },
  { key: 'ram', title: 'RAM (bytes)', value: (s) => s.ramBytes },
  { key: 'latency', title: 'latency (ms)', value: (s) => s.latencyMs },
];

export interface DeltaStats {
  mean: number;
  min: number;
  max: number;
}

export interface AblationRow {
  value: GridValue;
  /** Groups in which both this value's point and the reference point finished. */
  groups: number;
  /** By metric key; null when no group had both points. */
  deltas: Record<string, DeltaStats | null>;
}

export interface Ablation {
  field: string;
  reference: GridValue;
  rows: AblationRow[];
}

function stats(values: number[]): DeltaStats | null {
  if (values.length === 0) return null;
  return {
    mean: values.reduce((a, b) => a + b, 0) / values.length,
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

const key = (value: GridValue): string => JSON.stringify(value);

/** One ablation per grid field that has at least two values. */
export function ablations(manifest: SweepManifest, finished: readonly PointResult[]): Ablation[] {
  const fields = manifest.grid.map((g) => g.field);
  // Only grid points carry a value for every field; points from `configs` take no part.
  const gridPoints = finished.filter((r) => fields.length > 0 && fields.every((f) => f in r.point.grid));
  const out: Ablation[] = [];
  for (const { field, values } of manifest.grid) {
    if (values.length < 2) continue;
    const others = fields.filter((f) => f !== field);
    const groups = new Map<string, Map<string, PointResult>>();
    for (const result of gridPoints) {
      const groupKey = JSON.stringify(others.map((f) => result.point.grid[f]));
      if (!groups.has(groupKey)) groups.set(groupKey, new Map());
      groups.get(groupKey)!.set(key(result.point.grid[field]), result);
    }
    const reference = values[0];
    const rows = values.slice(1).map((value): AblationRow => {
      const pairs = [...groups.values()]
        .map((group) => [group.get(key(reference)), group.get(key(value))] as const)
        .filter((pair): pair is readonly [PointResult, PointResult] => pair[0] !== undefined && pair[1] !== undefined);
      const deltas: Record<string, DeltaStats | null> = {};
      for (const metric of ablationMetrics) {
        const both = pairs.map(([ref, other]) => [metric.value(ref.summary), metric.value(other.summary)] as const);
        deltas[metric.key] = stats(both.filter((p): p is readonly [number, number] => p[0] !== null && p[1] !== null).map(([ref, other]) => other - ref));
      }
      return { value, groups: pairs.length, deltas };
    });
    out.push({ field, reference, rows });
  }
  return out;
}
