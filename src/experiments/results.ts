// Collects a sweep's results from its folder: the manifest says which points exist, each point's
// run/summary.json (when its config hash matches) holds its metrics, failures.json why others have none.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RunSummary } from '../pipeline/summary.js';
import { finishedSummary, readManifest, type SweepManifest, type SweepPoint } from './points.js';
import type { PointFailure } from './runner.js';

export interface PointResult {
  point: SweepPoint;
  summary: RunSummary;
}

export interface SweepResults {
  dir: string;
  manifest: SweepManifest;
  /** Finished points, in sweep order. */
  finished: PointResult[];
  /** Names of points without a current summary (failed, not yet run, or stale). */
  missing: string[];
  failures: PointFailure[];
}

export function collectResults(sweepDir: string): SweepResults {
  const dir = resolve(sweepDir);
  const manifest = readManifest(dir);
  const finished: PointResult[] = [];
  const missing: string[] = [];
  for (const point of manifest.points) {
    const summary = finishedSummary(dir, point);
    if (summary) finished.push({ point, summary });
    else missing.push(point.name);
  }
  const failuresFile = join(dir, 'failures.json');
  const failures = existsSync(failuresFile) ? (JSON.parse(readFileSync(failuresFile, 'utf8')) as PointFailure[]) : [];
  return { dir, manifest, finished, missing, failures };
}

/** Baselines are the full-size reference models; every other architecture counts as lightweight. */
export const baselineArchitectures: readonly string[] = ['lenet5', 'keras-cnn'];

export function isBaseline(result: PointResult): boolean {
  return baselineArchitectures.includes(result.summary.architecture);
}
