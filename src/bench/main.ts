// How every benchmark script ends: a UserError (bad arguments, a missing file) is one line and its
// exit status; anything else is a crash with its stack.
import { UserError } from '../util/errors.js';

export async function runBench(main: () => unknown): Promise<void> {
  try {
    await main();
  } catch (err) {
    if (!(err instanceof UserError)) throw err;
    console.error(err.message);
    process.exitCode = err.exitCode;
  }
}
