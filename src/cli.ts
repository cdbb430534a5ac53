#!/usr/bin/env node
// tinyforge's command line: each command loads a config and runs one stage (or, for `run`, all of
// them). Stages live in src/pipeline; this file only parses options and reports errors.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { execa } from 'execa';
import { loadConfig, trainingHash } from './config/load.js';
import { configReferenceMarkdown, writeSchemaFile } from './config/schema-file.js';
import type { Config } from './config/types.js';
import { registerExperimentCommands } from './experiments/cli.js';
import { exportTfliteFile, formatExportReport } from './export/file.js';
import { importTfliteFile } from './import/file.js';
import { registerImportCommands } from './import/cli.js';
import { formatImportSummary, summarizeImport } from './import/summary.js';
import { loadIr } from './ir/io.js';
import { formatProfile, profileSpec } from './models/profile.js';
import { buildSpec } from './models/zoo.js';
import { packageRoot, runPaths } from './paths.js';
import { generateStage } from './pipeline/generate-stage.js';
import { formatImportedVerifyReport, importStage, refuseModelFile, verifyImportedStage, type ImportedVerifyReport } from './pipeline/imported-stage.js';
import { evaluateStage, formatEvaluation, quantizeStage } from './pipeline/quantize-stage.js';
import { runPipeline } from './pipeline/run.js';
import { readTrainMetrics, trainStage } from './pipeline/train-stage.js';
import { buildStage, formatVerifyReport, verifyStage, type VerifyReport } from './pipeline/verify-stage.js';
import { listBoards, loadBoard } from './toolchain/boards.js';
import { flashCommand } from './toolchain/openocd.js';
import { findTool } from './toolchain/tools.js';
import { initBackend } from './train/backend.js';
import { loadModel } from './train/persist.js';
import { writeFileAtomic, writeJsonAtomic } from './util/atomic.js';
import { UserError } from './util/errors.js';
import { log, setLogFile, setLogLevel } from './util/log.js';
import { describeBudget } from './verify/budgets.js';

const program = new Command();
program
  .name('tinyforge')
  .description('JSON config -> trained, int8-quantized, C-generated, QEMU-verified Cortex-M firmware')
  .version('0.1.0')
  .option('-v, --verbose', 'print debug messages')
  .option('-q, --quiet', 'print warnings and errors only')
  .hook('preAction', (cmd) => {
    const opts = cmd.opts();
    setLogLevel(opts.verbose ? 'debug' : opts.quiet ? 'warn' : 'info');
  });

/** The config's IR: imported afresh from its model file, or the one the quantize step wrote. */
function irOf(config: Config, paths: ReturnType<typeof runPaths>) {
  return config.model.file !== null ? importStage(config, paths) : loadIr(paths.ir);
}

/** Loads the config and starts mirroring the log into its output directory. */
function openRun(file: string): { config: Config; paths: ReturnType<typeof runPaths> } {
  const config = loadConfig(file);
  const paths = runPaths(config.output.dir);
  setLogFile(paths.log);
  log.debug(`config ${config.path} -> ${config.output.dir}`);
  writeJsonAtomic(paths.resolvedConfig, config);
  return { config, paths };
}

program
  .command('profile')
  .description('print per-layer output shape, parameters and MACs of the config\'s model')
  .argument('<config>', 'config file')
  .option('--json', 'print the profile as JSON')
  .action((file: string, opts: { json?: boolean }) => {
    const config = loadConfig(file);
    if (config.model.file !== null) {
      const ir = importTfliteFile(config.model.file);
      const summary = summarizeImport(ir);
      console.log(opts.json ? JSON.stringify(summary, null, 2) : formatImportSummary(ir, summary));
      return;
    }
    const profile = profileSpec(buildSpec(config.model));
    if (opts.json) console.log(JSON.stringify(profile, null, 2));
    else console.log(formatProfile(profile, `${config.name}: ${config.model.architecture}`));
  });

program
  .command('train')
  .description('train the float model (reused when the training hash is unchanged)')
  .argument('<config>', 'config file')
  .option('-f, --force', 'retrain even if a model with the same training hash exists')
  .action(async (file: string, opts: { force?: boolean }) => {
    const { config, paths } = openRun(file);
    refuseModelFile(config, 'train');
    const result = await trainStage(config, paths, opts);
    console.log(JSON.stringify(result.metrics, null, 2));
  });

/** The trained model of a config, refusing one trained from different settings. */
async function trainedModel(config: Config, paths: ReturnType<typeof runPaths>) {
  await initBackend(config.training.backend);
  const metrics = readTrainMetrics(paths);
  if (!metrics) throw new UserError(`${paths.modelDir}: no trained model; run \`tinyforge train ${config.path}\` first`);
  if (metrics.trainingHash !== trainingHash(config)) {
    throw new UserError(
      `${paths.trainMetrics}: the trained model comes from different dataset/model/training settings ` +
        `(hash ${metrics.trainingHash}, config has ${trainingHash(config)}); run \`tinyforge train ${config.path}\``,
    );
  }
  return { model: await loadModel(paths.modelDir), metrics };
}

