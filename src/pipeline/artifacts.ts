// The artifacts a stage reads from the output directory, checked to belong to the config it runs
// with. A config edited after a run (or a run killed half-way) leaves the previous model's IR and
// trained model behind; without this check `verify` would verify the old model and pass.
import { existsSync, readFileSync } from 'node:fs';
import { configHash, irHash, trainingHash } from '../config/load.js';
import type { Config } from '../config/types.js';
import { loadIr } from '../ir/io.js';
import type { IrModel } from '../ir/types.js';
import type { RunPaths } from '../paths.js';
import type { TrainMetrics } from '../train/train.js';
import { UserError } from '../util/errors.js';
import type { ValidIr } from '../ir/validate.js';

/** Why `ir` was not made from `config`, or null when it was. */
export function irMismatch(config: Config, ir: IrModel): string | null {
  const md = ir.metadata;
  // IRs written before irHash existed carry only the full config hash.
  const [stored, expected, what] = md.irHash !== undefined
    ? [md.irHash, irHash(config), 'dataset/model/training/quantization settings']
    : [md.configHash, configHash(config), 'config'];
  if (stored === expected) return null;
  return `it was made from config '${md.configName}' (${what} hash ${stored}), but ${config.path} now hashes to ${expected}`;
}

/** The config's IR, refused when it was made from other settings (a stale artifact). */
export function loadIrFor(config: Config, paths: RunPaths): ValidIr {
  if (!existsSync(paths.ir)) {
    throw new UserError(
      `${paths.ir}: no IR yet; run \`tinyforge run ${config.path}\` (or \`tinyforge quantize\`) first`,
      undefined, { file: paths.ir },
    );
  }
  const ir = loadIr(paths.ir);
  const mismatch = irMismatch(config, ir);
  if (mismatch) {
    throw new UserError(
      `${paths.ir} is stale: ${mismatch}. Rebuild it with \`tinyforge run ${config.path}\` ` +
        `(or \`tinyforge train\` then \`tinyforge quantize\`)`,
      undefined, { file: paths.ir, field: ir.metadata.irHash !== undefined ? '/metadata/irHash' : '/metadata/configHash' },
    );
  }
  return ir;
}

/** The training record of the config's trained model, refused when it was trained from other settings. */
export function trainMetricsFor(config: Config, paths: RunPaths, metrics: TrainMetrics | null): TrainMetrics {
  if (!metrics) {
    throw new UserError(`${paths.modelDir}: no trained model; run \`tinyforge train ${config.path}\` first`, undefined, { file: paths.trainMetrics });
  }
  const expected = trainingHash(config);
  if (metrics.trainingHash !== expected) {
    throw new UserError(
      `${paths.trainMetrics}: the trained model is stale: it was trained for config '${metrics.config}' ` +
        `(training hash ${metrics.trainingHash}), but ${config.path} now hashes to ${expected}; ` +
        `run \`tinyforge train ${config.path}\` (or \`tinyforge run\`)`,
      undefined, { file: paths.trainMetrics, field: '/trainingHash' },
    );
  }
  return metrics;
}

/**
 * The float accuracy to show beside a verification: from evaluation.json or metrics.json, only
 * when they belong to this config's model (null otherwise, rather than another model's figure).
 */
export function floatAccuracyFor(config: Config, paths: RunPaths, metrics: TrainMetrics | null): number | null {
  if (existsSync(paths.evaluation)) {
    try {
      const evaluation = JSON.parse(readFileSync(paths.evaluation, 'utf8')) as { irHash?: string; floatAccuracy?: number };
      if (evaluation.irHash === irHash(config) && typeof evaluation.floatAccuracy === 'number') return evaluation.floatAccuracy;
    } catch {
      /* an unreadable evaluation is no evidence; fall through */
    }
  }
  return metrics?.trainingHash === trainingHash(config) ? metrics.floatTestAccuracy : null;
}
