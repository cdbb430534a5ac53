// The one place that turns an outcome into an exit status (the table is ExitCode in
// src/util/errors.ts, documented in docs/exit-codes.md) and into what the user sees: one line on
// stderr, and with --json one object on stdout. Every command ends through here.
import { CommanderError } from 'commander';
import { relative } from 'node:path';
import { ExitCode, UserError } from '../util/errors.js';
import { log } from '../util/log.js';

/** The `error` member of a --json answer. */
export interface ErrorReport {
  code: number;
  message: string;
  /** The file at fault (config, IR, IDX, output path), when there is one. */
  file: string | null;
  /** The JSON path inside `file`, or the option (e.g. "--images"), when there is one. */
  field: string | null;
}

/** Operating-system errors on files: what the code means, and whose fault it is. */
const fileErrors: Record<string, { cause: string; exitCode: number }> = {
  ENOSPC: { cause: 'no space left on the device', exitCode: ExitCode.environment },
  EDQUOT: { cause: 'disk quota exceeded', exitCode: ExitCode.environment },
  EROFS: { cause: 'read-only file system', exitCode: ExitCode.environment },
  EACCES: { cause: 'permission denied', exitCode: ExitCode.environment },
  EPERM: { cause: 'operation not permitted', exitCode: ExitCode.environment },
  EIO: { cause: 'input/output error', exitCode: ExitCode.environment },
  EMFILE: { cause: 'too many open files', exitCode: ExitCode.environment },
  ENFILE: { cause: 'too many open files in the system', exitCode: ExitCode.environment },
  EBUSY: { cause: 'resource busy', exitCode: ExitCode.environment },
  ENOTDIR: { cause: 'a part of this path is a file, not a directory', exitCode: ExitCode.badInput },
  EEXIST: { cause: 'exists and is not a directory', exitCode: ExitCode.badInput },
  EISDIR: { cause: 'is a directory, expected a file', exitCode: ExitCode.badInput },
  ENOENT: { cause: 'no such file or directory', exitCode: ExitCode.badInput },
  ENAMETOOLONG: { cause: 'file name too long', exitCode: ExitCode.badInput },
};

function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

/** Which row of the exit-code table an error belongs to, and its one-line description. */
export function classifyError(err: unknown): ErrorReport {
  if (err instanceof UserError) {
    return { code: err.exitCode, message: err.message, file: err.location.file ?? null, field: err.location.field ?? null };
  }
  if (err instanceof CommanderError) {
    // Bad options and arguments: commander's message names the option and the value.
    const option = /option '([^' ]+)/.exec(err.message)?.[1] ?? null;
    const message = err.code === 'commander.help' ? 'no command given (the commands are listed above)' : err.message.replace(/^error: /, '');
    return { code: ExitCode.badInput, message, file: null, field: option };
  }
  const errno = err as NodeJS.ErrnoException;
  const known = typeof errno?.code === 'string' ? fileErrors[errno.code] : undefined;
  if (known) {
    const path = errno.path ?? (errno as { dest?: string }).dest;
    const what = errno.syscall ? ` (${errno.code} in ${errno.syscall})` : ` (${errno.code})`;
    return {
      code: known.exitCode,
      message: `${path ? `${shown(path)}: ` : ''}${known.cause}${what}`,
      file: path ?? null,
      field: null,
    };
  }
  // Anything else is a bug in tinyforge: not the user's input, and never "verification failed".
  const message = err instanceof Error ? err.message : String(err);
  return { code: ExitCode.environment, message: `internal error: ${message}`, file: null, field: null };
}

/** Prints an error the way every command does, and returns its exit status. */
export function reportError(err: unknown, json: boolean): number {
  const report = classifyError(err);
  log.error(report.message);
  if (report.message.startsWith('internal error') && err instanceof Error && err.stack) log.debug(err.stack);
  if (json) printJsonError(report);
  return report.code;
}

export function printJsonError(error: ErrorReport): void {
  process.stdout.write(JSON.stringify({ ok: false, error }) + '\n');
}

/** True when the command line asks for machine-readable output (any command with --json). */
export function jsonRequested(argv: string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}
