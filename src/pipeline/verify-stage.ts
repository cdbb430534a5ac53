// Build stage: generated C -> firmware for the config's board (.elf/.bin/.hex, sizes).
// Verify stage: run the test set in QEMU, compare every logit with the int8 reference, measure
// instructions per inference, and check the config's budgets.
import type { Config } from '../config/types.js';
import type { GeneratedLibrary } from '../codegen/generate.js';
import { loadDataset, type Dataset } from '../data/datasets.js';
import type { ValidIr } from '../ir/validate.js';
import type { RunPaths } from '../paths.js';
import { evaluateReference, evaluateReferenceAsync, type ReferenceEvaluation } from '../reference/interpreter.js';
import { loadBoard, type Board } from '../toolchain/boards.js';
import { buildFirmware, type BuildResult } from '../toolchain/build.js';
import { buildFootprint, type FootprintResult } from '../toolchain/footprint.js';
import { join, resolve } from 'node:path';
import { layerResources } from '../profile/resources.js';
import { MAX_TIMEOUT_MS, runHarness } from '../toolchain/qemu.js';
import type { FirmwareSizes } from '../toolchain/size.js';
import { writeJsonAtomic } from '../util/atomic.js';
import { replaceDirectory } from '../util/atomic-dir.js';
import { UserError } from '../util/errors.js';
import { log } from '../util/log.js';
import { timed, timedAsync } from '../util/timing.js';
import { checkBudgets, describeBudget, type BudgetCheck } from '../verify/budgets.js';
import { compareLogits, formatMismatches, type Mismatch } from '../verify/compare.js';
import { generateStage } from './generate-stage.js';

export interface BuildStageResult {
  board: Board;
  lib: GeneratedLibrary;
  /** The verification firmware: model + semihosting harness (reads images, writes results). */
  build: BuildResult;
  /** What a product would flash: model + startup + a main calling predict, no stdio. */
  footprint: FootprintResult;
  kernelPath: 'dsp' | 'portable';
}

export async function buildStage(
  config: Config, paths: RunPaths, ir: ValidIr, opts: { target?: 'qemu' | 'hardware'; portable?: boolean; outDir?: string } = {},
): Promise<BuildStageResult> {
  const board = loadBoard(config.target.board);
  const lib = timed('generate C', () => generateStage(config, paths, ir));
  const portable = opts.portable ?? config.target.dsp === 'off';
  const outDir = opts.outDir ?? paths.firmwareDir;
  // Both images are built into a temporary sibling that replaces the folder only when complete:
  // the folder always holds the firmware of one model, never half of a build.
  const { build, footprint } = await replaceDirectory(outDir, async (staged) => {
    const common = { board, modelDir: paths.cDir, optimization: config.target.optimization, portable, target: opts.target ?? 'qemu' } as const;
    const built = await timedAsync('build the harness firmware', () => buildFirmware({ ...common, outDir: staged }));
    const deployable = await timedAsync('build the deployable firmware', () => buildFootprint({ ...common, outDir: join(staged, 'footprint') }));
    return { build: relocated(built, resolve(staged), resolve(outDir)), footprint: relocated(deployable, resolve(staged), resolve(outDir)) };
  }, (entry) => entry === 'hardware'); // `build --hardware`'s own unit, replaced whole by its own builds
  const kernelPath = board.dsp && !portable ? 'dsp' : 'portable';
  const s = build.sizes;
  const f = footprint.sizes;
  log.info(
    `built ${build.elf} for ${board.name} (${kernelPath} kernels): harness firmware flash ${s.flash.used} bytes, ` +
      `RAM ${s.ram.used} bytes; deployable firmware flash ${f.flashBytes} (weights ${f.weightsBytes}, code ${f.codeBytes}), ` +
      `RAM ${f.ramBytes} (arena ${f.arenaBytes}, stack ${f.stackBytes})`,
  );
  return { board, lib, build, footprint, kernelPath };
}

/** The result with its file paths moved from the staging folder to the folder it became. */
function relocated<T extends { elf: string; bin: string; hex: string; map: string; linkerScript: string }>(result: T, from: string, to: string): T {
  const move = (path: string) => (path.startsWith(from) ? to + path.slice(from.length) : path);
  return { ...result, elf: move(result.elf), bin: move(result.bin), hex: move(result.hex), map: move(result.map), linkerScript: move(result.linkerScript) };
}

