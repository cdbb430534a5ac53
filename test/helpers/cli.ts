// Runs the real tinyforge CLI in a child process: dist/cli.js when it is newer than every source
// file (twice as fast to start), else tsx on src/cli.ts, so a test never runs stale code.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

export const repoRoot = resolve('.');
const tsxCli = join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'cli.mjs');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

const distCli = join(repoRoot, 'dist', 'cli.js');
/** The command line that starts the CLI. */
export const cliCommand: string[] = existsSync(distCli) && statSync(distCli).mtimeMs > newestSource(join(repoRoot, 'src'))
  ? [distCli]
  : [tsxCli, join(repoRoot, 'src', 'cli.ts')];

export interface CliResult {
  /** The exit status, or null when a signal ended the process. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Called with each chunk of stderr and the child, e.g. to signal it at a given point. */
  onStderr?: (text: string, child: ReturnType<typeof spawn>) => void;
}

export function runCli(args: string[], options: CliOptions): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [...cliCommand, ...args], {
      cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      options.onStderr?.(stderr, child);
    });
    child.on('error', fail);
    child.on('close', (code, signal) => done({ code, signal, stdout, stderr }));
  });
}

/** Writes `<dir>/<name>.json` extending configs/default.json with `extra`, output in `<dir>/out/<name>`. */
export function writeConfig(dir: string, name: string, extra: Record<string, unknown>): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify({
    extends: join(repoRoot, 'configs', 'default.json'),
    output: { dir: join(dir, 'out', name) },
    ...extra,
  }, null, 2));
  return path;
}
