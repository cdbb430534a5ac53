// A child that must not outlive its parent (a sweep point run by a worker, and everything that
// point starts: the compiler, QEMU) is given a pipe as its stdin, whose other end only the parent
// holds. When the parent dies, however it dies (kill -9 included), the kernel closes that end and
// the child reads end-of-file: it then ends its own process group and exits.
import type { SpawnOptions } from 'node:child_process';

const ENV = 'TINYFORGE_EXIT_WITH_PARENT';

/** Spawn options for such a child: a detached process group with a parent-held stdin pipe. */
export function tiedToParent(stdout: number | 'ignore', stderr: number | 'ignore'): SpawnOptions {
  return { detached: true, stdio: ['pipe', stdout, stderr], env: { ...process.env, [ENV]: '1' } };
}

/** Called once at start-up by the CLI: does nothing unless the parent asked for it. */
export function exitWithParent(): void {
  if (process.env[ENV] !== '1') return;
  // Our own children must not inherit the duty (they are in our group and die with it).
  delete process.env[ENV];
  const stdin = process.stdin;
  stdin.on('data', () => {});
  stdin.on('error', () => {});
  stdin.on('end', () => {
    try {
      process.kill(-process.pid, 'SIGKILL');
    } catch {
      process.exit(137);
    }
  });
  // Reading must not keep the process alive after its work is done.
  (stdin as unknown as { unref?: () => void }).unref?.();
}
