// Train stage: trains the float model, or reuses the one already in the output directory when it
// was trained from the same dataset/model/training sections (same training hash).
import { cpSync, existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type * as tf from '@tensorflow/tfjs';
import { trainingHash } from '../config/load.js';
import type { Config } from '../config/types.js';
import { loadDataset, type Dataset } from '../data/datasets.js';
import type { RunPaths } from '../paths.js';
import { initBackend } from '../train/backend.js';
import { CorruptModelError, loadModel, readModelFiles, saveModel } from '../train/persist.js';
import { trainModel, type EpochRecord, type TrainMetrics } from '../train/train.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { LockedError, lockDirectory } from '../util/lock.js';
import { log } from '../util/log.js';
import { timedAsync } from '../util/timing.js';

export interface TrainStageResult {
  model: tf.LayersModel;
  metrics: TrainMetrics;
  reused: boolean;
  /** The model's class for each test image, when it was trained now (the evaluation takes them). */
  floatTestPredictions?: Uint8Array;
}

export function readTrainMetrics(paths: RunPaths): TrainMetrics | null {
  if (!existsSync(paths.trainMetrics)) return null;
  try {
    return JSON.parse(readFileSync(paths.trainMetrics, 'utf8')) as TrainMetrics;
  } catch {
    return null;
  }
}

/**
 * Trained models are also kept in a cache keyed by the training hash (out/cache/models/<hash>,
 * or $TINYFORGE_MODEL_CACHE), so another output directory with the same dataset/model/training
 * sections (a sweep point, a config that only changes the board) reuses the model instead of
 * training it again.
 */
export function modelCacheDir(hash: string): string {
  return join(process.env.TINYFORGE_MODEL_CACHE ?? join(process.cwd(), 'out', 'cache', 'models'), hash);
}

/**
 * Copies a finished training from one directory to another. metrics.json, which marks a training
 * as complete, is removed first and copied last, each piece through a rename, so an interruption
 * leaves an incomplete directory that is never mistaken for a finished one.
 */
function copyTraining(fromRoot: string, toRoot: string): void {
  rmSync(join(toRoot, 'metrics.json'), { force: true });
  for (const name of ['model', 'history.json', 'metrics.json']) {
    const from = join(fromRoot, name);
    if (!existsSync(from)) continue;
    const to = join(toRoot, name);
    const tmp = `${to}.${process.pid}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    cpSync(from, tmp, { recursive: true });
    rmSync(to, { recursive: true, force: true });
    renameSync(tmp, to);
  }
}

/** The model in `dir` if it loads and its checksum holds; a damaged one is reported (then retrained). */
async function intactModel(dir: string): Promise<tf.LayersModel | null> {
  try {
    return await loadModel(dir);
  } catch (err) {
    if (!(err instanceof CorruptModelError)) throw err;
    log.warn(`${err.problem}: the trained model is damaged, so it is not reused`);
    return null;
  }
}

/** Checks a cache entry before it is copied anywhere; a damaged entry is removed. */
function cachedModelIntact(cached: string): boolean {
  try {
    readModelFiles(join(cached, 'model'));
    return true;
  } catch (err) {
    if (!(err instanceof CorruptModelError)) throw err;
    log.warn(`${err.problem}: the cached model is damaged; removing ${cached}`);
    rmSync(cached, { recursive: true, force: true });
    return false;
  }
}

export async function trainStage(
  config: Config, paths: RunPaths, opts: { force?: boolean; data?: () => Dataset } = {},
): Promise<TrainStageResult> {
  const hash = trainingHash(config);
  const backend = await timedAsync('backend start', () => initBackend(config.training.backend));
  log.info(`backend: ${backend.name} (${backend.detail})`);
  const previous = readTrainMetrics(paths);
  if (!opts.force && previous?.trainingHash === hash && existsSync(paths.modelDir)) {
    const model = await intactModel(paths.modelDir);
    if (model) {
      log.info(`reusing the trained model in ${paths.modelDir} (same training hash ${hash}; --force retrains)`);
      if (!existsSync(join(modelCacheDir(hash), 'metrics.json'))) copyTraining(paths.root, modelCacheDir(hash));
      return { model, metrics: previous, reused: true };
    }
  }
  const cached = modelCacheDir(hash);
  if (!opts.force) {
    const reused = await fromCache(cached, hash, paths);
    if (reused) return reused;
  }
  // One training per hash at a time, across processes and (with a shared cache) machines: a second
  // process waits, then takes the first one's model from the cache.
  const release = await lockCacheEntry(cached, hash);
  try {
    if (!opts.force) {
      const reused = await fromCache(cached, hash, paths);
      if (reused) return reused;
    }
    return await trainAndSave(config, paths, hash, backend.name, opts.data);
  } finally {
    release();
  }
}

async function fromCache(cached: string, hash: string, paths: RunPaths): Promise<TrainStageResult | null> {
  if (!existsSync(join(cached, 'metrics.json'))) return null;
  const metrics = JSON.parse(readFileSync(join(cached, 'metrics.json'), 'utf8')) as TrainMetrics;
  if (metrics.trainingHash !== hash || !cachedModelIntact(cached)) return null;
  log.info(`reusing the trained model from the cache ${cached} (same training hash ${hash}; --force retrains)`);
  copyTraining(cached, paths.root);
  return { model: await loadModel(paths.modelDir), metrics, reused: true };
}

/** How often a process waiting for another's training of the same model looks again. */
const cacheWaitMs = 2000;

async function lockCacheEntry(cached: string, hash: string): Promise<() => void> {
  for (let waited = false; ; waited = true) {
    try {
      return lockDirectory(cached, `training the model with hash ${hash}`);
    } catch (err) {
      if (!(err instanceof LockedError)) throw err;
      if (!waited) log.info(`${err.message}; waiting for it to finish, then reusing its model`);
      await sleep(cacheWaitMs);
    }
  }
}

async function trainAndSave(
  config: Config, paths: RunPaths, hash: string, backendName: TrainMetrics['backend'], data?: () => Dataset,
): Promise<TrainStageResult> {
  // Until the new metrics.json lands, the directory holds no model that claims to be complete.
  rmSync(paths.trainMetrics, { force: true });
  const history: EpochRecord[] = [];
  const result = await trainModel(config, data ? data() : loadDataset(config.dataset), {
    backend: backendName,
    trainingHash: hash,
    onEpoch: (record) => {
      history.push(record);
      writeJsonAtomic(paths.history, history);
    },
  });
  // Model first, metrics last: metrics.json carrying the hash is what marks the model as complete.
  await timedAsync('save the trained model', async () => {
    await saveModel(result.model, paths.modelDir);
    writeJsonAtomic(paths.trainMetrics, result.metrics);
    copyTraining(paths.root, modelCacheDir(hash));
  });
  return { model: result.model, metrics: result.metrics, reused: false, floatTestPredictions: result.testPredictions };
}
