// Children die with their parent. A process that starts workers (the sweep runner) sets
// TINYFORGE_PARENT_PID to its own pid in each worker's environment; the worker calls
// exitWithParent() at startup and, once its parent is gone (its ppid changes: the kernel hands an
// orphan to init or a subreaper), stops its whole process group (itself, the compiler, QEMU) as a
// Ctrl-C would. Nothing else can do it: a kill -9 of the parent runs none of its cleanup.
import { log } from './log.js';

export const parentPidVariable = 'TINYFORGE_PARENT_PID';

/** How often the parent is checked; a worker outlives its parent by at most this long. */
const pollMs = 250;

/** The environment for a worker that must end with this process. */
export function childEnvironment(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, [parentPidVariable]: String(process.pid) };
}

function stopOwnGroup(): void {
  try {
    // Workers lead their own process group (they are spawned detached): end all of it.
    process.kill(-process.pid, 'SIGTERM');
  } catch {
    process.kill(process.pid, 'SIGTERM');
  }
  // If a handler keeps this process alive (a lock release, say), do not let it linger.
  setTimeout(() => {
    try {
      process.kill(-process.pid, 'SIGKILL');
    } catch {
      process.kill(process.pid, 'SIGKILL');
    }
  }, 3000).unref();
}

/** When started as a worker (TINYFORGE_PARENT_PID set), end this process group when the parent ends. */
export function exitWithParent(): void {
  const text = process.env[parentPidVariable];
  if (!text) return;
  // Our own children are not the parent's workers: they must not watch the parent's pid.
  delete process.env[parentPidVariable];
  const parent = Number(text);
  const check = () => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    log.error(`the process that started this one (pid ${parent}) has ended; stopping`);
    stopOwnGroup();
  };
  const timer = setInterval(check, pollMs);
  timer.unref();
  check();
}
