// `tinyforge worker --queue redis://...`: takes sweep points off the queue, one at a time by
// default, and runs each as `tinyforge run` in a child process, exactly as the local pool does. The
// point's folder is <artifacts>/<sweep>/points/<point>/ (shared storage, so every worker and the
// submitter see the same runs, and the model cache <artifacts>/cache/models is shared: a model is
// trained once per training hash). The job's result is the point's summary.
//
// A worker killed outright (kill -9, a lost machine) stops renewing its job's lock; BullMQ's stalled
// check, run by every other worker, puts the job back in the queue after `lockMs`. A worker stopped
// with Ctrl-C or SIGTERM stops its point and hands the job straight back.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { Worker, WaitingError, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { configHash as computeConfigHash, loadConfig } from '../../config/load.js';
import { writeJsonAtomic } from '../../util/atomic.js';
import { log } from '../../util/log.js';
import { childEnvironment } from '../../util/parent.js';
import { summaryFailure, type RunSummary } from '../../pipeline/summary.js';
import { pointPaths } from '../points.js';
import { QUEUE_NAME, checkReachable, redisOptions } from './connection.js';
import { cancelKey, type PointJobData, type PointJobResult } from './jobs.js';

export interface WorkerOptions {
  queue: string;
  /** Overrides the artifacts folder named in each job (where this machine mounts the shared storage). */
  artifacts?: string;
  /** Points run at once by this worker. */
  concurrency: number;
  /** How a point runs; its config path is appended. */
  command: string[];
  /** A job whose worker stops renewing its lock goes back to the queue after this long. */
  lockMs: number;
  /** Stop after this many points (tests); default: run until stopped. */
  maxPoints?: number;
}

/** Tail of a point's log, so a failed job says why without opening the log. */
function logTail(path: string): string {
  if (!existsSync(path)) return '';
  return readFileSync(path, 'utf8').slice(-2000).trimEnd().split('\n').slice(-12).join('\n');
}

/** The point's summary for this config hash, passed or not (null when there is none). */
function summaryOf(path: string, configHash: string): RunSummary | null {
  if (!existsSync(path)) return null;
  try {
    const summary = JSON.parse(readFileSync(path, 'utf8')) as RunSummary;
    return summary.configHash === configHash ? summary : null;
  } catch {
    return null;
  }
}

/** A point is done only when its run passed (bit-exact, every budget met), as in a local sweep. */
function finished(path: string, configHash: string): RunSummary | null {
  const summary = summaryOf(path, configHash);
  return summary && summaryFailure(summary) === null ? summary : null;
}

