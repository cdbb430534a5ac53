// The sweep runner: expand the sweep, skip points already finished with the same config hash, run
// the rest in parallel worker processes, record failures, and write the results. Interrupted
// (Ctrl-C, SIGTERM), it stops the workers and writes nothing, so a rerun continues where it left off:
// a point is done exactly when its run/summary.json exists with the point's config hash and says the
// verification passed (`tinyforge run` writes it last). A failed point is retried by the next sweep
// and stays in failures.json until it passes; it is never ranked as a result.
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { packageRoot } from '../paths.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { ExitCode, UserError } from '../util/errors.js';
import { describeOwner, LockedError, lockDirectory, lockHolder } from '../util/lock.js';
import { log } from '../util/log.js';
import { summaryFailure, summaryFromCode } from '../pipeline/summary.js';
import { codeVersion } from '../util/code-version.js';
import { expandSweep, finishedSummary, pointPaths, pointSummary, preparePoints, type SweepPoint } from './points.js';
import { readSweepFile, shownPath } from './sweep-file.js';
import { readFailures } from './results.js';
import { runJobs, type JobExit } from './workers.js';
import { runOnQueue, shownLog, type QueueOutcome, type QueuedPoint } from './queue/submit.js';
import { writeResults } from '../report/write.js';
import { loadConfig } from '../config/load.js';

export interface RunSweepOptions {
  /** Points run at once; default os.availableParallelism(). */
  workers?: number;
  /** How to run one point; the point's config path is appended. Default: `node dist/cli.js run --quiet`. */
  command?: string[];
  /** Expand, check and prepare the point configs, print the plan, run nothing. */
  dryRun?: boolean;
  /** Run only these points (names as printed by --dry-run); the results still cover every finished point. */
  only?: string[];
  /** Where results/<name>/ goes; default `results` in the working directory. */
  resultsRoot?: string;
  /** Run the points on `tinyforge worker`s through this Redis queue instead of local processes. */
  queue?: string;
  /**
   * With `queue`: the folder holding results/<name>/ as the workers see it (shared storage);
   * default the results root, for workers on this machine or with it mounted at the same path.
   */
  artifacts?: string;
  /**
   * Count a passed point as done even when another version of tinyforge produced it (a different
   * code hash, or a summary from before code hashes). By default such a point runs again, so that
   * one results table never mixes figures of two code versions.
   */
  acceptOlderCode?: boolean;
  /**
   * Points run `tinyforge run --reuse-ir`: a point whose IR, training record and evaluation match
   * its config (a committed result, or one of other code) is only regenerated, built and verified.
   */
  reuseIr?: boolean;
}

export type PointStatus = 'skipped' | 'done' | 'failed' | 'planned' | 'not selected';

export interface PointFailure {
  point: string;
  exitCode: number | null;
  signal: string | null;
  reason: string;
  /** Relative to the sweep's results folder. */
  log: string;
  logTail: string;
  finishedAt: string;
}

export interface SweepOutcome {
  /** Absolute path of results/<name>/. */
  dir: string;
  points: { name: string; status: PointStatus }[];
  failures: PointFailure[];
}

/** Exit code of an interrupted sweep, as a shell reports a process ended by SIGINT. */
export const interruptedExitCode = ExitCode.interrupted;

export function defaultPointCommand(): string[] {
  const cli = join(packageRoot(), 'dist', 'cli.js');
  if (!existsSync(cli)) {
    throw new UserError(`${shownPath(cli)}: not found; build tinyforge first (npm run build)`);
  }
  return [process.execPath, cli, 'run', '--quiet'];
}

/** The last lines of a worker log, so failures.json shows the error without opening the log. */
function logTail(path: string, lines = 20): string {
  if (!existsSync(path)) return '';
  const text = readFileSync(path, 'utf8');
  return text.slice(-4000).trimEnd().split('\n').slice(-lines).join('\n');
}

/** Why a point's run did not pass, or null when it did. */
function failureReason(exit: JobExit, point: SweepPoint, sweepDir: string): string | null {
  if (exit.startError) return `could not start: ${exit.startError}`;
  if (exit.signal) return `killed by ${exit.signal}`;
  const summary = pointSummary(sweepDir, point);
  const failed = summary && summaryFailure(summary);
  if (exit.exitCode !== 0) return `exited with code ${exit.exitCode}${failed ? `: ${failed}` : ''}`;
  if (!summary) return `exited with code 0 but wrote no run/summary.json with configHash ${point.configHash}`;
  if (failed) return `exited with code 0 but its summary says the verification failed: ${failed}`;
  return null;
}