program
  .command('quantize')
  .description('quantize the trained model to int8 and write model.ir.json beside it')
  .argument('<config>', 'config file')
  .action(async (file: string) => {
    const { config, paths } = openRun(file);
    refuseModelFile(config, 'quantize');
    const { model, metrics } = await trainedModel(config, paths);
    quantizeStage(config, paths, model, metrics);
  });

program
  .command('evaluate')
  .description('float vs int8-reference accuracy on the test set, agreement, per-layer quantization error')
  .argument('<config>', 'config file')
  .option('--json', 'print the evaluation as JSON')
  .action(async (file: string, opts: { json?: boolean }) => {
    const { config, paths } = openRun(file);
    refuseModelFile(config, 'evaluate');
    const { model } = await trainedModel(config, paths);
    const { reference: _perImage, ...evaluation } = evaluateStage(config, paths, model, loadIr(paths.ir));
    console.log(opts.json ? JSON.stringify(evaluation, null, 2) : formatEvaluation(evaluation));
  });

program
  .command('generate')
  .description('write the C99 inference library (model.h, model.c, model_weights.c, kernels) to <out>/c')
  .argument('<config>', 'config file')
  .action((file: string) => {
    const { config, paths } = openRun(file);
    const lib = generateStage(paths, irOf(config, paths));
    console.log(JSON.stringify({ dir: paths.cDir, files: Object.keys(lib.files), arenaBytes: lib.arenaBytes,
      arenaLowerBoundBytes: lib.arenaLowerBoundBytes, weightsBytes: lib.weightsBytes }, null, 2));
  });

program
  .command('build')
  .description('generate the C library and build firmware (.elf, .bin, .hex) for the config\'s board')
  .argument('<config>', 'config file')
  .option('--portable', 'force the portable C kernels even on a DSP core')
  .option('--hardware', 'link at the chip\'s own addresses (for flashing) instead of the emulator\'s')
  .action(async (file: string, opts: { portable?: boolean; hardware?: boolean }) => {
    const { config, paths } = openRun(file);
    const { build, footprint, kernelPath } = await buildStage(config, paths, irOf(config, paths), {
      portable: opts.portable || undefined,
      target: opts.hardware ? 'hardware' : 'qemu',
      outDir: opts.hardware ? join(paths.firmwareDir, 'hardware') : undefined,
    });
    const { flash, ram } = build.sizes;
    console.log(JSON.stringify({
      board: build.board.name, kernelPath,
      deployable: { elf: footprint.elf, hex: footprint.hex, ...footprint.sizes },
      verification: { elf: build.elf, bin: build.bin, hex: build.hex, flash, ram },
    }, null, 2));
  });

function floatAccuracyOf(paths: ReturnType<typeof runPaths>): number | null {
  if (existsSync(paths.evaluation)) return JSON.parse(readFileSync(paths.evaluation, 'utf8')).floatAccuracy;
  return readTrainMetrics(paths)?.floatTestAccuracy ?? null;
}

/** Prints the report; a mismatch or an exceeded budget makes the process exit non-zero. */
function finishVerify(report: VerifyReport, json: boolean | undefined): void {
  if (json) console.log(JSON.stringify(report));
  else console.log(formatVerifyReport(report));
  const failed = report.budgets.filter((b) => !b.ok);
  for (const b of failed) log.error(`budget exceeded: ${describeBudget(b)}`);
  if (report.mismatches > 0) log.error(`${report.mismatches} images differ from the int8 reference`);
  if (!report.ok) process.exitCode = 1;
}

function finishImportedVerify(report: ImportedVerifyReport, json: boolean | undefined): void {
  console.log(json ? JSON.stringify(report) : formatImportedVerifyReport(report));
  for (const b of report.budgets.filter((x) => !x.ok)) log.error(`budget exceeded: ${describeBudget(b)}`);
  if (report.mismatches > 0) log.error(`${report.mismatches} inputs differ from the int8 reference`);
  if (!report.ok) process.exitCode = 1;
}

