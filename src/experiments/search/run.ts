// `tinyforge search <search.json>`: the most accurate model of a search space that fits a board's
// budgets. Candidates whose lower bounds (bounds.ts) already break a budget are rejected before
// training; the rest go through successive halving on training epochs (Jamieson & Talwalkar 2016;
// the rungs of Hyperband): every rung trains its candidates for `epochs`, keeps those whose measured
// flash, RAM and instructions fit, and passes the best 1/eta by validation accuracy (never the test
// set) to the next rung at eta times the epochs. The last rung verifies its finalists on all test
// images in QEMU. Every rung is an ordinary sweep (results/<name>/rungs/<name>-rung<r>/), run on the
// local pool or a queue and resumable like one; the search's own files say what was chosen and why.
import { mkdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { loadConfig } from '../../config/load.js';
import { measuredAccuracy, type RunSummary } from '../../pipeline/summary.js';
import { writeFileAtomic, writeJsonAtomic } from '../../util/atomic.js';
import { Rng } from '../../util/random.js';
import { log } from '../../util/log.js';
import { paretoFlags } from '../pareto.js';
import { cartesian, finishedSummary, gridLabel, mergeOverrides, readManifest } from '../points.js';
import { runSweep, type RunSweepOptions } from '../runner.js';
import { shownPath, type GridValue, type JsonObject } from '../sweep-file.js';
import { budgetBreaches, runBaselines, type BaselineResult } from './baselines.js';
import { boundsProblem, candidateBounds, type CandidateBounds } from './bounds.js';
import { readSearchFile, type SearchSpec } from './file.js';
import { searchMarkdown } from './markdown.js';

export interface Candidate {
  name: string;
  values: Record<string, GridValue>;
  bounds: CandidateBounds;
  /** Why it was dropped, and at which rung (-1: before training); absent for finalists still in. */
  dropped?: { rung: number; reason: string };
  /** Validation accuracy at the end of each rung it ran. */
  valAccuracy: number[];
  summary?: RunSummary;
}

export interface SearchOutcome {
  dir: string;
  candidates: Candidate[];
  rungs: { epochs: number; candidates: string[] }[];
  pareto: string[];
  winner: string | null;
  /** The hand-made points of the search file, run with the finalists' budget and judged against the winner. */
  baselines: BaselineResult[];
  /** Wall time of this invocation. */
  seconds: number;
  /** Wall time of every invocation of this search so far (a resumed search adds to it). */
  totalSeconds: number;
}

export type SearchRunOptions = Pick<RunSweepOptions, 'workers' | 'command' | 'queue' | 'artifacts' | 'resultsRoot' | 'acceptOlderCode'>;

function setDotted(target: JsonObject, field: string, value: GridValue): void {
  const keys = field.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) node = (node[key] ??= {}) as JsonObject;
  node[keys.at(-1)!] = value;
}

/** The candidate's config: the base, its values, `fixed`, the board; no budgets (the search judges). */
function candidateConfig(spec: SearchSpec, values: Record<string, GridValue>, at: string, epochs?: number): JsonObject {
  const own: JsonObject = {};
  for (const [field, value] of Object.entries(values)) setDotted(own, field, value);
  const config: JsonObject = spec.base ? { extends: relative(at, spec.base) } : {};
  const noBudgets = { flashBytes: null, ramBytes: null, minAccuracy: null, maxInstructionsPerInference: null, maxLatencyMs: null };
  const merged = mergeOverrides(mergeOverrides(own, spec.fixed), { target: { board: spec.board.name }, budgets: noBudgets });
  if (epochs !== undefined) setDotted(merged, 'training.epochs', epochs);
  return { ...config, ...merged };
}

function sampleCandidates(spec: SearchSpec): Record<string, GridValue>[] {
  const all = cartesian(spec.space);
  if (all.length <= spec.halving.candidates) return all;
  const order = new Rng(spec.halving.seed).permutation(all.length);
  return Array.from(order.slice(0, spec.halving.candidates), (i) => all[i]);
}

