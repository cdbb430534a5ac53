// Errors a user can act on. The CLI prints their message alone (no stack) and exits non-zero.
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
    this.name = 'UserError';
  }
}