export interface VerifyReport {
  config: string;
  board: string;
  kernelPath: 'dsp' | 'portable';
  images: number;
  /** On-target accuracy: the firmware's predictions against the labels. */
  accuracy: number;
  referenceAccuracy: number;
  floatAccuracy: number | null;
  mismatches: number;
  firstMismatches: Mismatch[];
  /**
   * Flash of the deployable firmware (text + data): the model, startup code and the libc/libgcc
   * pieces the model needs, as a product would flash it. The budgets are checked against this.
   */
  flashBytes: number;
  /** RAM of the deployable firmware: data + bss (arena, input) + the stack it needs. */
  ramBytes: number;
  weightsBytes: number;
  /** flashBytes - weightsBytes: the runtime code (model code, kernels, startup, libc pieces). */
  codeBytes: number;
  /** The generated model's code alone (model.c + kernels). */
  modelCodeBytes: number;
  /** The stack the deployable firmware reserves: the worst call chain plus an exception frame. */
  stackBytes: number;
  /** The verification firmware (with the semihosting harness and newlib stdio), for reference. */
  harnessFlashBytes: number;
  harnessRamBytes: number;
  arenaBytes: number;
  arenaLowerBoundBytes: number;
  /** Mean over the images; min and max alongside (they differ only by data-dependent paths). */
  instructionsPerInference: number;
  instructionsMin: number;
  instructionsMax: number;
  macs: number;
  instructionsPerMac: number;
  /** At the board's clock, assuming one instruction per cycle. */
  latencyMs: number;
  /** instructions x the board's energy per cycle: an estimate (see the board profile's source). */
  energyMicrojoules: number;
  budgets: BudgetCheck[];
  ok: boolean;
  seconds: number;
  sizes: FirmwareSizes;
}

export interface VerifyOptions {
  /** Verify only the first N test images (default: the whole test set). */
  images?: number;
  /** Per QEMU process; default scales with the image count. */
  timeoutMs?: number;
  /** The float model's test accuracy shown beside the others, or the evaluation that will give it (run). */
  floatAccuracy?: number | null | Promise<number | null>;
  /**
   * The reference's results on the same test set, when the caller has them or is computing them
   * (run: its evaluation, beside this build and QEMU run). Otherwise verify computes them itself,
   * beside the build and QEMU. Compared with the firmware's once both are there.
   */
  reference?: ReferenceEvaluation | Promise<ReferenceEvaluation>;
  /** The config's dataset, when the caller already loaded it. */
  data?: Dataset;
}

/**
 * The QEMU timeout of a verification run (per process) when none is given: generous, since it is
 * there to kill a hung firmware, not to time a slow one. Per image, 50 ms or 20 ns per MAC,
 * whichever is more: QEMU runs roughly 350 million instructions/s here, so the default model
 * (0.5 MMAC, 1.4-5 M instructions) takes 4-15 ms per image, and the Keras CNN (12 MMAC, ~27 M
 * instructions on the M4) about 80 ms against its 240 ms. Each of the two processes runs half
 * the images, which doubles the margin.
 */
export function defaultHarnessTimeoutMs(images: number, macs: number): number {
  return Math.min(MAX_TIMEOUT_MS, Math.ceil(60_000 + images * Math.max(50, macs * 20e-6)));
}

/**
 * How many test images to verify: all, or the first `requested`. Checked before anything is built:
 * a verification of zero (or NaN) images proves nothing and must never pass.
 */
export function verifiedImageCount(requested: number | undefined, available: number, testFile: string): number {
  if (requested !== undefined && (!Number.isSafeInteger(requested) || requested < 1)) {
    throw new UserError(`--images: expected a whole number >= 1, found ${requested}`, undefined, { field: '--images' });
  }
  if (available < 1) throw new UserError(`${testFile}: the test set is empty; nothing to verify`, undefined, { file: testFile });
  if (requested !== undefined && requested > available) {
    throw new UserError(`--images ${requested}: the test set has only ${available} images`, undefined, { field: '--images' });
  }
  return requested ?? available;
}

function checkTimeout(timeoutMs: number | undefined): void {
  if (timeoutMs !== undefined && (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS)) {
    throw new UserError(`--timeout: expected a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}, found ${timeoutMs}`, undefined, { field: '--timeout' });
  }
}

/** Builds the firmware and runs the first `count` test images on the board in QEMU. */
async function runOnTarget(config: Config, paths: RunPaths, ir: ValidIr, images: Uint8Array, count: number, timeoutMs: number | undefined) {
  const built = await buildStage(config, paths, ir);
  const { board, build } = built;
  // From the IR that was built and measured, never from the config (which may describe another model).
  const macs = layerResources(ir).reduce((sum, layer) => sum + layer.macs, 0);
  log.info(`running ${count} test images on ${board.name} in QEMU (${board.qemu.machine})`);
  const results = await timedAsync(`QEMU on ${count} images`, () => runHarness({
    board, elf: build.elf, images, workDir: paths.firmwareDir,
    timeoutMs: timeoutMs ?? defaultHarnessTimeoutMs(count, macs),
  }));
  return { ...built, macs, results };
}

