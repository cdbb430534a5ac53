// `tinyforge run`: the whole pipeline for one config (train or reuse, quantize, evaluate,
// generate, build, verify) ending in summary.json, the record experiments and reports read.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { configHash } from '../config/load.js';
import { loadDataset, type Dataset } from '../data/datasets.js';
import type { Config } from '../config/types.js';
import type { RunPaths } from '../paths.js';
import { layerResources } from '../profile/resources.js';
import type { EpochRecord, TrainMetrics } from '../train/train.js';
import type { ValidIr } from '../ir/validate.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { codeVersion } from '../util/code-version.js';
import { log } from '../util/log.js';
import { timed } from '../util/timing.js';
import { checkBoardFit, checkToolchain } from './preflight.js';
import { evaluateStage, quantizeStage } from './quantize-stage.js';
import { measuredFigures, type RunSummary } from './summary.js';
import { trainStage } from './train-stage.js';
import { keptModel, type KeptModel } from './kept-model.js';
import { verifiedImageCount, verifyStage, type VerifyOptions, type VerifyReport } from './verify-stage.js';

export const summaryPath = (paths: RunPaths) => `${paths.root}/summary.json`;

export interface RunOptions extends VerifyOptions {
  force?: boolean;
  /** Take the IR, training record and evaluation an earlier run of this config left (kept-model.ts). */
  reuseIr?: boolean;
}

type Step = (n: number, what: string) => void;

/**
 * A reused evaluation's int8 accuracy, checked against the reference verify just ran: the same IR
 * gives the same reference results unless the reference interpreter changed, and then today's counts.
 */
function int8AccuracyNow(evaluation: { int8Accuracy: number; testImages: number }, report: VerifyReport): number {
  if (report.images !== evaluation.testImages) return evaluation.int8Accuracy;
  if (report.referenceAccuracy !== evaluation.int8Accuracy) {
    log.warn(`the int8 reference now scores ${report.referenceAccuracy} on this IR, the earlier evaluation ${evaluation.int8Accuracy}: the summary takes today's`);
  }
  return report.referenceAccuracy;
}

async function trainAndQuantize(config: Config, paths: RunPaths, opts: RunOptions, dataset: () => Dataset, step: Step) {
  const trained = await trainStage(config, paths, { force: opts.force, data: dataset });
  step(2, 'quantize');
  const ir = quantizeStage(config, paths, trained.model, trained.metrics, dataset());
  return { ir, trained };
}

/** A promise whose rejection is handled later (or never needed): never an unhandled rejection. */
function handledLater<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

type Evaluated = Awaited<ReturnType<typeof evaluateStage>>;

function logEvaluation(evaluation: { int8Accuracy: number; floatAccuracy: number }): void {
  log.info(`int8 reference ${(evaluation.int8Accuracy * 100).toFixed(2)}%, float ${(evaluation.floatAccuracy * 100).toFixed(2)}%`);
}

/**
 * Steps 3-5 for a model quantized now: the evaluation (float and int8 reference on the test set)
 * runs on this thread while the firmware is built and run in QEMU in child processes; verify
 * compares the firmware's logits with the reference's once both are there. When the firmware
 * side fails, the evaluation is stopped and that failure reported.
 */
async function evaluateAndVerify(
  config: Config, paths: RunPaths, opts: RunOptions, quantized: Awaited<ReturnType<typeof trainAndQuantize>>, data: Dataset, step: Step,
): Promise<{ ir: ValidIr; metrics: TrainMetrics; evaluation: Evaluated; report: VerifyReport }> {
  const { ir, trained } = quantized;
  step(3, 'evaluate (float vs int8 reference), beside steps 4 and 5');
  const stopEvaluation = new AbortController();
  const evaluating = handledLater(evaluateStage(config, paths, trained.model, ir, data, {
    floatPredictions: trained.floatTestPredictions, signal: stopEvaluation.signal,
  }).then((evaluation) => {
    logEvaluation(evaluation);
    return evaluation;
  }));
  step(4, 'generate C and build firmware; 5: verify in QEMU');
  try {
    const report = await verifyStage(config, paths, ir, {
      ...opts, data,
      floatAccuracy: handledLater(evaluating.then((e) => e.floatAccuracy)),
      reference: handledLater(evaluating.then((e) => e.reference)),
    });
    return { ir, metrics: trained.metrics, evaluation: await evaluating, report };
  } catch (err) {
    stopEvaluation.abort(err);
    throw err;
  }
}

