// Train stage: trains the float model, or reuses the one already in the output directory when it
// was trained from the same dataset/model/training sections (same training hash).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import type * as tf from '@tensorflow/tfjs';
import { trainingHash } from '../config/load.js';
import type { Config } from '../config/types.js';
import { loadDataset } from '../data/datasets.js';
import type { RunPaths } from '../paths.js';
import { initBackend } from '../train/backend.js';
import { loadModel, saveModel } from '../train/persist.js';
import { trainModel, type EpochRecord, type TrainMetrics } from '../train/train.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { log } from '../util/log.js';

export interface TrainStageResult {
  model: tf.LayersModel;
  metrics: TrainMetrics;
  reused: boolean;
}

export function readTrainMetrics(paths: RunPaths): TrainMetrics | null {
  if (!existsSync(paths.trainMetrics)) return null;
  try {
    return JSON.parse(readFileSync(paths.trainMetrics, 'utf8')) as TrainMetrics;
  } catch {
    return null;
  }
}

export async function trainStage(config: Config, paths: RunPaths, opts: { force?: boolean } = {}): Promise<TrainStageResult> {
  const hash = trainingHash(config);
  const backend = await initBackend(config.training.backend);
  log.info(`backend: ${backend.name} (${backend.detail})`);
  const previous = readTrainMetrics(paths);
  if (!opts.force && previous?.trainingHash === hash && existsSync(paths.modelDir)) {
    log.info(`reusing the trained model in ${paths.modelDir} (same training hash ${hash}; --force retrains)`);
    return { model: await loadModel(paths.modelDir), metrics: previous, reused: true };
  }
  // Until the new metrics.json lands, the directory holds no model that claims to be complete.
  rmSync(paths.trainMetrics, { force: true });
  const data = loadDataset(config.dataset);
  const history: EpochRecord[] = [];
  const result = await trainModel(config, data, {
    backend: backend.name,
    trainingHash: hash,
    onEpoch: (record) => {
      history.push(record);
      writeJsonAtomic(paths.history, history);
    },
  });
  // Model first, metrics last: metrics.json carrying the hash is what marks the model as complete.
  await saveModel(result.model, paths.modelDir);
  writeJsonAtomic(paths.trainMetrics, result.metrics);
  return { model: result.model, metrics: result.metrics, reused: false };
}
