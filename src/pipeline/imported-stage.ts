// The pipeline for a config whose model is a .tflite file: import (instead of train, quantize
// and evaluate), then generate, build and verify: the firmware's output bytes against the
// reference's on the config's input records, the dataset's test images, or seeded random
// records (model.verifyOn). Only the dataset has labels, so only it gives an accuracy.
import { relative } from 'node:path';
import type { Config } from '../config/types.js';
import { importTfliteFile } from '../import/file.js';
import { formatImportSummary, summarizeImport } from '../import/summary.js';
import { saveIr } from '../ir/io.js';
import type { ValidIr } from '../ir/validate.js';
import type { RunPaths } from '../paths.js';
import { layerResources } from '../profile/resources.js';
import { runHarness } from '../toolchain/qemu.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { UserError } from '../util/errors.js';
import { log } from '../util/log.js';
import { checkBudgets, describeBudget, type BudgetCheck } from '../verify/budgets.js';
import {
  checkExpectedOutputs, compareOutputs, outputRecordBytes, predictedClasses, referenceOutputs, verifyInputs, verifyMode, type OutputComparison,
} from './imported-inputs.js';
import { buildStage, defaultHarnessTimeoutMs } from './verify-stage.js';

/** Refuses the training-side commands (train, quantize, evaluate) for a model-file config. */
export function refuseModelFile(config: Config, command: string): void {
  if (config.model.file === null) return;
  throw new UserError(
    `${config.path}: /model/file: this config compiles a model file, so there is nothing to ${command}; ` +
      'use `tinyforge run` (import, generate, build, verify) or `tinyforge verify`',
  );
}

/** Imports config.model.file and writes it as the run's model.ir.json. */
export function importStage(config: Config, paths: RunPaths): ValidIr {
  const file = config.model.file;
  if (file === null) throw new Error('importStage: the config names no model file');
  const ir = importTfliteFile(file, relative(process.cwd(), file) || file);
  saveIr(paths.ir, ir);
  log.info(formatImportSummary(ir, summarizeImport(ir)));
  return ir;
}

export interface ImportedVerifyReport {
  config: string;
  model: string;
  sha256: string;
  board: string;
  kernelPath: 'dsp' | 'portable';
  /** The config's input file, the dataset, or "random (seed s)". */
  inputs: string;
  count: number;
  /** On-target accuracy against the dataset's labels (verifyOn "dataset"), else null. */
  accuracy: number | null;
  /** The reference's accuracy on the same images (equal to accuracy when bit-exact), else null. */
  referenceAccuracy: number | null;
  /** Inputs whose output bytes differ from the reference's (0 when bit-exact). */
  mismatches: number;
  firstMismatches: OutputComparison['first'];
  /** The reference against model.outputs (another runtime's results), when the config names them. */
  againstExpected: (OutputComparison & { file: string }) | null;
  flashBytes: number;
  ramBytes: number;
  weightsBytes: number;
  codeBytes: number;
  stackBytes: number;
  arenaBytes: number;
  arenaLowerBoundBytes: number;
  instructionsPerInference: number;
  instructionsMin: number;
  instructionsMax: number;
  macs: number;
  instructionsPerMac: number;
  latencyMs: number;
  /** instructions x the board's energy per cycle: an estimate (see the board profile's source). */
  energyMicrojoules: number;
  budgets: BudgetCheck[];
  ok: boolean;
}

