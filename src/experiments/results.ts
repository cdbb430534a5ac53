// Collects a sweep's results from its folder: the manifest says which points exist, each point's
// run/summary.json (when its config hash matches and its verification passed) holds its metrics,
// failures.json why others have none. A failed run's summary is never counted as a result.
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { summaryFailure, type RunSummary } from '../pipeline/summary.js';
import { pointPaths, pointSummary, readManifest, type SweepManifest, type SweepPoint } from './points.js';
import type { PointFailure } from './runner.js';

export interface PointResult {
  point: SweepPoint;
  summary: RunSummary;
}

export interface SweepResults {
  dir: string;
  manifest: SweepManifest;
  /** Points whose run passed verification, in sweep order. */
  finished: PointResult[];
  /** Names of points without a passing summary (failed, not yet run, or stale). */
  missing: string[];
  failures: PointFailure[];
}

/** failures.json as the last sweep left it ([] when absent or unreadable). */
export function readFailures(sweepDir: string): PointFailure[] {
  const file = join(sweepDir, 'failures.json');
  if (!existsSync(file)) return [];
  try {
    const failures = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return Array.isArray(failures) ? (failures as PointFailure[]) : [];
  } catch {
    return [];
  }
}

export function collectResults(sweepDir: string): SweepResults {
  const dir = resolve(sweepDir);
  const manifest = readManifest(dir);
  const finished: PointResult[] = [];
  const missing: string[] = [];
  const failures = readFailures(dir);
  for (const point of manifest.points) {
    const summary = pointSummary(dir, point);
    const failed = summary && summaryFailure(summary);
    if (summary && !failed) {
      finished.push({ point, summary });
      continue;
    }
    missing.push(point.name);
    // A failed summary with no record in failures.json (deleted, or `run` used by hand) still says why.
    if (failed && !failures.some((f) => f.point === point.name)) {
      failures.push({
        point: point.name, exitCode: null, signal: null, reason: `verification failed: ${failed}`,
        log: relative(dir, pointPaths(dir, point.name).summary), logTail: '', finishedAt: summary.finishedAt,
      });
    }
  }
  return { dir, manifest, finished, missing, failures };
}

/** Baselines are the full-size reference models; every other architecture counts as lightweight. */
export const baselineArchitectures: readonly string[] = ['lenet5', 'keras-cnn'];

export function isBaseline(result: PointResult): boolean {
  return baselineArchitectures.includes(result.summary.architecture);
}
