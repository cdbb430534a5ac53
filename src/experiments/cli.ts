// The `sweep` and `report` commands; src/cli.ts calls registerExperimentCommands(program).
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { writeResults } from '../report/write.js';
import { workerCount } from '../cli/options.js';
import { ExitCode } from '../util/errors.js';
import { lockDirectory } from '../util/lock.js';
import { log } from '../util/log.js';
import { readManifest } from './points.js';
import { runSweep } from './runner.js';
import { shownPath } from './sweep-file.js';

export function registerExperimentCommands(program: Command): void {
  program
    .command('sweep')
    .description('run every point of a sweep file in parallel workers, skipping finished points, and write results/<name>/')
    .argument('<sweep>', 'sweep file (see docs/experiments.md)')
    .option('-w, --workers <n>', 'points run at once (default: available cores)', workerCount)
    .option('--dry-run', 'check the sweep and print the points that would run')
    .option('--only <names>', 'comma-separated point names to run (others are not started)')
    .action(async (file: string, opts: { workers?: number; dryRun?: boolean; only?: string }) => {
      const outcome = await runSweep(file, {
        workers: opts.workers,
        dryRun: opts.dryRun,
        only: opts.only?.split(',').map((s) => s.trim()).filter(Boolean),
      });
      if (outcome.failures.length) process.exitCode = ExitCode.verificationFailed;
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