/** True when the point's config file (the submitter's, on shared storage) already resolves to this hash. */
function sameConfig(path: string, configHash: string): boolean {
  try {
    return existsSync(path) && computeConfigHash(loadConfig(path)) === configHash;
  } catch {
    return false; // e.g. its `extends` is not on this machine: write the resolved config instead
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

interface Running {
  child: ChildProcess;
  stoppedBy?: 'cancel' | 'shutdown';
}

export async function runWorker(opts: WorkerOptions): Promise<{ points: number }> {
  const connection = redisOptions(opts.queue);
  await checkReachable(opts.queue, connection);
  const redis = new Redis(connection);
  const running = new Set<Running>();
  const me = `${hostname()}:${process.pid}`;
  let points = 0;
  let stopping = false;

  async function runPoint(job: Job<PointJobData, PointJobResult>, token?: string): Promise<PointJobResult> {
    const data = job.data;
    const artifacts = opts.artifacts ?? data.artifacts;
    const paths = pointPaths(join(artifacts, data.sweep), data.point);
    const started = Date.now();
    const done = finished(paths.summary, data.configHash);
    if (done) return { summary: done, worker: me, seconds: 0 };

    if (!sameConfig(paths.config, data.configHash)) writeJsonAtomic(paths.config, { ...data.config, output: { dir: paths.runDir } });
    mkdirSync(dirname(paths.workerLog), { recursive: true });
    const fd = openSync(paths.workerLog, 'w');
    let child: ChildProcess;
    try {
      // The point leads its own process group and dies with this worker, even after a kill -9
      // (it watches this process: see util/parent.ts).
      child = spawn(opts.command[0], [...opts.command.slice(1), paths.config], {
        detached: true,
        stdio: ['ignore', fd, fd],
        env: childEnvironment({ ...process.env, TINYFORGE_MODEL_CACHE: process.env.TINYFORGE_MODEL_CACHE ?? join(artifacts, 'cache', 'models') }),
      });
    } finally {
      closeSync(fd);
    }
    const entry: Running = { child };
    running.add(entry);
    log.info(`${data.sweep}/${data.point}: started (job ${job.id})`);
    const cancelPoll = setInterval(() => {
      redis.exists(cancelKey(job.id!)).then((n) => {
        if (n > 0 && !entry.stoppedBy) {
          entry.stoppedBy = 'cancel';
          killGroup(child, 'SIGTERM');
        }
      }, () => {});
    }, 1000);
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: string }>((resolve) => {
      child.on('error', (err) => resolve({ code: null, signal: null, error: err.message }));
      child.on('close', (code, signal) => resolve({ code, signal }));
    });
    clearInterval(cancelPoll);
    running.delete(entry);
    points++;

    if (entry.stoppedBy === 'shutdown') {
      // Hand the point back: another worker (or this one, restarted) runs it.
      await job.moveToWait(token);
      throw new WaitingError();
    }
    const summary = finished(paths.summary, data.configHash);
    const seconds = (Date.now() - started) / 1000;
    if (entry.stoppedBy === 'cancel') throw new Error('cancelled by the submitter (Ctrl-C)');
    if (exit.code === 0 && summary) {
      log.info(`${data.sweep}/${data.point}: done in ${seconds.toFixed(1)} s`);
      return { summary, worker: me, seconds };
    }
    const failed = summaryOf(paths.summary, data.configHash);
    const reason = exit.error
      ? `could not start: ${exit.error}`
      : exit.signal
        ? `killed by ${exit.signal}`
        : failed && summaryFailure(failed)
          ? `verification failed: ${summaryFailure(failed)}`
          : exit.code !== 0
            ? `exited with code ${exit.code}`
            : `exited with code 0 but wrote no run/summary.json with configHash ${data.configHash}`;
    log.error(`${data.sweep}/${data.point}: failed: ${reason}`);
    throw new Error(`${reason} on ${me}\n${logTail(paths.workerLog)}`);
  }

  const worker = new Worker<PointJobData, PointJobResult>(QUEUE_NAME, runPoint, {
    connection,
    concurrency: opts.concurrency,
    lockDuration: opts.lockMs,
    stalledInterval: Math.max(500, Math.floor(opts.lockMs / 2)),
    // A point whose worker died is retried this many times before it is recorded as failed.
    maxStalledCount: 2,
    autorun: false,
  });
  worker.on('error', (err) => log.warn(`worker: ${err.message}`));

  return new Promise((resolve) => {
    const stop = async (why: string) => {
      if (stopping) return;
      stopping = true;
      log.info(`${why}: stopping; running points go back to the queue`);
      for (const entry of running) {
        entry.stoppedBy = 'shutdown';
        killGroup(entry.child, 'SIGTERM');
      }
      await worker.close();
      redis.disconnect();
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
      resolve({ points });
    };
    const onSigint = () => void stop('SIGINT');
    const onSigterm = () => void stop('SIGTERM');
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);
    if (opts.maxPoints !== undefined) {
      worker.on('completed', () => { if (points >= opts.maxPoints!) void stop(`${points} point(s) run`); });
      worker.on('failed', () => { if (points >= opts.maxPoints!) void stop(`${points} point(s) run`); });
    }
    log.info(`worker ${me}: taking points from ${opts.queue} (${opts.concurrency} at a time)`);
    void worker.run();
  });
}
