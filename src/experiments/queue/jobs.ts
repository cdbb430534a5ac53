// What travels through the queue: one job per sweep point, named by the sweep, the point and the
// point's config hash, so a point is enqueued (and so run) once per config hash whoever submits it.
import type { RunSummary } from '../../pipeline/summary.js';
import type { JsonObject } from '../sweep-file.js';

export interface PointJobData {
  sweep: string;
  point: string;
  configHash: string;
  /** The point's config, resolved (no `extends`): a worker needs no file of the submitter's. */
  config: JsonObject;
  /** Folder holding results/<sweep>/ as workers see it (shared storage): points and model cache. */
  artifacts: string;
}

export interface PointJobResult {
  summary: RunSummary;
  /** Which worker ran it (host name and pid), for the log. */
  worker: string;
  seconds: number;
}

/** BullMQ job ids may not contain ':'; sweep and point names are already folder-safe. */
export function pointJobId(sweep: string, point: string, configHash: string): string {
  return `${sweep}.${point}.${configHash}`.replace(/:/g, '_');
}

/** Redis key a submitter sets to ask the worker running a job to stop it (Ctrl-C). */
export function cancelKey(jobId: string): string {
  return `tinyforge:cancel:${jobId}`;
}