function failureOf(exit: JobExit, point: SweepPoint, sweepDir: string): PointFailure | null {
  const paths = pointPaths(sweepDir, point.name);
  const reason = failureReason(exit, point, sweepDir);
  if (reason === null) return null;
  return {
    point: point.name,
    exitCode: exit.exitCode,
    signal: exit.signal,
    reason,
    log: relative(sweepDir, paths.workerLog),
    logTail: logTail(paths.workerLog),
    finishedAt: new Date().toISOString(),
  };
}

/** A point's config as a worker elsewhere needs it: resolved, so it needs none of this machine's files. */
function shippedConfig(sweepDir: string, point: SweepPoint) {
  const { description, dataset, model, training, quantization, target, budgets } = loadConfig(pointPaths(sweepDir, point.name).config);
  return JSON.parse(JSON.stringify({ description, dataset, model, training, quantization, target, budgets }));
}

function queueFailureOf(outcome: QueueOutcome, sweepDir: string): PointFailure | null {
  if (!outcome.failure) return null;
  return {
    point: outcome.name,
    exitCode: null,
    signal: null,
    reason: outcome.failure.reason,
    log: shownLog(sweepDir, outcome.name),
    logTail: outcome.failure.logTail,
    finishedAt: new Date().toISOString(),
  };
}

/**
 * The failures to keep: this sweep's, plus earlier ones of points that did not run this time
 * (not selected with --only) and are still not done. A failure is forgotten only when its point passes.
 */
function keptFailures(dir: string, points: SweepPoint[], ran: Set<string>, fresh: PointFailure[]): PointFailure[] {
  const byName = new Map(points.map((p) => [p.name, p]));
  const earlier = readFailures(dir).filter((f) => {
    const point = byName.get(f.point);
    return point && !ran.has(f.point) && !finishedSummary(dir, point);
  });
  const order = new Map(points.map((p, i) => [p.name, i]));
  return [...earlier, ...fresh].sort((a, b) => order.get(a.point)! - order.get(b.point)!);
}

export async function runSweep(sweepFile: string, options: RunSweepOptions = {}): Promise<SweepOutcome> {
  const workers = options.workers ?? availableParallelism();
  if (!Number.isInteger(workers) || workers < 1) {
    throw new UserError(`--workers: expected a whole number >= 1, found ${workers}`);
  }
  const spec = readSweepFile(sweepFile);
  const dir = resolve(options.resultsRoot ?? 'results', spec.name);
  const planned = expandSweep(spec);
  const names = planned.map((p) => p.name);
  const unknown = (options.only ?? []).filter((name) => !names.includes(name));
  if (unknown.length) {
    throw new UserError(`--only: no point named ${unknown.map((n) => `"${n}"`).join(', ')}; the points are: ${names.join(', ')}`);
  }
  const selected = new Set(options.only ?? names);
  // One sweep per results folder at a time; released on return and on exit.
  const release = lockDirectory(dir, `sweep ${spec.name}`);
  try {
    return await sweepPoints(spec, planned, dir, selected, workers, options);
  } finally {
    release();
  }
}

/** Refuses to start when a live process (a worker of an earlier sweep, say) still holds a point. */
function refuseHeldPoints(dir: string, points: SweepPoint[]): void {
  const held = points.flatMap((p) => {
    const holder = lockHolder(pointPaths(dir, p.name).runDir);
    return holder ? [`${p.name}: ${holder === 'unknown' ? 'held by a process not recorded yet' : describeOwner(holder)}`] : [];
  });
  if (held.length) {
    throw new LockedError(
      `${shownPath(dir)}: ${held.length} point(s) are still being run by another process:\n  ${held.join('\n  ')}\n` +
        'Wait for them to finish or stop them, then run the sweep again.',
      null,
      dir,
    );
  }
}

