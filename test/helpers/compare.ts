import { expect } from 'vitest';

/**
 * max |actual - expected| relative to the largest |expected|, floored at `floor` (so that
 * all-zero or tiny references compare absolutely).
 */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>, floor = 1e-3): number {
  expect(actual.length).toBe(expected.length);
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
    maxRef = Math.max(maxRef, Math.abs(expected[i]));
  }
  return maxDiff / Math.max(maxRef, floor);
}

/** Small deterministic generator (mulberry32) so that both sides of a comparison see the same numbers. */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
