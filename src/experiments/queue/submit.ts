// The submitting side of a queue sweep: enqueue the points that are not finished, wait for the
// workers to run them, and bring each result home. A job is identified by sweep, point and config
// hash, so submitting the same sweep twice (or from two machines) runs each point once: a finished
// job's result is reused, a queued or running one is waited for, and only a failed one is retried.
// Ctrl-C removes the points still queued and asks the workers running the others to stop them.
import { relative } from 'node:path';
import { Queue, QueueEvents, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { writeJsonAtomic } from '../../util/atomic.js';
import { log } from '../../util/log.js';
import { pointPaths, type SweepPoint } from '../points.js';
import type { JsonObject } from '../sweep-file.js';
import { QUEUE_NAME, checkReachable, redisOptions } from './connection.js';
import { cancelKey, pointJobId, type PointJobData, type PointJobResult } from './jobs.js';

export interface QueuedPoint {
  point: SweepPoint;
  /** The point's resolved config, without `extends` and output dir. */
  config: JsonObject;
}

export interface QueueOutcome {
  name: string;
  /** Null when the point finished; else why it failed (first line) and the worker's log tail. */
  failure: { reason: string; logTail: string } | null;
}

/** A cancelled point's stop request outlives any run of it; an hour is plenty. */
const cancelTtlSeconds = 3600;

type PointJob = Job<PointJobData, PointJobResult>;

async function enqueue(queue: Queue<PointJobData, PointJobResult>, redis: Redis, data: PointJobData, id: string): Promise<PointJob> {
  const existing = (await queue.getJob(id)) as PointJob | undefined;
  const state = existing ? await existing.getState() : 'missing';
  if (existing && state !== 'failed' && state !== 'unknown') {
    log.info(`${data.point}: ${state === 'completed' ? 'already run' : `already ${state}`} on the queue (job ${id})`);
    return existing;
  }
  if (existing) await existing.remove();
  await redis.del(cancelKey(id));
  return (await queue.add(data.point, data, { jobId: id, attempts: 1, removeOnComplete: false, removeOnFail: false })) as PointJob;
}

function splitReason(failedReason: string): { reason: string; logTail: string } {
  const [first, ...rest] = failedReason.split('\n');
  return { reason: first, logTail: rest.join('\n') };
}

export async function runOnQueue(
  url: string,
  sweep: string,
  sweepDir: string,
  artifacts: string,
  points: QueuedPoint[],
  onOutcome: (outcome: QueueOutcome) => void,
): Promise<{ interrupted: boolean }> {
  const connection = redisOptions(url);
  await checkReachable(url, connection);
  const queue = new Queue<PointJobData, PointJobResult>(QUEUE_NAME, { connection });
  const events = new QueueEvents(QUEUE_NAME, { connection });
  const redis = new Redis(connection);
  try {
    await events.waitUntilReady();
    const jobs = new Map<string, PointJob>();
    for (const { point, config } of points) {
      const id = pointJobId(sweep, point.name, point.configHash);
      jobs.set(point.name, await enqueue(queue, redis, { sweep, point: point.name, configHash: point.configHash, config, artifacts }, id));
    }
    log.info(`sweep ${sweep}: ${jobs.size} point(s) on ${url}; start workers with \`tinyforge worker --queue ${url}\``);

    let interrupted = false;
    let cancel: () => void = () => {};
    const cancelled = new Promise<void>((resolve) => (cancel = resolve));
    const onSignal = () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      cancel();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const pending = new Set(jobs.keys());
    const waits = [...jobs].map(async ([name, job]) => {
      let outcome: QueueOutcome;
      try {
        const result = await job.waitUntilFinished(events);
        // Shared storage already holds it; a worker with its own storage sends it back only here.
        writeJsonAtomic(pointPaths(sweepDir, name).summary, result.summary);
        outcome = { name, failure: null };
      } catch (err) {
        outcome = { name, failure: splitReason((err as Error).message) };
      }
      pending.delete(name);
      if (!interrupted) onOutcome(outcome);
    });
    await Promise.race([Promise.all(waits), cancelled]);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (interrupted) await cancelPending(redis, [...pending].map((name) => jobs.get(name)!));
    return { interrupted };
  } finally {
    await events.close();
    await queue.close();
    redis.disconnect();
  }
}

/** Removes queued jobs and asks workers to stop running ones; the rerun resubmits both. */
async function cancelPending(redis: Redis, jobs: PointJob[]): Promise<void> {
  for (const job of jobs) {
    const state = await job.getState();
    if (state === 'active') {
      await redis.set(cancelKey(job.id!), '1', 'EX', cancelTtlSeconds);
    } else if (state !== 'completed' && state !== 'failed') {
      await job.remove().catch(() => redis.set(cancelKey(job.id!), '1', 'EX', cancelTtlSeconds));
    }
  }
  log.warn(`sweep interrupted: ${jobs.length} point(s) removed from the queue or stopped; rerun the same command to continue`);
}

export const shownLog = (sweepDir: string, point: string) => relative(sweepDir, pointPaths(sweepDir, point).workerLog);