async function sweepPoints(
  spec: ReturnType<typeof readSweepFile>, planned: ReturnType<typeof expandSweep>, dir: string,
  selected: Set<string>, workers: number, options: RunSweepOptions,
): Promise<SweepOutcome> {
  const manifest = preparePoints(spec, planned, dir);

  const status = new Map<string, PointStatus>();
  const toRun: SweepPoint[] = [];
  const code = codeVersion();
  for (const point of manifest.points) {
    const finished = finishedSummary(dir, point);
    if (finished && (options.acceptOlderCode || summaryFromCode(finished, code))) {
      status.set(point.name, 'skipped');
      log.info(`skip ${point.name}: passed (config hash ${point.configHash})`);
    } else if (finished && selected.has(point.name)) {
      status.set(point.name, options.dryRun ? 'planned' : 'done');
      toRun.push(point);
      log.info(`rerun ${point.name}: it passed with other code (${finished.code?.commit ?? finished.code?.codeHash ?? 'from before code versions were recorded'}; ` +
        `now ${code.commit ?? code.codeHash}); --accept-older-code keeps such results`);
    } else if (!selected.has(point.name)) {
      status.set(point.name, 'not selected');
    } else {
      status.set(point.name, options.dryRun ? 'planned' : 'done');
      toRun.push(point);
    }
  }
  const outcome = (failures: PointFailure[]): SweepOutcome => ({
    dir,
    points: manifest.points.map((p) => ({ name: p.name, status: status.get(p.name)! })),
    failures,
  });

  const base = options.command ?? (options.dryRun || options.queue ? ['tinyforge', 'run', '--quiet'] : defaultPointCommand());
  const command = options.reuseIr ? [...base, '--reuse-ir'] : base;
  refuseHeldPoints(dir, toRun);
  if (options.dryRun) {
    log.info(`sweep ${spec.name}: ${manifest.points.length} point(s), ${toRun.length} to run, ${workers} worker(s); results in ${shownPath(dir)}`);
    for (const point of toRun) log.info(`  would run: ${[...command, pointPaths(dir, point.name).config].join(' ')}`);
    return outcome([]);
  }

  const byName = new Map(manifest.points.map((p) => [p.name, p]));
  const failures: PointFailure[] = [];
  let finished = 0;
  const record = (name: string, failure: PointFailure | null, seconds?: number) => {
    finished++;
    const took = seconds === undefined ? '' : ` after ${seconds.toFixed(1)} s`;
    if (failure) {
      failures.push(failure);
      status.set(name, 'failed');
      log.error(`[${finished}/${toRun.length}] ${name} failed${took}: ${failure.reason} (see ${failure.log})`);
    } else {
      log.info(`[${finished}/${toRun.length}] ${name} done${took}`);
    }
  };
  let interrupted: boolean;
  if (options.queue) {
    const artifacts = resolve(options.artifacts ?? options.resultsRoot ?? 'results');
    log.info(`sweep ${spec.name}: ${toRun.length} of ${manifest.points.length} point(s) to the queue ${options.queue}; artifacts in ${shownPath(artifacts)}`);
    const queued = toRun.map((p): QueuedPoint => ({ point: p, config: shippedConfig(dir, p) }));
    ({ interrupted } = await runOnQueue(options.queue, spec.name, dir, artifacts, queued, (outcome) =>
      record(outcome.name, queueFailureOf(outcome, dir)),
    ));
  } else {
    log.info(`sweep ${spec.name}: running ${toRun.length} of ${manifest.points.length} point(s) with ${Math.min(workers, toRun.length)} worker(s)`);
    const pool = await runJobs(
      command,
      toRun.map((p) => ({ name: p.name, args: [pointPaths(dir, p.name).config], logFile: pointPaths(dir, p.name).workerLog })),
      workers,
      (exit) => record(exit.name, failureOf(exit, byName.get(exit.name)!, dir), exit.seconds),
    );
    interrupted = pool.interrupted;
  }
  if (interrupted) {
    throw new UserError(
      `sweep ${spec.name} interrupted; ${finished} point(s) ended, the others were stopped. ` +
        'Rerun the same command to run what is left.',
      interruptedExitCode,
    );
  }

  const kept = keptFailures(dir, manifest.points, new Set(toRun.map((p) => p.name)), failures);
  for (const f of kept) if (status.get(f.point) === 'not selected') status.set(f.point, 'failed');
  writeJsonAtomic(join(dir, 'failures.json'), kept);
  const written = await writeResults(dir);
  log.info(`results in ${shownPath(dir)}: ${written.map((f) => relative(dir, f)).join(', ')}`);
  if (kept.length) log.error(`${kept.length} point(s) failed: ${kept.map((f) => f.point).join(', ')} (details in ${shownPath(join(dir, 'failures.json'))})`);
  return outcome(kept);
}
