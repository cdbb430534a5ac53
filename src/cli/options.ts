// Numeric command-line options, parsed and range-checked by commander before any action runs:
// a bad value ends the command with exit status 2 before anything is trained, built or written.
import { InvalidArgumentError } from 'commander';
import { MAX_TIMEOUT_MS } from '../toolchain/qemu.js';

/** A parser for a whole number in [min, max], written in decimal digits only ("1e3", "0x10", "5.0" are refused). */
export function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER): (text: string) => number {
  return (text: string) => {
    const trimmed = text.trim();
    const value = Number(trimmed);
    if (!/^\d+$/.test(trimmed) || !Number.isSafeInteger(value) || value < min || value > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
      throw new InvalidArgumentError(`expected a whole number ${range}`);
    }
    return value;
  };
}

/** --images: at least one image (a verification of nothing is not a pass). */
export const imageCount = wholeNumber(1);
/** --timeout: milliseconds, at least 1 (0 would switch the hang protection off). */
export const timeoutMs = wholeNumber(1, MAX_TIMEOUT_MS);
/** --workers */
export const workerCount = wholeNumber(1, 1024);
