/**
 * Resolves after pending I/O callbacks (a child process's exit, a pipe's data) have run: work
 * done on the main thread in short turns awaits this between them.
 */
export function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}
