// `tinyforge run`: the whole pipeline for one config (train or reuse, quantize, evaluate,
// generate, build, verify) ending in summary.json, the record experiments and reports read.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { configHash } from '../config/load.js';
import { loadDataset, type Dataset } from '../data/datasets.js';
import type { Config } from '../config/types.js';
import type { RunPaths } from '../paths.js';
import { layerResources } from '../profile/resources.js';
import type { EpochRecord } from '../train/train.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { log } from '../util/log.js';
import { checkBoardFit, checkToolchain } from './preflight.js';
import { evaluateStage, quantizeStage } from './quantize-stage.js';
import { measuredFigures, type RunSummary } from './summary.js';
import { trainStage } from './train-stage.js';
import { verifiedImageCount, verifyStage, type VerifyOptions, type VerifyReport } from './verify-stage.js';

export const summaryPath = (paths: RunPaths) => `${paths.root}/summary.json`;

export interface RunOptions extends VerifyOptions {
  force?: boolean;
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
  const dataset = () => (data ??= loadDataset(config.dataset));
  // --images beyond the test set is an error found now, not after training.
  if (opts.images !== undefined) verifiedImageCount(opts.images, dataset().test.count, config.dataset.dir ?? config.dataset.name);
  const trained = await trainStage(config, paths, { force: opts.force, data: dataset });
  step(2, 'quantize');
  const ir = quantizeStage(config, paths, trained.model, trained.metrics, dataset());
  step(3, 'evaluate (float vs int8 reference)');
  const evaluation = evaluateStage(config, paths, trained.model, ir, dataset());
  log.info(`int8 reference ${(evaluation.int8Accuracy * 100).toFixed(2)}%, float ${(evaluation.floatAccuracy * 100).toFixed(2)}%`);
  step(4, 'generate C and build firmware; 5: verify in QEMU');
  const report = await verifyStage(config, paths, ir, { ...opts, floatAccuracy: evaluation.floatAccuracy, reference: evaluation.reference, data: dataset() });
  step(5, `verified ${report.images} images on ${report.board}`);

  const history: EpochRecord[] = existsSync(paths.history) ? JSON.parse(readFileSync(paths.history, 'utf8')) : [];
  const m = trained.metrics;
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
    int8Accuracy: evaluation.int8Accuracy,
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
    finishedAt: new Date().toISOString(),
  };
  writeJsonAtomic(summaryPath(paths), summary);
  return { summary, report };
}