/** Epochs per rung: minEpochs * eta^r, the last one exactly maxEpochs. */
export function rungEpochs(minEpochs: number, maxEpochs: number, eta: number): number[] {
  const epochs: number[] = [];
  for (let e = minEpochs; e < maxEpochs; e *= eta) epochs.push(e);
  epochs.push(maxEpochs);
  return epochs;
}

/** The budgets a trained candidate breaks on target (accuracy is judged on the finalists only). */
function measuredProblem(summary: RunSummary, spec: SearchSpec): string | null {
  const over = budgetBreaches(summary, { ...spec.budgets, minAccuracy: null });
  return over.length ? `measured on ${summary.board}: ${over.join(', ')}` : null;
}

const lastValAccuracy = (s: RunSummary) => s.history.at(-1)?.valAccuracy ?? 0;

async function runRung(spec: SearchSpec, dir: string, rung: number, epochs: number, last: boolean, alive: Candidate[], opts: SearchRunOptions) {
  const rungsRoot = join(dir, 'rungs');
  const sweepFile = join(rungsRoot, `rung${rung}.json`);
  const name = `${spec.name}-rung${rung}`;
  writeJsonAtomic(sweepFile, {
    name,
    description: `${spec.description} Successive-halving rung ${rung}: ${alive.length} candidate(s), ${epochs} epoch(s)${last ? ', verified on all test images' : ''}.`,
    configs: alive.map((c) => `../candidates/${c.name}.json`),
    fixed: { training: { epochs }, dataset: { testLimit: last ? null : spec.halving.rungTestImages } },
  });
  log.info(`search ${spec.name}: rung ${rung}, ${alive.length} candidate(s) x ${epochs} epoch(s)`);
  const outcome = await runSweep(sweepFile, { ...opts, resultsRoot: rungsRoot });
  const manifest = readManifest(outcome.dir);
  for (const candidate of alive) {
    const point = manifest.points.find((p) => p.name === candidate.name)!;
    const summary = finishedSummary(outcome.dir, point);
    if (!summary) {
      candidate.dropped = { rung, reason: 'its point failed (see failures.json of the rung)' };
      continue;
    }
    candidate.summary = summary;
    candidate.valAccuracy.push(lastValAccuracy(summary));
    const over = measuredProblem(summary, spec);
    if (over) candidate.dropped = { rung, reason: over };
  }
  return outcome.dir;
}

/** Wall time recorded by the earlier invocations of the same search (0 when there were none). */
function previousSeconds(record: string): number {
  try {
    const total = (JSON.parse(readFileSync(record, 'utf8')) as Partial<SearchOutcome>).totalSeconds;
    return typeof total === 'number' && Number.isFinite(total) ? total : 0;
  } catch {
    return 0;
  }
}

