// Errors a user can act on, and the exit status each kind of failure ends the process with.
// The CLI prints their message alone (no stack); src/cli/exit.ts maps every error to one row of
// ExitCode (docs/exit-codes.md is the table users read).

/** The process exit statuses, one per kind of outcome, the same for every command. */
export const ExitCode = {
  /** Everything checked passed. */
  passed: 0,
  /** The verification ran and failed: logits differ from the reference, or a budget is exceeded. */
  verificationFailed: 1,
  /** Bad input: config, IR, IDX data, command-line options, a stale artifact, a model that cannot fit. */
  badInput: 2,
  /** Environment or infrastructure: missing tool, firmware hang or crash, disk, permissions, a bug. */
  environment: 3,
  /** Interrupted (Ctrl-C), as a shell reports a process ended by SIGINT. */
  interrupted: 130,
} as const;

/** Where the bad input is: a file and, inside it, a JSON path or option name. */
export interface ErrorLocation {
  file?: string;
  field?: string;
}

export class UserError extends Error {
  constructor(message: string, readonly exitCode: number = ExitCode.badInput, readonly location: ErrorLocation = {}) {
    super(message);
    this.name = 'UserError';
  }
}

/** The same error, pointing at `file` when it did not name a file yet (the JSON path taken from its message). */
export function locatedIn(err: unknown, file: string): unknown {
  if (!(err instanceof UserError) || err.location.file) return err;
  const field = /^\S+: (\/[^\s:]*)/.exec(err.message)?.[1];
  const located = new UserError(err.message, err.exitCode, { file, ...(field ? { field } : {}) });
  located.stack = err.stack;
  return located;
}

/** The machine, not the input: a missing tool, a full or read-only disk, a firmware that hangs. */
export class EnvironmentError extends UserError {
  constructor(message: string, location: ErrorLocation = {}) {
    super(message, ExitCode.environment, location);
    this.name = 'EnvironmentError';
  }
}