/** Steps 2-5 for --reuse-ir: the kept IR and evaluation; verify computes the reference itself. */
async function reuseAndVerify(config: Config, paths: RunPaths, opts: RunOptions, kept: KeptModel, data: Dataset, step: Step) {
  log.info(`--reuse-ir: reusing the IR, training record and evaluation an earlier run left (trained on ${kept.metrics.backend})`);
  step(2, 'quantize: reused');
  step(3, 'evaluate: reused');
  logEvaluation(kept.evaluation);
  step(4, 'generate C and build firmware; 5: verify in QEMU');
  const report = await verifyStage(config, paths, kept.ir, { ...opts, floatAccuracy: kept.evaluation.floatAccuracy, data });
  return { ir: kept.ir, metrics: kept.metrics, evaluation: kept.evaluation, report };
}

export async function runPipeline(config: Config, paths: RunPaths, opts: RunOptions = {}): Promise<{ summary: RunSummary; report: VerifyReport }> {
  // The summary marks a finished run (passed or failed: see summaryPassed): remove a stale one first
  // so an interrupted run never looks finished.
  rmSync(summaryPath(paths), { force: true });
  // Minutes of training must not come before a missing tool or a model that cannot fit the board.
  checkToolchain();
  checkBoardFit(config);
  const step = (n: number, what: string) => log.info(`[${n}/5] ${what}`);
  step(1, 'train');
  // The IDX files are read and checked once per run, and only if some stage needs them.
  let data: Dataset | undefined;
  const dataset = () => (data ??= timed('load the dataset', () => loadDataset(config.dataset)));
  // --images beyond the test set is an error found now, not after training.
  if (opts.images !== undefined) verifiedImageCount(opts.images, dataset().test.count, config.dataset.dir ?? config.dataset.name);
  const kept = opts.reuseIr && !opts.force ? keptModel(config, paths) : null;
  const { ir, metrics: m, evaluation, report } = kept
    ? await reuseAndVerify(config, paths, opts, kept, dataset(), step)
    : await evaluateAndVerify(config, paths, opts, await trainAndQuantize(config, paths, opts, dataset, step), dataset(), step);
  step(5, `verified ${report.images} images on ${report.board}`);

  const history: EpochRecord[] = existsSync(paths.history) ? JSON.parse(readFileSync(paths.history, 'utf8')) : [];
  const layers = layerResources(ir);
  const summary: RunSummary = {
    config: config.name,
    configHash: configHash(config),
    description: config.description,
    dataset: config.dataset.name,
    architecture: config.model.architecture,
    board: report.board,
    kernelPath: report.kernelPath,
    params: m.params,
    // Measured on the IR that was verified (batch norm folded), like macs.
    deployedParams: layers.reduce((sum, layer) => sum + layer.params, 0),
    macs: report.macs,
    floatAccuracy: evaluation.floatAccuracy,
    int8Accuracy: kept ? int8AccuracyNow(evaluation, report) : evaluation.int8Accuracy,
    onTargetAccuracy: report.accuracy,
    mismatches: report.mismatches,
    testImages: report.images,
    ...measuredFigures(report),
    trainingSeconds: m.trainingSeconds,
    samplesPerSecond: m.samplesPerSecond,
    epochsRun: m.epochsRun,
    backend: m.backend,
    layers,
    history: history.map(({ epoch, loss, accuracy, valLoss, valAccuracy }) => ({ epoch, loss, accuracy, valLoss, valAccuracy })),
    budgets: report.budgets,
    passed: report.ok && report.images > 0,
    ...(kept ? { reusedIr: true } : {}),
    code: codeVersion(),
    finishedAt: new Date().toISOString(),
  };
  writeJsonAtomic(summaryPath(paths), summary);
  return { summary, report };
}