export async function runSearch(file: string, opts: SearchRunOptions = {}): Promise<SearchOutcome> {
  const started = Date.now();
  const spec = readSearchFile(file);
  const dir = resolve(opts.resultsRoot ?? 'results', spec.name);
  const candidatesDir = join(dir, 'candidates');
  mkdirSync(candidatesDir, { recursive: true });

  const candidates: Candidate[] = sampleCandidates(spec).map((values, i) => {
    const labels = Object.entries(values).map(([f, v]) => gridLabel(f, v));
    const name = [`c${String(i).padStart(2, '0')}`, ...labels].join('_').replace(/[^A-Za-z0-9._-]+/g, '-');
    const path = join(candidatesDir, `${name}.json`);
    writeJsonAtomic(path, candidateConfig(spec, values, candidatesDir));
    const bounds = candidateBounds(loadConfig(path), spec.board);
    const problem = boundsProblem(bounds, spec.budgets, spec.board);
    return { name, values, bounds, valAccuracy: [], ...(problem ? { dropped: { rung: -1, reason: problem } } : {}) };
  });
  const rejected = candidates.filter((c) => c.dropped).length;
  log.info(`search ${spec.name}: ${candidates.length} candidate(s), ${rejected} rejected before training by their lower bounds`);

  const epochs = rungEpochs(spec.halving.minEpochs, spec.halving.maxEpochs, spec.halving.eta);
  const rungs: SearchOutcome['rungs'] = [];
  let alive = candidates.filter((c) => !c.dropped);
  let finalDir: string | null = null;
  for (let r = 0; r < epochs.length && alive.length > 0; r++) {
    const last = r === epochs.length - 1;
    rungs.push({ epochs: epochs[r], candidates: alive.map((c) => c.name) });
    const rungDir = await runRung(spec, dir, r, epochs[r], last, alive, opts);
    alive = alive.filter((c) => !c.dropped);
    if (last) {
      finalDir = rungDir;
      break;
    }
    const keep = Math.ceil(alive.length / spec.halving.eta);
    const ranked = [...alive].sort((a, b) => b.valAccuracy.at(-1)! - a.valAccuracy.at(-1)! || a.summary!.flashBytes - b.summary!.flashBytes);
    for (const c of ranked.slice(keep)) c.dropped = { rung: r, reason: `validation accuracy ${(c.valAccuracy.at(-1)! * 100).toFixed(2)}% not in the best ${keep}` };
    alive = ranked.slice(0, keep);
  }

  // Finalists: those of the last rung that meet the accuracy budget too.
  const minAccuracy = spec.budgets.minAccuracy ?? 0;
  for (const c of alive) {
    if (measuredAccuracy(c.summary!) < minAccuracy) {
      c.dropped = { rung: rungs.length - 1, reason: `on-target accuracy ${(measuredAccuracy(c.summary!) * 100).toFixed(2)}% below ${minAccuracy * 100}%` };
    }
  }
  const fitting = alive.filter((c) => !c.dropped);
  const flags = [
    paretoFlags(fitting, { benefit: (c) => measuredAccuracy(c.summary!), cost: (c) => c.summary!.flashBytes }),
    paretoFlags(fitting, { benefit: (c) => measuredAccuracy(c.summary!), cost: (c) => c.summary!.ramBytes }),
    paretoFlags(fitting, { benefit: (c) => measuredAccuracy(c.summary!), cost: (c) => c.summary!.latencyMs }),
  ];
  const pareto = fitting.filter((_, i) => flags.some((f) => f[i])).map((c) => c.name);
  const winner = [...fitting].sort((a, b) => measuredAccuracy(b.summary!) - measuredAccuracy(a.summary!) || a.summary!.flashBytes - b.summary!.flashBytes)[0];

  const baselines = await runBaselines(spec, dir, winner?.summary ?? null, opts);

  const seconds = (Date.now() - started) / 1000;
  const totalSeconds = previousSeconds(join(dir, 'search.json')) + seconds;
  const outcome: SearchOutcome = { dir, candidates, rungs, pareto, winner: winner?.name ?? null, baselines, seconds, totalSeconds };
  if (winner) {
    const config = candidateConfig(spec, winner.values, dir, spec.halving.maxEpochs);
    const { flashBytes, ramBytes, latencyMs, maxInstructionsPerInference, minAccuracy: acc } = spec.budgets;
    writeJsonAtomic(join(dir, 'winner.json'), { description: `Found by \`tinyforge search ${shownPath(spec.file)}\`: ${winner.name}.`, ...config,
      budgets: { flashBytes, ramBytes, maxLatencyMs: latencyMs, maxInstructionsPerInference, minAccuracy: acc } });
  }
  writeJsonAtomic(join(dir, 'search.json'), { ...outcome, search: relative(dir, spec.file), finalRung: finalDir && relative(dir, finalDir) });
  writeFileAtomic(join(dir, 'summary.md'), searchMarkdown(spec, outcome, finalDir && relative(dir, finalDir)));
  log.info(`search ${spec.name}: ${winner ? `winner ${winner.name}` : 'no candidate fits the budgets'}; see ${shownPath(join(dir, 'summary.md'))}`);
  return outcome;
}
