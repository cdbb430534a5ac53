#!/usr/bin/env node
// tinyforge's command line: each command loads a config and runs one stage (or, for `run`, all of
// them). Stages live in src/pipeline; this file only parses options and reports errors.
import { Command } from 'commander';
import { loadConfig, trainingHash } from './config/load.js';
import type { Config } from './config/types.js';
import { writeSchemaFile } from './config/schema-file.js';
import { formatProfile, profileSpec } from './models/profile.js';
import { buildSpec } from './models/zoo.js';
import { runPaths } from './paths.js';
import { evaluateStage, formatEvaluation, quantizeStage } from './pipeline/quantize-stage.js';
import { readTrainMetrics, trainStage } from './pipeline/train-stage.js';
import { generateStage } from './pipeline/generate-stage.js';
import { loadIr } from './ir/io.js';
import { loadModel } from './train/persist.js';
import { initBackend } from './train/backend.js';
import { writeJsonAtomic } from './util/atomic.js';
import { UserError } from './util/errors.js';
import { log, setLogFile, setLogLevel } from './util/log.js';

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
    const { model } = await trainedModel(config, paths);
    const evaluation = evaluateStage(config, paths, model, loadIr(paths.ir));
    console.log(opts.json ? JSON.stringify(evaluation, null, 2) : formatEvaluation(evaluation));
  });

program
  .command('generate')
  .description('write the C99 inference library (model.h, model.c, model_weights.c, kernels) to <out>/c')
  .argument('<config>', 'config file')
  .action((file: string) => {
    const { paths } = openRun(file);
    const lib = generateStage(paths, loadIr(paths.ir));
    console.log(JSON.stringify({ dir: paths.cDir, files: Object.keys(lib.files), arenaBytes: lib.arenaBytes,
      arenaLowerBoundBytes: lib.arenaLowerBoundBytes, weightsBytes: lib.weightsBytes }, null, 2));
  });

program
  .command('schema')
  .description('write the config JSON Schema (for editors) to schema/config.schema.json or a given path')
  .argument('[path]', 'output file')
  .action((path?: string) => {
    console.log(writeSchemaFile(path));
  });

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
