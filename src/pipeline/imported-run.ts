// `tinyforge run` on a config whose model is a .tflite file: import, generate, build, verify, then
// summary.json, the same one-record file a zoo run ends with, so that sweeps, reports and queue
// workers take model-file points as they take zoo ones. There is no float model and no training:
// those figures are null or zero, and the accuracies are null unless the model was verified on a
// labelled dataset (model.verifyOn "dataset").
import { rmSync } from 'node:fs';
import { configHash } from '../config/load.js';
import type { Config } from '../config/types.js';
import type { RunPaths } from '../paths.js';
import { layerResources } from '../profile/resources.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { codeVersion } from '../util/code-version.js';
import { log } from '../util/log.js';
import { verifyMode } from './imported-inputs.js';
import { importStage, verifyImportedStage, type ImportedVerifyReport } from './imported-stage.js';
import { checkToolchain } from './preflight.js';
import { summaryPath } from './run.js';
import { measuredFigures, type RunSummary } from './summary.js';

export async function runImportedPipeline(
  config: Config, paths: RunPaths, opts: { images?: number; timeoutMs?: number } = {},
): Promise<{ summary: RunSummary; report: ImportedVerifyReport }> {
  // As for a zoo run: a stale summary must never make an interrupted run look finished.
  rmSync(summaryPath(paths), { force: true });
  checkToolchain();
  log.info('[1/2] import (no training, quantization or evaluation: the model file is already int8)');
  const ir = importStage(config, paths);
  log.info('[2/2] generate C, build firmware, verify in QEMU against the reference');
  const report = await verifyImportedStage(config, paths, ir, opts);
  const layers = layerResources(ir);
  const deployedParams = layers.reduce((sum, layer) => sum + layer.params, 0);
  const summary: RunSummary = {
    config: config.name,
    configHash: configHash(config),
    description: config.description,
    dataset: verifyMode(config) === 'dataset' ? config.dataset.name : 'none',
    architecture: ir.metadata.architecture,
    source: 'tflite',
    modelFile: { file: report.model, sha256: report.sha256 },
    board: report.board,
    kernelPath: report.kernelPath,
    params: deployedParams,
    deployedParams,
    macs: report.macs,
    floatAccuracy: null,
    int8Accuracy: report.referenceAccuracy,
    onTargetAccuracy: report.accuracy,
    mismatches: report.mismatches,
    testImages: report.count,
    ...measuredFigures(report),
    trainingSeconds: 0,
    samplesPerSecond: 0,
    epochsRun: 0,
    backend: 'none (imported)',
    layers,
    history: [],
    budgets: report.budgets,
    // The reference against model.outputs (another runtime) counts too: report.ok includes it.
    passed: report.ok && report.count > 0,
    code: codeVersion(),
    finishedAt: new Date().toISOString(),
  };
  writeJsonAtomic(summaryPath(paths), summary);
  return { summary, report };
}
