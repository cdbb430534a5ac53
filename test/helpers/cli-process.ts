// Runs src/cli.ts (through tsx) as a real child process, for tests about processes: locks,
// kill -9, orphans. `start` returns at once; `cli` waits for the exit.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export const root = resolve('.');
// tsx's loader in this process's command line (not tsx's own CLI, which runs the script in a second
// process): the pid the test holds is the tinyforge process itself.
const tsxLoader = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'loader.mjs')).href;

export interface Started {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  stderr: () => string;
}

export function start(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Started {
  const child = spawn(process.execPath, ['--import', tsxLoader, join(root, 'src', 'cli.ts'), ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c) => (stdout += c));
  child.stderr!.on('data', (c) => (stderr += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((done) =>
    child.on('close', (code, signal) => done({ code, signal, stdout, stderr })),
  );
  return { child, exited, stderr: () => stderr };
}

export function cli(args: string[], cwd: string, env?: NodeJS.ProcessEnv) {
  return start(args, cwd, env).exited;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A killed child that nobody has reaped yet is a zombie: it has ended.
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** Polls `ready` every 100 ms until it holds, or throws after `ms` with `what` and `detail()`. */
export async function waitFor(ready: () => boolean, ms: number, what: string, detail: () => string = () => ''): Promise<void> {
  for (let waited = 0; !ready(); waited += 100) {
    if (waited > ms) throw new Error(`timed out waiting for ${what}\n${detail()}`);
    await sleep(100);
  }
}
