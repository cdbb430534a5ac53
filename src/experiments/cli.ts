// The `sweep`, `search`, `worker` and `report` commands; src/cli.ts calls registerExperimentCommands(program).
import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { writeResults } from '../report/write.js';
import { wholeNumber, workerCount } from '../cli/options.js';
import { ExitCode, UserError } from '../util/errors.js';
import { lockDirectory } from '../util/lock.js';
import { log } from '../util/log.js';
import { readManifest } from './points.js';
import { defaultPointCommand, runSweep } from './runner.js';
import { runWorker } from './queue/worker.js';
import { runSearch } from './search/run.js';
import { shownPath } from './sweep-file.js';

/** --run-command: a JSON array of strings. */
function commandOf(text: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((w) => typeof w === 'string')) {
    throw new InvalidArgumentError('expected a JSON array of strings such as ["node", "dist/cli.js", "run"]');
  }
  return parsed;
}

export function registerExperimentCommands(program: Command): void {
  program
    .command('sweep')
    .description('run every point of a sweep file in parallel workers, skipping finished points, and write results/<name>/')
    .argument('<sweep>', 'sweep file (see docs/experiments.md)')
    .option('-w, --workers <n>', 'points run at once (default: available cores)', workerCount)
    .option('--dry-run', 'check the sweep and print the points that would run')
    .option('--only <names>', 'comma-separated point names to run (others are not started)')
    .option('--queue <url>', 'run the points on `tinyforge worker`s through this Redis queue (redis://host:port)')
    .option('--artifacts <dir>', 'with --queue: the results root as the workers see it (shared storage; default: results/)')
    .option('--accept-older-code', 'count points that passed with another version of tinyforge as done (default: rerun them)')
    .option('--reuse-ir', "points whose IR, training record and evaluation match their config are only regenerated, built and verified (`run --reuse-ir`)")
    .action(async (file: string, opts: { workers?: number; dryRun?: boolean; only?: string; queue?: string; artifacts?: string; acceptOlderCode?: boolean; reuseIr?: boolean }) => {
      if (opts.artifacts && !opts.queue) throw new UserError('--artifacts: only with --queue');
      if (opts.reuseIr && opts.queue) throw new UserError('--reuse-ir: local workers only (queue workers run their own command)');
      const outcome = await runSweep(file, {
        workers: opts.workers,
        dryRun: opts.dryRun,
        only: opts.only?.split(',').map((s) => s.trim()).filter(Boolean),
        queue: opts.queue,
        artifacts: opts.artifacts,
        acceptOlderCode: opts.acceptOlderCode,
        reuseIr: opts.reuseIr,
      });
      if (outcome.failures.length) process.exitCode = ExitCode.verificationFailed;
    });

  program
    .command('search')
    .description("find the most accurate model of a search space that fits a board's budgets (successive halving), verified on target")
    .argument('<search>', 'search file (see docs/experiments.md, configs/search/)')
    .option('-w, --workers <n>', 'points run at once on this machine (default: available cores)', workerCount)
    .option('--queue <url>', 'run the points on `tinyforge worker`s through this Redis queue (redis://host:port)')
    .option('--artifacts <dir>', 'with --queue: the results root as the workers see it (shared storage)')
    .option('--accept-older-code', 'count points that passed with another version of tinyforge as done (default: rerun them)')
    .action(async (file: string, opts: { workers?: number; queue?: string; artifacts?: string; acceptOlderCode?: boolean }) => {
      if (opts.artifacts && !opts.queue) throw new UserError('--artifacts: only with --queue');
      const outcome = await runSearch(file, {
        workers: opts.workers,
        queue: opts.queue,
        artifacts: opts.artifacts,
        acceptOlderCode: opts.acceptOlderCode,
      });
      console.log(shownPath(`${outcome.dir}/summary.md`));
      if (!outcome.winner) process.exitCode = ExitCode.verificationFailed;
    });

  program
    .command('worker')
    .description('take sweep points from a Redis queue and run them, until stopped (Ctrl-C hands the running point back)')
    .requiredOption('--queue <url>', 'the Redis queue the sweep was submitted to (redis://host:port)')
    .option('--artifacts <dir>', "where this machine sees the sweep's results root (default: the path the submitter gave)")
    .option('-c, --concurrency <n>', 'points run at once by this worker', wholeNumber(1, 1024), 1)
    .option('--lock-ms <ms>', 'a point whose worker stops answering goes back to the queue after this long', wholeNumber(500), 30000)
    .option('--max-points <n>', 'exit after running this many points', wholeNumber(1))
    .option('--run-command <json>', 'JSON array: the command that runs one point, its config path appended (default: this tinyforge\'s `run --quiet`)', commandOf)
    .action(async (opts: { queue: string; artifacts?: string; concurrency: number; lockMs: number; maxPoints?: number; runCommand?: string[] }) => {
      await runWorker({
        queue: opts.queue,
        artifacts: opts.artifacts,
        concurrency: opts.concurrency,
        lockMs: opts.lockMs,
        maxPoints: opts.maxPoints,
        command: opts.runCommand ?? defaultPointCommand(),
      });
    });

  program
    .command('report')
    .description('(re)build the results files of a sweep folder, including report.html, from its point summaries')
    .argument('<dir>', 'sweep results folder, e.g. results/<name>')
    .action(async (dir: string) => {
      readManifest(dir); // a folder that is no sweep's is an error, not created by the lock
      // Not while a sweep writes the same folder.
      const release = lockDirectory(resolve(dir), '`tinyforge report`');
      let written: string[];
      try {
        written = await writeResults(dir);
      } finally {
        release();
      }
      log.info(`wrote ${written.length} files`);
      console.log(shownPath(written.find((f) => f.endsWith('report.html'))!));
    });
}
