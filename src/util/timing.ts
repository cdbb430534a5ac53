// Step timings for the run log: one debug line per step ("timing: <step> <seconds> s"), so where a
// run's time went can be read from its run.log afterwards (on the console with --verbose). Steps
// that overlap (the evaluation beside the firmware build and QEMU) each report their own wall time.
import { log } from './log.js';

/** Wall seconds since `start` (a performance.now() reading), two decimals. */
export function secondsSince(start: number): string {
  return ((performance.now() - start) / 1000).toFixed(2);
}

export function logTiming(step: string, start: number): void {
  log.debug(`timing: ${step} ${secondsSince(start)} s`);
}

/** Runs `work`, then logs how long it took (also when it throws). */
export function timed<T>(step: string, work: () => T): T {
  const start = performance.now();
  try {
    return work();
  } finally {
    logTiming(step, start);
  }
}

/** timed, for work that returns a promise: the time until it settles. */
export async function timedAsync<T>(step: string, work: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await work();
  } finally {
    logTiming(step, start);
  }
}