export async function verifyImportedStage(
  config: Config, paths: RunPaths, ir: ValidIr, opts: { timeoutMs?: number; images?: number } = {},
): Promise<ImportedVerifyReport> {
  if (config.budgets.minAccuracy !== null && verifyMode(config) !== 'dataset') {
    throw new UserError(
      `${config.path}: /budgets/minAccuracy: a model file verified on ${verifyMode(config)} inputs has no labels to measure accuracy on; ` +
        'set it to null, or verify on the dataset (model.verifyOn "dataset")',
    );
  }
  const records = verifyInputs(config, ir, opts.images);
  const expected = referenceOutputs(ir, records);
  const againstExpected = checkExpectedOutputs(config, ir, records, expected);
  if (againstExpected && againstExpected.mismatches > 0) {
    log.error(`${againstExpected.mismatches} of ${records.count} reference outputs differ from ${againstExpected.file}`);
  }
  const { board, lib, build, footprint, kernelPath } = await buildStage(config, paths, ir);
  const macs = layerResources(ir).reduce((a, l) => a + l.macs, 0);
  log.info(`running ${records.count} inputs (${records.source}) on ${board.name} in QEMU (${board.qemu.machine})`);
  const onTarget = await runHarness({
    board, elf: build.elf, images: records.bytes, imageSize: records.recordBytes, workDir: paths.firmwareDir,
    timeoutMs: opts.timeoutMs ?? defaultHarnessTimeoutMs(records.count, macs),
  });
  const outBytes = outputRecordBytes(ir);
  const actual = new Uint8Array(onTarget.logits.buffer, onTarget.logits.byteOffset, onTarget.logits.length);
  if (actual.length !== expected.length) {
    throw new UserError(`${build.elf}: the firmware returned ${actual.length / records.count} output bytes per input, the model has ${outBytes}`);
  }
  const { mismatches, first: firstMismatches } = compareOutputs(expected, actual, outBytes);
  const accuracyOf = (outputs: Uint8Array): number | null => (records.labels ? agreement(predictedClasses(ir, outputs), records.labels) : null);
  const accuracy = accuracyOf(actual);
  const instructions = Array.from(onTarget.instructions);
  const mean = instructions.reduce((a, b) => a + b, 0) / records.count;
  const latencyMs = (mean / board.clockHz) * 1000;
  const f = footprint.sizes;
  const budgets = checkBudgets(config.budgets, { flashBytes: f.flashBytes, ramBytes: f.ramBytes, accuracy: accuracy ?? 0, instructionsPerInference: mean, latencyMs });
  const report: ImportedVerifyReport = {
    config: config.name,
    model: ir.metadata.source?.file ?? ir.name,
    sha256: ir.metadata.source?.sha256 ?? '',
    board: board.name,
    kernelPath,
    inputs: records.source,
    count: records.count,
    accuracy,
    referenceAccuracy: accuracyOf(expected),
    mismatches,
    firstMismatches,
    againstExpected,
    flashBytes: f.flashBytes,
    ramBytes: f.ramBytes,
    weightsBytes: f.weightsBytes,
    codeBytes: f.codeBytes,
    stackBytes: f.stackBytes,
    arenaBytes: lib.arenaBytes,
    arenaLowerBoundBytes: lib.arenaLowerBoundBytes,
    instructionsPerInference: mean,
    instructionsMin: Math.min(...instructions),
    instructionsMax: Math.max(...instructions),
    macs,
    instructionsPerMac: macs > 0 ? mean / macs : 0,
    latencyMs,
    energyMicrojoules: (mean * board.energy.picojoulesPerCycle) / 1e6,
    budgets,
    ok: mismatches === 0 && (againstExpected?.mismatches ?? 0) === 0 && budgets.every((b) => b.ok),
  };
  writeJsonAtomic(paths.verifyReport, report);
  return report;
}

const pct = (x: number): string => `${(x * 100).toFixed(2)}%`;

/** The fraction of predictions equal to their label. */
function agreement(predicted: Uint8Array, labels: Uint8Array): number {
  return predicted.reduce((n, c, i) => n + (c === labels[i] ? 1 : 0), 0) / Math.max(labels.length, 1);
}

export function formatImportedVerifyReport(r: ImportedVerifyReport): string {
  return [
    `model:                     ${r.model} (sha256 ${r.sha256.slice(0, 16)}...)`,
    `board:                     ${r.board} (${r.kernelPath} kernels)`,
    `inputs:                    ${r.count} (${r.inputs})`,
    ...(r.accuracy !== null && r.referenceAccuracy !== null
      ? [`on-target accuracy:        ${pct(r.accuracy)}`, `reference accuracy:        ${pct(r.referenceAccuracy)} (int8, TypeScript)`]
      : []),
    ...(r.againstExpected
      ? [`reference vs expected:     ${r.againstExpected.mismatches === 0 ? `every output byte equal to ${r.againstExpected.file}` : `NO: ${r.againstExpected.mismatches} inputs differ from ${r.againstExpected.file}`}`]
      : []),
    `bit-exact:                 ${r.mismatches === 0 ? 'yes, every output byte equal to the reference' : `NO: ${r.mismatches} inputs differ`}`,
    ...r.firstMismatches.slice(0, 5).map(
      (m) => `  input ${m.input}: ${m.differingBytes} bytes differ; from byte ${m.firstByte}: [${m.actual.join(', ')}] vs reference [${m.expected.join(', ')}]`,
    ),
    `flash (deployable):        ${r.flashBytes} bytes = weights ${r.weightsBytes} + code ${r.codeBytes}`,
    `RAM (deployable):          ${r.ramBytes} bytes (arena ${r.arenaBytes}, stack ${r.stackBytes})`,
    `instructions/inference:    ${Math.round(r.instructionsPerInference)} (min ${r.instructionsMin}, max ${r.instructionsMax})`,
    `instructions/MAC:          ${r.instructionsPerMac.toFixed(2)} (${r.macs} MACs)`,
    `latency at board clock:    ${r.latencyMs.toFixed(3)} ms (1 instruction/cycle)`,
    ...(r.budgets.length ? ['budgets:', ...r.budgets.map((b) => `  ${describeBudget(b)}`)] : ['budgets:                   none set']),
  ].join('\n');
}
