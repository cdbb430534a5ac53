// The hand-made points a search must beat. Each baseline config (a zoo point such as nano.json) is
// run on the search's board with the same training budget as the finalists (the search's `fixed`
// settings and `maxEpochs`), verified on all test images on target, and compared with the winner:
// the search only earns its keep when its winner is more accurate at no more flash, RAM and latency
// than a hand-made point, or no larger at the same accuracy and smaller somewhere.
import { basename, join, relative } from 'node:path';
import { measuredAccuracy, type RunSummary } from '../../pipeline/summary.js';
import { writeJsonAtomic } from '../../util/atomic.js';
import { log } from '../../util/log.js';
import { finishedSummary, mergeOverrides, readManifest } from '../points.js';
import { runSweep } from '../runner.js';
import type { JsonObject } from '../sweep-file.js';
import type { SearchBudgets } from './bounds.js';
import type { SearchSpec } from './file.js';
import type { SearchRunOptions } from './run.js';

export type Verdict = 'beaten' | 'not beaten' | 'outside the budgets' | 'failed';

export interface BaselineResult {
  /** The baseline config as the search file names it. */
  config: string;
  summary: RunSummary | null;
  verdict: Verdict;
  /** The comparison in words (which figures are better, equal or worse). */
  why: string;
}

const NO_BUDGETS = { flashBytes: null, ramBytes: null, minAccuracy: null, maxInstructionsPerInference: null, maxLatencyMs: null };

function baselineConfig(spec: SearchSpec, baseline: string, at: string): JsonObject {
  const overrides = mergeOverrides(spec.fixed, {
    target: { board: spec.board.name },
    budgets: NO_BUDGETS,
    training: { epochs: spec.halving.maxEpochs },
    dataset: { testLimit: null },
  });
  return { extends: relative(at, baseline), ...overrides };
}

/** The figures a budget or a comparison looks at, from a summary. */
const figures = (s: RunSummary) => ({ accuracy: measuredAccuracy(s), flash: s.flashBytes, ram: s.ramBytes, latency: s.latencyMs });

/** Which of these budgets a summary breaks, in words; empty when it fits. */
export function budgetBreaches(s: RunSummary, b: SearchBudgets): string[] {
  const f = figures(s);
  return [
    b.flashBytes !== null && f.flash > b.flashBytes && `flash ${f.flash} B > ${b.flashBytes} B`,
    b.ramBytes !== null && f.ram > b.ramBytes && `RAM ${f.ram} B > ${b.ramBytes} B`,
    b.latencyMs !== null && f.latency > b.latencyMs && `latency ${f.latency.toFixed(2)} ms > ${b.latencyMs} ms`,
    b.maxInstructionsPerInference !== null && s.instructionsPerInference > b.maxInstructionsPerInference &&
      `${s.instructionsPerInference} instructions > ${b.maxInstructionsPerInference}`,
    b.minAccuracy !== null && f.accuracy < b.minAccuracy && `accuracy ${(f.accuracy * 100).toFixed(2)}% < ${(b.minAccuracy * 100).toFixed(2)}%`,
  ].filter((x): x is string => typeof x === 'string');
}

/**
 * The winner against one hand-made point: beaten when the winner is no worse on accuracy, flash,
 * RAM and latency and strictly better on at least one of them (a Pareto dominance on the four).
 */
export function compareWithWinner(winner: RunSummary, baseline: RunSummary): { beaten: boolean; why: string } {
  const w = figures(winner);
  const b = figures(baseline);
  const parts: string[] = [];
  let worse = false;
  let better = false;
  const judge = (name: string, wv: number, bv: number, higherIsBetter: boolean, show: (v: number) => string) => {
    const sign = wv === bv ? 0 : (wv > bv) === higherIsBetter ? 1 : -1;
    if (sign > 0) better = true;
    if (sign < 0) worse = true;
    parts.push(`${name} ${show(wv)} ${sign === 0 ? '=' : sign > 0 ? 'better than' : 'worse than'} ${show(bv)}`);
  };
  judge('accuracy', w.accuracy, b.accuracy, true, (v) => `${(v * 100).toFixed(2)}%`);
  judge('flash', w.flash, b.flash, false, (v) => `${v} B`);
  judge('RAM', w.ram, b.ram, false, (v) => `${v} B`);
  judge('latency', w.latency, b.latency, false, (v) => `${v.toFixed(2)} ms`);
  return { beaten: better && !worse, why: parts.join('; ') };
}

/** Runs the search's baselines as one sweep (resumable like the rungs) and judges each against the winner. */
export async function runBaselines(spec: SearchSpec, dir: string, winner: RunSummary | null, opts: SearchRunOptions): Promise<BaselineResult[]> {
  if (spec.baselines.length === 0) return [];
  const configsDir = join(dir, 'baselines');
  const names = spec.baselines.map((path) => `baseline_${basename(path, '.json')}`);
  spec.baselines.forEach((path, i) => writeJsonAtomic(join(configsDir, `${names[i]}.json`), baselineConfig(spec, path, configsDir)));
  const rungsRoot = join(dir, 'rungs');
  const sweepFile = join(rungsRoot, 'baselines.json');
  writeJsonAtomic(sweepFile, {
    name: `${spec.name}-baselines`,
    description: `${spec.description} The hand-made points, trained with the finalists' budget (${spec.halving.maxEpochs} epochs) and verified on all test images.`,
    configs: names.map((n) => `../baselines/${n}.json`),
  });
  log.info(`search ${spec.name}: ${names.length} hand-made baseline(s) x ${spec.halving.maxEpochs} epoch(s)`);
  const outcome = await runSweep(sweepFile, { ...opts, resultsRoot: rungsRoot });
  const manifest = readManifest(outcome.dir);
  return spec.baselines.map((path, i) => {
    const point = manifest.points.find((p) => p.name === names[i])!;
    const summary = finishedSummary(outcome.dir, point);
    const config = relative(join(spec.file, '..'), path);
    if (!summary) return { config, summary: null, verdict: 'failed', why: 'its point failed (see failures.json of the baselines sweep)' };
    const breaches = budgetBreaches(summary, spec.budgets);
    if (!winner) return { config, summary, verdict: breaches.length ? 'outside the budgets' : 'not beaten', why: breaches.join(', ') || 'no winner' };
    const { beaten, why } = compareWithWinner(winner, summary);
    if (breaches.length) return { config, summary, verdict: 'outside the budgets', why: `${breaches.join(', ')}; ${why}` };
    return { config, summary, verdict: beaten ? 'beaten' : 'not beaten', why };
  });
}
