// `run --reuse-ir`: the model an earlier run of the same config trained and quantized, taken as it
// is so that only generate, build and verify run again (new kernels, a new board profile). Sweeps
// use it to re-measure committed points, whose IRs and training records are in results/ while
// their trained tfjs models are not. Nothing stale is ever reused: the IR must match the config
// (irHash), the training record its training hash, and the evaluation that IR.
import { existsSync, readFileSync } from 'node:fs';
import { trainingHash } from '../config/load.js';
import type { Config } from '../config/types.js';
import type { ValidIr } from '../ir/validate.js';
import type { RunPaths } from '../paths.js';
import type { TrainMetrics } from '../train/train.js';
import { log } from '../util/log.js';
import { irMismatch } from './artifacts.js';
import { loadIr } from '../ir/io.js';
import type { Evaluation } from './quantize-stage.js';

export interface KeptModel {
  ir: ValidIr;
  metrics: TrainMetrics;
  evaluation: Evaluation;
}

const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

/** The kept model, or null (with the reason logged) when the pipeline has to train and quantize. */
export function keptModel(config: Config, paths: RunPaths): KeptModel | null {
  const reject = (why: string) => {
    log.info(`--reuse-ir: not reusing the earlier model: ${why}; training and quantizing`);
    return null;
  };
  const missing = [paths.ir, paths.trainMetrics, paths.evaluation].find((path) => !existsSync(path));
  if (missing) return reject(`${missing} is missing`);
  try {
    const ir = loadIr(paths.ir);
    const mismatch = irMismatch(config, ir);
    if (mismatch) return reject(`${paths.ir} is stale: ${mismatch}`);
    const metrics = readJson<TrainMetrics>(paths.trainMetrics);
    if (metrics.trainingHash !== trainingHash(config)) return reject(`${paths.trainMetrics} belongs to training hash ${metrics.trainingHash}`);
    const evaluation = readJson<Evaluation>(paths.evaluation);
    if (evaluation.irHash && evaluation.irHash !== ir.metadata.irHash) return reject(`${paths.evaluation} was measured on another IR`);
    return { ir, metrics, evaluation };
  } catch (err) {
    return reject((err as Error).message);
  }
}
