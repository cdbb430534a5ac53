#!/usr/bin/env node
// tinyforge's command line: each command loads a config and runs one stage (or, for `run`, all of
// them). Stages live in src/pipeline; option parsers in src/cli/options.ts; every outcome becomes
// an exit status in src/cli/exit.ts (the table: docs/exit-codes.md).
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { finishImportedVerify, floatAccuracyOf, finishVerify, irOf, openRun, trainedModel } from './cli/context.js';
import { jsonRequested, printJsonError, reportError } from './cli/exit.js';
import { flashConfig } from './cli/flash.js';
import { imageCount, timeoutMs } from './cli/options.js';
import { loadConfig } from './config/load.js';
import { configReferenceMarkdown, writeSchemaFile } from './config/schema-file.js';
import { registerExperimentCommands } from './experiments/cli.js';
import { exportTfliteFile, formatExportReport } from './export/file.js';
import { importTfliteFile } from './import/file.js';
import { registerImportCommands } from './import/cli.js';
import { formatImportSummary, summarizeImport } from './import/summary.js';
import { formatProfile, profileSpec } from './models/profile.js';
import { buildSpec } from './models/zoo.js';
import { packageRoot } from './paths.js';
import { PACKAGE_KINDS, parsePackageKinds } from './codegen/packages.js';
import { loadIrFor } from './pipeline/artifacts.js';
import { generateStage } from './pipeline/generate-stage.js';
import { refuseModelFile, verifyImportedStage } from './pipeline/imported-stage.js';
import { checkBoardFit } from './pipeline/preflight.js';
import { evaluateStage, formatEvaluation, quantizeStage } from './pipeline/quantize-stage.js';
import { runPipeline } from './pipeline/run.js';
import { runImportedPipeline } from './pipeline/imported-run.js';
import { trainStage } from './pipeline/train-stage.js';
import { buildStage, verifyStage } from './pipeline/verify-stage.js';
import { listBoards, loadBoard } from './toolchain/boards.js';
import { writeFileAtomic } from './util/atomic.js';
import { ExitCode, UserError } from './util/errors.js';
import { log, setLogLevel } from './util/log.js';
import { exitWithParent } from './util/parent.js';

const json = jsonRequested(process.argv);

/** Ctrl-C: say so (and with --json, in one JSON object), and exit 130. The sweep handles its own. */
function exitOnInterrupt(): void {
  process.once('SIGINT', () => {
    log.error('interrupted');
    if (json) printJsonError({ code: ExitCode.interrupted, message: 'interrupted', file: null, field: null });
    process.exit(ExitCode.interrupted);
  });
}

const program = new Command();
program
  .name('tinyforge')
  .description('JSON config -> trained, int8-quantized, C-generated, QEMU-verified Cortex-M firmware')
  .version('0.1.0')
  .option('-v, --verbose', 'print debug messages')
  .option('-q, --quiet', 'print warnings and errors only')
  // Usage errors are thrown and reported like every other error (exit 2, one line, --json aware).
  .exitOverride()
  .configureOutput({ outputError: () => {} })
  .hook('preAction', (cmd, action) => {
    const opts = cmd.opts();
    setLogLevel(opts.verbose ? 'debug' : opts.quiet ? 'warn' : 'info');
    if (action.name() !== 'sweep') exitOnInterrupt();
  });

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
    const { config, paths } = openRun(file, 'train');
    refuseModelFile(config, 'train');
    // Training alone needs no board, but a float model that can never be deployed is worth a word first.
    try {
      checkBoardFit(config);
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      log.warn(err.message);
    }
    const result = await trainStage(config, paths, opts);
    console.log(JSON.stringify(result.metrics, null, 2));
  });

program
  .command('quantize')
  .description('quantize the trained model to int8 and write model.ir.json beside it')
  .argument('<config>', 'config file')
  .action(async (file: string) => {
    const { config, paths } = openRun(file, 'quantize');
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
    const { config, paths } = openRun(file, 'evaluate');
    refuseModelFile(config, 'evaluate');
    const ir = loadIrFor(config, paths);
    const { model } = await trainedModel(config, paths);
    const { reference: _perImage, ...evaluation } = await evaluateStage(config, paths, model, ir);
    console.log(opts.json ? JSON.stringify(evaluation, null, 2) : formatEvaluation(evaluation));
  });