export async function verifyStage(config: Config, paths: RunPaths, ir: ValidIr, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const started = performance.now();
  checkTimeout(opts.timeoutMs);
  const data = opts.data ?? loadDataset(config.dataset);
  const count = verifiedImageCount(opts.images, data.test.count, config.dataset.dir ?? config.dataset.name);
  const images = data.test.images.subarray(0, count * 784);
  const labels = data.test.labels.subarray(0, count);
  // The reference runs on this thread while gcc and QEMU run in their own processes.
  const stopReference = new AbortController();
  const referencing = opts.reference !== undefined
    ? Promise.resolve(opts.reference)
    : timedAsync(`int8 reference on ${count} images`, () => evaluateReferenceAsync(ir, images, labels, stopReference.signal));
  // Awaited only after the firmware side: until then a failure of either must not go unhandled.
  referencing.catch(() => {});
  const onTarget = await runOnTarget(config, paths, ir, images, count, opts.timeoutMs).catch((err: unknown) => {
    stopReference.abort(err);
    throw err;
  });
  const { board, lib, build, footprint, kernelPath, macs } = onTarget;
  // The reference's results for these images: reused from the evaluation when it ran on them.
  const given = await referencing;
  const floatAccuracy = (await opts.floatAccuracy) ?? null;
  const full = given.predictions.length >= count ? given : timed(`int8 reference on ${count} images`, () => evaluateReference(ir, images, labels));
  const reference = { predictions: full.predictions.subarray(0, count), logits: full.logits.subarray(0, count * ir.output.numClasses) };
  let referenceCorrect = 0;
  for (let i = 0; i < count; i++) if (reference.predictions[i] === labels[i]) referenceCorrect++;
  const comparison = compareLogits({ classes: reference.predictions, logits: reference.logits }, onTarget.results, ir.output.numClasses);

  let correct = 0;
  for (let i = 0; i < count; i++) if (onTarget.results.classes[i] === labels[i]) correct++;
  const instructions = Array.from(onTarget.results.instructions);
  const mean = instructions.reduce((a, b) => a + b, 0) / Math.max(count, 1);
  const latencyMs = (mean / board.clockHz) * 1000;
  const s = build.sizes;
  const f = footprint.sizes;
  const accuracy = count ? correct / count : 0;
  const budgets = checkBudgets(config.budgets, {
    flashBytes: f.flashBytes, ramBytes: f.ramBytes, accuracy, instructionsPerInference: mean, latencyMs,
  });
  const report: VerifyReport = {
    config: config.name,
    board: board.name,
    kernelPath,
    images: count,
    accuracy,
    referenceAccuracy: count ? referenceCorrect / count : 0,
    floatAccuracy,
    mismatches: comparison.mismatches,
    firstMismatches: comparison.first,
    flashBytes: f.flashBytes,
    ramBytes: f.ramBytes,
    weightsBytes: f.weightsBytes,
    codeBytes: f.codeBytes,
    modelCodeBytes: f.modelCodeBytes,
    stackBytes: f.stackBytes,
    harnessFlashBytes: s.flash.used,
    harnessRamBytes: s.ram.used,
    arenaBytes: lib.arenaBytes,
    arenaLowerBoundBytes: lib.arenaLowerBoundBytes,
    instructionsPerInference: mean,
    instructionsMin: Math.min(...instructions),
    instructionsMax: Math.max(...instructions),
    macs,
    instructionsPerMac: mean / macs,
    latencyMs,
    energyMicrojoules: (mean * board.energy.picojoulesPerCycle) / 1e6,
    budgets,
    ok: comparison.mismatches === 0 && budgets.every((b) => b.ok),
    seconds: (performance.now() - started) / 1000,
    sizes: s,
  };
  writeJsonAtomic(paths.verifyReport, report);
  if (comparison.mismatches > 0) {
    log.error(`${comparison.mismatches} of ${count} images differ from the int8 reference; the first:\n${formatMismatches(comparison)}`);
  }
  return report;
}

export function formatVerifyReport(r: VerifyReport): string {
  const pct = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(2)}%`);
  return [
    `board:                     ${r.board} (${r.kernelPath} kernels)`,
    `images:                    ${r.images}`,
    `on-target accuracy:        ${pct(r.accuracy)}`,
    `reference accuracy:        ${pct(r.referenceAccuracy)} (int8, TypeScript)`,
    `float accuracy:            ${pct(r.floatAccuracy)}`,
    `bit-exact:                 ${r.mismatches === 0 ? 'yes, every logit equal' : `NO: ${r.mismatches} images differ`}`,
    `flash (deployable):        ${r.flashBytes} bytes = weights ${r.weightsBytes} + code ${r.codeBytes} (model code ${r.modelCodeBytes})`,
    `RAM (deployable):          ${r.ramBytes} bytes (arena ${r.arenaBytes}, lower bound ${r.arenaLowerBoundBytes}; stack ${r.stackBytes})`,
    `verification firmware:     flash ${r.harnessFlashBytes} bytes, RAM ${r.harnessRamBytes} bytes (with the semihosting harness and stdio)`,
    `instructions/inference:    ${Math.round(r.instructionsPerInference)} (min ${r.instructionsMin}, max ${r.instructionsMax})`,
    `instructions/MAC:          ${r.instructionsPerMac.toFixed(2)} (${r.macs} MACs)`,
    `latency at board clock:    ${r.latencyMs.toFixed(3)} ms (1 instruction/cycle)`,
    `energy (estimate):         ${r.energyMicrojoules.toFixed(2)} uJ/inference`,
    `verification took:         ${r.seconds.toFixed(1)} s`,
    ...(r.budgets.length ? ['budgets:', ...r.budgets.map((b) => `  ${describeBudget(b)}`)] : ['budgets:                   none set']),
  ].join('\n');
}
