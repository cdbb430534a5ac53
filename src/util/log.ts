// Levelled logging to stderr, mirrored (at debug level, whatever the console level) into the
// run's log file once an output directory is known.
import { appendFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { makeDirectory } from './atomic.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

let consoleLevel: LogLevel = 'info';
let logFile: string | undefined;

export function setLogLevel(level: LogLevel): void {
  consoleLevel = level;
}

export function getLogLevel(): LogLevel {
  return consoleLevel;
}

/**
 * From now on every message is also appended to `path`. Throws (ENOTDIR, EROFS, EACCES...) when
 * its directory cannot be created, before any log line depends on it.
 */
export function setLogFile(path: string | undefined): void {
  logFile = undefined;
  if (path) makeDirectory(dirname(path));
  logFile = path;
}

/**
 * The log file is a copy of what the console shows: when it cannot be written (disk full,
 * read-only), say so once on the console and go on, so that reporting an error never fails.
 */
function appendToLogFile(line: string): void {
  if (!logFile) return;
  try {
    appendFileSync(logFile, line);
  } catch (err) {
    const failed = logFile;
    logFile = undefined;
    process.stderr.write(`warning: cannot write the log file ${failed} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); logging to the console only\n`);
  }
}

function emit(level: Exclude<LogLevel, 'silent'>, message: string): void {
  appendToLogFile(`${new Date().toISOString()} ${level.padEnd(5)} ${message}\n`);
  if (rank[level] >= rank[consoleLevel]) process.stderr.write(message + '\n');
}

export const log = {
  debug: (m: string) => emit('debug', m),
  info: (m: string) => emit('info', m),
  warn: (m: string) => emit('warn', `warning: ${m}`),
  error: (m: string) => emit('error', `error: ${m}`),
};