program
  .command('generate')
  .description('write the C99 inference library (<prefix>.h, <prefix>.c, <prefix>_weights.c, kernels) to <out>/c, and package forms')
  .argument('<config>', 'config file')
  .option('--package <kinds>', `also write these package forms to <out>/packages/<kind>/, comma-separated: ${PACKAGE_KINDS.join(', ')} (adds to codegen.package)`)
  .action((file: string, opts: { package?: string }) => {
    const { config, paths } = openRun(file, 'generate');
    const lib = generateStage(config, paths, irOf(config, paths), { packages: parsePackageKinds(opts.package) });
    console.log(JSON.stringify({ dir: paths.cDir, prefix: lib.prefix, files: Object.keys(lib.files), arenaBytes: lib.arenaBytes,
      arenaLowerBoundBytes: lib.arenaLowerBoundBytes, weightsBytes: lib.weightsBytes, packages: lib.packages }, null, 2));
  });

program
  .command('build')
  .description('generate the C library and build firmware (.elf, .bin, .hex) for the config\'s board')
  .argument('<config>', 'config file')
  .option('--portable', 'force the portable C kernels even on a DSP core')
  .option('--hardware', 'link at the chip\'s own addresses (for flashing) instead of the emulator\'s')
  .action(async (file: string, opts: { portable?: boolean; hardware?: boolean }) => {
    const { config, paths } = openRun(file, 'build');
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

program
  .command('verify')
  .description('run the test set on the board in QEMU: bit-exact check against the int8 reference, sizes, instructions, budgets')
  .argument('<config>', 'config file')
  .option('--json', 'print one JSON object on stdout (the report, or {ok: false, error}) for CI')
  .option('--images <n>', 'verify only the first n test images (n >= 1)', imageCount)
  .option('--timeout <ms>', 'kill a QEMU run after this many milliseconds (>= 1)', timeoutMs)
  .action(async (file: string, opts: { json?: boolean; images?: number; timeout?: number }) => {
    const { config, paths } = openRun(file, 'verify');
    if (config.model.file !== null) {
      finishImportedVerify(await verifyImportedStage(config, paths, irOf(config, paths), { timeoutMs: opts.timeout, images: opts.images }), opts.json);
      return;
    }
    const report = await verifyStage(config, paths, loadIrFor(config, paths), {
      images: opts.images, timeoutMs: opts.timeout, floatAccuracy: floatAccuracyOf(config, paths),
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
    const { config, paths } = openRun(file, 'export');
    const report = exportTfliteFile(irOf(config, paths), config.model.file ?? paths.ir, opts.tflite);
    console.log(opts.json ? JSON.stringify(report, null, 2) : formatExportReport(report));
  });

program
  .command('flash')
  .description('write the deployable firmware (model + startup, linked at the chip\'s addresses) to a connected board with OpenOCD')
  .argument('<config>', 'config file')
  .option('--dry-run', 'print the OpenOCD command instead of running it')
  .action(flashConfig);

program
  .command('run')
  .description('the main job: train (or reuse), quantize, evaluate, generate, build and verify in QEMU')
  .argument('<config>', 'config file')
  .option('-f, --force', 'retrain even if a model with the same training hash exists')
  .option('--reuse-ir', "take the IR, training record and evaluation an earlier run of this config left, when they match it: only generate, build and verify run")
  .option('--json', 'print one JSON object on stdout (the verify report, or {ok: false, error})')
  .option('--images <n>', 'verify only the first n test images (n >= 1)', imageCount)
  .option('--timeout <ms>', 'kill a QEMU run after this many milliseconds (>= 1)', timeoutMs)
  .action(async (file: string, opts: { force?: boolean; reuseIr?: boolean; json?: boolean; images?: number; timeout?: number }) => {
    const { config, paths } = openRun(file, 'run');
    if (config.model.file !== null) {
      const { report } = await runImportedPipeline(config, paths, { timeoutMs: opts.timeout, images: opts.images });
      finishImportedVerify(report, opts.json);
      return;
    }
    const { report } = await runPipeline(config, paths, { force: opts.force, reuseIr: opts.reuseIr, images: opts.images, timeoutMs: opts.timeout });
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

/** An error outside the command's promise chain (an emitter's 'error', a stray rejection) ends the same way. */
function exitOnStrayError(err: unknown): void {
  process.exitCode = reportError(err, json);
  process.exit();
}

async function main(): Promise<void> {
  exitWithParent();
  process.on('uncaughtException', exitOnStrayError);
  process.on('unhandledRejection', exitOnStrayError);
  try {
    exitWithParent();
    await program.parseAsync(process.argv);
  } catch (err) {
    // --help and --version end through exitOverride too, with status 0.
    process.exitCode = err instanceof CommanderError && err.exitCode === 0 ? ExitCode.passed : reportError(err, json);
  }
}

await main();