program
  .command('verify')
  .description('run the test set on the board in QEMU: bit-exact check against the int8 reference, sizes, instructions, budgets')
  .argument('<config>', 'config file')
  .option('--json', 'print the report as one JSON object on stdout (for CI)')
  .option('--images <n>', 'verify only the first n test images', (v) => Number.parseInt(v, 10))
  .option('--timeout <ms>', 'kill a QEMU run after this many milliseconds', (v) => Number.parseInt(v, 10))
  .action(async (file: string, opts: { json?: boolean; images?: number; timeout?: number }) => {
    const { config, paths } = openRun(file);
    if (config.model.file !== null) {
      finishImportedVerify(await verifyImportedStage(config, paths, irOf(config, paths), { timeoutMs: opts.timeout }), opts.json);
      return;
    }
    const report = await verifyStage(config, paths, loadIr(paths.ir), {
      images: opts.images, timeoutMs: opts.timeout, floatAccuracy: floatAccuracyOf(paths),
    });
    finishVerify(report, opts.json);
  });

program
  .command('export')
  .description('write the config\'s int8 model (its IR) as a .tflite file for TensorFlow Lite Micro or any other TFLite tool')
  .argument('<config>', 'config file')
  .requiredOption('--tflite <file>', '.tflite file to write')
  .option('--json', 'print the report as JSON')
  .action((file: string, opts: { tflite: string; json?: boolean }) => {
    const { config, paths } = openRun(file);
    const report = exportTfliteFile(irOf(config, paths), config.model.file ?? paths.ir, opts.tflite);
    console.log(opts.json ? JSON.stringify(report, null, 2) : formatExportReport(report));
  });

program
  .command('flash')
  .description('write the deployable firmware (model + startup, linked at the chip\'s addresses) to a connected board with OpenOCD')
  .argument('<config>', 'config file')
  .option('--dry-run', 'print the OpenOCD command instead of running it')
  .action(async (file: string, opts: { dryRun?: boolean }) => {
    const { config, paths } = openRun(file);
    const board = loadBoard(config.target.board);
    const outDir = join(paths.firmwareDir, 'hardware');
    // The deployable image (no semihosting: the harness firmware would stop at its first
    // semihosting call without a debugger attached). A debugger reads footprint_class.
    const hex = join(outDir, 'footprint', 'footprint.hex');
    const command = flashCommand(board, hex);
    if (opts.dryRun) {
      console.log(command.map((a) => (/[\s{}"]/.test(a) ? `'${a}'` : a)).join(' '));
      return;
    }
    await buildStage(config, paths, irOf(config, paths), { target: 'hardware', outDir });
    findTool('openocd');
    await execa(command[0], command.slice(1), { stdio: 'inherit', timeout: 120_000 });
  });

program
  .command('run')
  .description('the main job: train (or reuse), quantize, evaluate, generate, build and verify in QEMU')
  .argument('<config>', 'config file')
  .option('-f, --force', 'retrain even if a model with the same training hash exists')
  .option('--json', 'print the verify report as one JSON object on stdout')
  .option('--images <n>', 'verify only the first n test images', (v) => Number.parseInt(v, 10))
  .option('--timeout <ms>', 'kill a QEMU run after this many milliseconds', (v) => Number.parseInt(v, 10))
  .action(async (file: string, opts: { force?: boolean; json?: boolean; images?: number; timeout?: number }) => {
    const { config, paths } = openRun(file);
    if (config.model.file !== null) {
      log.info('[1/2] import (no training, quantization or evaluation: the model file is already int8)');
      const ir = importStage(config, paths);
      log.info('[2/2] generate C, build firmware, verify in QEMU against the reference');
      finishImportedVerify(await verifyImportedStage(config, paths, ir, { timeoutMs: opts.timeout }), opts.json);
      return;
    }
    const { report } = await runPipeline(config, paths, { force: opts.force, images: opts.images, timeoutMs: opts.timeout });
    finishVerify(report, opts.json);
  });

program
  .command('boards')
  .description('list the board profiles (firmware/boards/*.json)')
  .action(() => {
    for (const name of listBoards()) {
      const b = loadBoard(name);
      console.log(`${name.padEnd(12)} ${b.cpu.padEnd(11)} flash ${String(b.flash.size / 1024).padStart(5)} KB  RAM ${String(b.ram.size / 1024).padStart(5)} KB  ${b.dsp ? 'DSP' : '   '}  qemu ${b.qemu.machine}`);
    }
  });

program
  .command('schema')
  .description('write the config JSON Schema (for editors) to schema/config.schema.json or a given path')
  .argument('[path]', 'output file')
  .option('--markdown', 'write the field reference docs/config.md instead')
  .action((path: string | undefined, opts: { markdown?: boolean }) => {
    if (opts.markdown) {
      const target = path ?? join(packageRoot(), 'docs', 'config.md');
      writeFileAtomic(target, configReferenceMarkdown());
      console.log(target);
    } else {
      console.log(writeSchemaFile(path));
    }
  });

registerExperimentCommands(program);
registerImportCommands(program);

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof UserError) {
      log.error(err.message);
      process.exitCode = err.exitCode;
    } else {
      log.error((err as Error).stack ?? String(err));
      process.exitCode = 1;
    }
  }
}

await main();
