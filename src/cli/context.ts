// What the pipeline commands share: opening a config's output directory, loading the artifacts
// they read (checked to belong to the config), and ending a verification with its exit status.
import { loadConfig, trainingHash } from '../config/load.js';
import type { Config } from '../config/types.js';
import { runPaths, type RunPaths } from '../paths.js';
import type { ValidIr } from '../ir/validate.js';
import { floatAccuracyFor, loadIrFor, trainMetricsFor } from '../pipeline/artifacts.js';
import { formatImportedVerifyReport, importStage, type ImportedVerifyReport } from '../pipeline/imported-stage.js';
import { readTrainMetrics } from '../pipeline/train-stage.js';
import { formatVerifyReport, type VerifyReport } from '../pipeline/verify-stage.js';
import { initBackend } from '../train/backend.js';
import { CorruptModelError, loadModel } from '../train/persist.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { ExitCode, UserError } from '../util/errors.js';
import { lockDirectory } from '../util/lock.js';
import { log, setLogFile } from '../util/log.js';
import { describeBudget } from '../verify/budgets.js';

/**
 * Loads the config, takes the output directory's lock (one tinyforge process per directory; the
 * holder is named if another has it) and starts mirroring the log into the directory.
 */
export function openRun(file: string, command: string): { config: Config; paths: RunPaths } {
  const config = loadConfig(file);
  const paths = runPaths(config.output.dir);
  lockDirectory(paths.root, `\`tinyforge ${command}\``);
  setLogFile(paths.log);
  log.debug(`config ${config.path} -> ${config.output.dir}`);
  // Node's start-up and tinyforge's imports (tfjs among them), before any stage.
  log.debug(`timing: process start to config loaded ${process.uptime().toFixed(2)} s`);
  writeJsonAtomic(paths.resolvedConfig, config);
  return { config, paths };
}

/** The trained model of a config, refusing one trained from different settings. */
export async function trainedModel(config: Config, paths: RunPaths) {
  const metrics = trainMetricsFor(config, paths, readTrainMetrics(paths));
  await initBackend(config.training.backend);
  log.debug(`trained model ${paths.modelDir}: training hash ${trainingHash(config)}`);
  try {
    return { model: await loadModel(paths.modelDir), metrics };
  } catch (err) {
    if (!(err instanceof CorruptModelError)) throw err;
    throw new UserError(`${err.problem}: the trained model is damaged; run \`tinyforge train ${config.path}\` to retrain it`);
  }
}

/** The float accuracy shown beside a verification, when it belongs to the config's model. */
export function floatAccuracyOf(config: Config, paths: RunPaths): number | null {
  return floatAccuracyFor(config, paths, readTrainMetrics(paths));
}

/** The config's IR: imported afresh from its model file, or the quantized one (checked to belong to the config). */
export function irOf(config: Config, paths: RunPaths): ValidIr {
  return config.model.file !== null ? importStage(config, paths) : loadIrFor(config, paths);
}

/** The same as finishVerify for an imported model (bit-exactness and budgets, no accuracy). */
export function finishImportedVerify(report: ImportedVerifyReport, json: boolean | undefined): void {
  console.log(json ? JSON.stringify(report) : formatImportedVerifyReport(report));
  for (const b of report.budgets.filter((x) => !x.ok)) log.error(`budget exceeded: ${describeBudget(b)}`);
  if (report.mismatches > 0) log.error(`${report.mismatches} inputs differ from the int8 reference`);
  if (!report.ok) process.exitCode = ExitCode.verificationFailed;
}

/** Prints the report; a mismatch or an exceeded budget makes the process exit 1. */
export function finishVerify(report: VerifyReport, json: boolean | undefined): void {
  if (json) console.log(JSON.stringify(report));
  else console.log(formatVerifyReport(report));
  const failed = report.budgets.filter((b) => !b.ok);
  for (const b of failed) log.error(`budget exceeded: ${describeBudget(b)}`);
  if (report.mismatches > 0) log.error(`${report.mismatches} images differ from the int8 reference`);
  if (!report.ok) process.exitCode = ExitCode.verificationFailed;
}
