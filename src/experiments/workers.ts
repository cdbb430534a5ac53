// Runs point commands as child processes, at most `workers` at once. Each child leads its own
// process group (detached), so a Ctrl-C in the terminal reaches only the runner, which then stops
// whole groups: a point's command may itself start processes (the toolchain, QEMU). A kill -9 of
// the runner runs none of that, so each child is also told the runner's pid (TINYFORGE_PARENT_PID)
// and stops its own group when the runner is gone (src/util/parent.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { log } from '../util/log.js';
import { childEnvironment } from '../util/parent.js';

export interface Job {
  name: string;
  args: string[];
  logFile: string;
}

export interface JobExit {
  name: string;
  /** Null when the process was ended by a signal or could not start. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the command could not be started at all (e.g. not found). */
  startError?: string;
  seconds: number;
}

export interface PoolResult {
  /** Exits of jobs that ran to their own end; jobs stopped by an interrupt are not here. */
  exits: JobExit[];
  interrupted: boolean;
}

/** How long stopped children get to exit after SIGTERM before they are killed outright. */
const graceMs = 5000;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

/**
 * Both training backends may take one thread per core; `workers` trainings at once on the same
 * cores would each take them all and wait on each other. With more than one worker, each point
 * gets its share of the cores (at least one) unless the user set the thread counts; one worker
 * leaves the choice to the backend. A thread count is part of what makes a seeded training repeat
 * (docs/training.md): a sweep with 2 workers on 2 cores trains with 1 thread.
 */
export function trainingThreads(env: NodeJS.ProcessEnv, workers: number): NodeJS.ProcessEnv {
  if (workers <= 1) return env;
  const share = String(Math.max(1, Math.floor(availableParallelism() / workers)));
  return { ...env, TINYFORGE_TORCH_THREADS: env.TINYFORGE_TORCH_THREADS ?? share, TINYFORGE_WASM_THREADS: env.TINYFORGE_WASM_THREADS ?? share };
}

export function runJobs(
  command: string[],
  jobs: Job[],
  workers: number,
  onExit: (exit: JobExit) => void,
): Promise<PoolResult> {
  const queue = [...jobs];
  const running = new Map<string, ChildProcess>();
  const exits: JobExit[] = [];
  let interrupted = false;
  let killTimer: NodeJS.Timeout | undefined;

  return new Promise((resolveAll) => {
    const stop = (signal: NodeJS.Signals) => {
      if (interrupted) {
        // A second Ctrl-C: do not wait for the grace period.
        for (const child of running.values()) killGroup(child, 'SIGKILL');
        return;
      }
      interrupted = true;
      log.warn(`${signal}: stopping ${running.size} running point(s); rerun the sweep to continue`);
      for (const child of running.values()) killGroup(child, 'SIGTERM');
      killTimer = setTimeout(() => {
        for (const child of running.values()) killGroup(child, 'SIGKILL');
      }, graceMs);
      finishIfDone();
    };
    const onSigint = () => stop('SIGINT');
    const onSigterm = () => stop('SIGTERM');
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);

    function finishIfDone(): void {
      if (running.size > 0 || (!interrupted && queue.length > 0)) return;
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
      clearTimeout(killTimer);
      resolveAll({ exits, interrupted });
    }

    function startNext(): void {
      while (!interrupted && running.size < workers && queue.length > 0) start(queue.shift()!);
      finishIfDone();
    }

    function start(job: Job): void {
      mkdirSync(dirname(job.logFile), { recursive: true });
      const fd = openSync(job.logFile, 'w');
      const started = Date.now();
      let child: ChildProcess;
      try {
        child = spawn(command[0], [...command.slice(1), ...job.args], {
          detached: true,
          stdio: ['ignore', fd, fd],
          env: trainingThreads(childEnvironment(), Math.min(workers, jobs.length)),
        });
      } finally {
        // The child holds its own copy of the descriptor.
        closeSync(fd);
      }
      running.set(job.name, child);
      log.debug(`start ${job.name} (log: ${job.logFile})`);
      // A command that cannot start emits 'error' and maybe 'close' too: settle once.
      let settled = false;
      const settle = (exitCode: number | null, signal: NodeJS.Signals | null, startError?: string) => {
        if (settled) return;
        settled = true;
        running.delete(job.name);
        if (!interrupted) {
          const exit = { name: job.name, exitCode, signal, startError, seconds: (Date.now() - started) / 1000 };
          exits.push(exit);
          onExit(exit);
        }
        startNext();
      };
      child.on('error', (err) => {
        if (child.pid === undefined) settle(null, null, err.message);
      });
      child.on('close', (exitCode, signal) => settle(exitCode, signal));
    }

    startNext();
  });
}
