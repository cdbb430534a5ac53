// results.csv and ranking.csv: machine-readable, full precision, one row per point.
import { stringify } from 'csv-stringify/sync';
import { paretoMarks, ranking, type ParetoMarks } from '../experiments/ranking.js';
import type { PointResult, SweepResults } from '../experiments/results.js';

type Cell = string | number;
type Column = [header: string, value: (r: PointResult, marks: ParetoMarks) => Cell];

const flag = (b: boolean): string => (b ? 'true' : 'false');

const metricColumns: Column[] = [
  ['architecture', (r) => r.summary.architecture],
  ['dataset', (r) => r.summary.dataset],
  ['board', (r) => r.summary.board],
  ['kernel_path', (r) => r.summary.kernelPath],
  ['params', (r) => r.summary.params],
  ['deployed_params', (r) => r.summary.deployedParams],
  ['macs', (r) => r.summary.macs],
  // Empty where a model file verified without labels has no accuracy (and no float model).
  ['float_accuracy', (r) => r.summary.floatAccuracy ?? ''],
  ['int8_accuracy', (r) => r.summary.int8Accuracy ?? ''],
  ['on_target_accuracy', (r) => r.summary.onTargetAccuracy ?? ''],
  ['flash_bytes', (r) => r.summary.flashBytes],
  ['ram_bytes', (r) => r.summary.ramBytes],
  ['weights_bytes', (r) => r.summary.weightsBytes],
  ['code_bytes', (r) => r.summary.codeBytes],
  ['arena_bytes', (r) => r.summary.arenaBytes],
  ['instructions_per_inference', (r) => r.summary.instructionsPerInference],
  ['instructions_per_mac', (r) => r.summary.instructionsPerMac],
  ['latency_ms', (r) => r.summary.latencyMs],
  ['energy_uj', (r) => r.summary.energyMicrojoules],
  ['training_seconds', (r) => r.summary.trainingSeconds],
  ['samples_per_second', (r) => r.summary.samplesPerSecond],
  ['epochs', (r) => r.summary.epochsRun],
  ['pareto_flash', (_, m) => flag(m.flash)],
  ['pareto_ram', (_, m) => flag(m.ram)],
  ['pareto_latency', (_, m) => flag(m.latency)],
];

/** point, source config, one column per grid field (its dotted path), then the metrics. */
function columns(results: SweepResults): Column[] {
  const grid: Column[] = results.manifest.grid.map(({ field }) => [
    field,
    (r) => (field in r.point.grid ? String(r.point.grid[field]) : ''),
  ]);
  return [['point', (r) => r.point.name], ['config', (r) => r.point.sourceName], ...grid, ...metricColumns];
}

function toCsv(cols: Column[], rows: { result: PointResult; marks: ParetoMarks }[]): string {
  return stringify(
    rows.map(({ result, marks }) => cols.map(([, value]) => value(result, marks))),
    { header: true, columns: cols.map(([header]) => header) },
  );
}

export function resultsCsv(results: SweepResults): string {
  const marks = paretoMarks(results.finished);
  return toCsv(columns(results), results.finished.map((result, i) => ({ result, marks: marks[i] })));
}

/** The points on at least one Pareto front, most accurate first. */
export function rankingCsv(results: SweepResults): string {
  const keep = new Set(['point', 'architecture', 'on_target_accuracy', 'flash_bytes', 'ram_bytes', 'latency_ms', 'pareto_flash', 'pareto_ram', 'pareto_latency']);
  return toCsv(columns(results).filter(([h]) => keep.has(h)), ranking(results.finished));
}
