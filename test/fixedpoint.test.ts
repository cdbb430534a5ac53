// The fixed-point primitives against 64-bit BigInt oracles written from the C definitions, and
// quantizeMultiplier against an exact rational computation.
import { describe, expect, it } from 'vitest';
import { frexp, quantizeMultiplier } from '../src/quantize/multiplier.js';
import {
  multiplyByQuantizedMultiplier,
  roundingDivideByPOT,
  saturatingRoundingDoublingHighMul,
} from '../src/reference/fixedpoint.js';
import { SeededRandom } from './helpers/random-ir.js';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

// ------------------------------------------------------------------------------------------
// Oracles (BigInt, i.e. exact 64-bit arithmetic as in the C code)

/** gemmlowp SaturatingRoundingDoublingHighMul, literally: nudge by sign, divide truncating. */
function srdhmOracle(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  const ab = BigInt(a) * BigInt(b);
  const nudge = ab >= 0n ? 1n << 30n : 1n - (1n << 30n);
  return Number((ab + nudge) / (1n << 31n)); // BigInt division truncates toward zero, as C does
}

/** x / 2^e rounded to nearest, ties away from zero (what RoundingDivideByPOT computes). */
function rdbpotOracle(x: number, e: number): number {
  if (e === 0) return x;
  const mag = BigInt(Math.abs(x));
  const rounded = (mag + (1n << BigInt(e - 1))) >> BigInt(e);
  return Number(x < 0 ? -rounded : rounded);
}

function mbqmOracle(x: number, m: number, s: number): number {
  const left = s > 0 ? s : 0;
  const right = s > 0 ? 0 : -s;
  // x * (1 << left) in int32, wrapping like two's complement hardware.
  const shifted = Number(BigInt.asIntN(32, BigInt(x) << BigInt(left)));
  return rdbpotOracle(srdhmOracle(shifted, m), right);
}

function randomInt32(rng: SeededRandom): number {
  return (Math.floor(rng.next() * 4294967296) | 0);
}

const SPECIAL_INT32 = [INT32_MIN, INT32_MIN + 1, -65537, -65536, -65535, -32768, -2, -1, 0, 1, 2, 32767, 65535, 65536, 1 << 30, INT32_MAX - 1, INT32_MAX];

// ------------------------------------------------------------------------------------------

describe('saturatingRoundingDoublingHighMul', () => {
  it('saturates INT32_MIN * INT32_MIN to INT32_MAX', () => {
    expect(saturatingRoundingDoublingHighMul(INT32_MIN, INT32_MIN)).toBe(INT32_MAX);
  });

  it('rounds ties toward +infinity (nudge 2^30 for a positive product, 1 - 2^30 for a negative one)', () => {
    // 2 * a * b / 2^32 with a * b = 2^30: exactly 0.5 -> 1.
    expect(saturatingRoundingDoublingHighMul(1 << 15, 1 << 15)).toBe(1);
    // a * b = -2^30: exactly -0.5 -> trunc((-2^30 + 1 - 2^30) / 2^31) = 0.
    expect(saturatingRoundingDoublingHighMul(-(1 << 15), 1 << 15)).toBe(0);
    // a * b = -2^30 - 1: just below -0.5 -> -1.
    expect(saturatingRoundingDoublingHighMul(-(1 << 30) - 1, 1)).toBe(-1);
    // 0.5 in Q31 times 100: 2 * 100 * 2^30 / 2^32 = 50.
    expect(saturatingRoundingDoublingHighMul(100, 1 << 30)).toBe(50);
  });

  it('equals the 64-bit oracle on special and random operands', () => {
    for (const a of SPECIAL_INT32) for (const b of SPECIAL_INT32) expect(saturatingRoundingDoublingHighMul(a, b)).toBe(srdhmOracle(a, b));
    const rng = new SeededRandom(1);
    for (let i = 0; i < 100_000; i++) {
      const a = randomInt32(rng);
      // Mix full-range operands with small ones (accumulator-sized values).
      const b = i % 2 ? randomInt32(rng) : rng.int(-100_000, 100_000);
      const got = saturatingRoundingDoublingHighMul(a, b);
      const want = srdhmOracle(a, b);
      if (got !== want) expect({ a, b, got }).toEqual({ a, b, got: want });
    }
  });
});

describe('roundingDivideByPOT', () => {
  it('rounds exact halves away from zero', () => {
    expect(roundingDivideByPOT(5, 1)).toBe(3); // 2.5 -> 3
    expect(roundingDivideByPOT(-5, 1)).toBe(-3); // -2.5 -> -3
    expect(roundingDivideByPOT(6, 2)).toBe(2); // 1.5 -> 2
    expect(roundingDivideByPOT(-6, 2)).toBe(-2); // -1.5 -> -2
    expect(roundingDivideByPOT(-7, 2)).toBe(-2); // -1.75 -> -2
    expect(roundingDivideByPOT(-5, 2)).toBe(-1); // -1.25 -> -1
    expect(roundingDivideByPOT(INT32_MIN, 31)).toBe(-1);
    expect(roundingDivideByPOT(INT32_MAX, 31)).toBe(1); // 0.99999... -> 1
    expect(roundingDivideByPOT(1 << 30, 31)).toBe(1); // 0.5 -> 1
    expect(roundingDivideByPOT(-(1 << 30), 31)).toBe(-1); // -0.5 -> -1
    expect(roundingDivideByPOT(-(1 << 30) + 1, 31)).toBe(0);
    expect(roundingDivideByPOT(123, 0)).toBe(123);
  });

  it('equals the oracle at every exponent on .5 boundaries, their neighbours and random values', () => {
    const rng = new SeededRandom(2);
    for (let e = 0; e <= 31; e++) {
      const values = [...SPECIAL_INT32];
      for (let i = 0; i < 200; i++) {
        if (e > 0) {
          // k * 2^e + 2^(e-1) is an exact tie; check it and its neighbours, both signs.
          const k = rng.int(-(2 ** (31 - e)), 2 ** (31 - e) - 1);
          const tie = k * 2 ** e + 2 ** (e - 1);
          for (const v of [tie - 1, tie, tie + 1]) if (v >= INT32_MIN && v <= INT32_MAX) values.push(v);
        }
        values.push(randomInt32(rng));
      }
      for (const x of values) {
        const got = roundingDivideByPOT(x, e);
        const want = rdbpotOracle(x, e);
        if (got !== want) expect({ x, e, got }).toEqual({ x, e, got: want });
      }
    }
  });
});

describe('multiplyByQuantizedMultiplier', () => {
  it('matches hand-computed cases', () => {
    // 0.5 (2^30 in Q31), shift 0: 100 * 0.5 = 50.
    expect(multiplyByQuantizedMultiplier(100, 1 << 30, 0)).toBe(50);
    // 0.5 * 2^-2 = 0.125: 100 * 0.125 = 12.5 -> SRDHM gives 50 exactly, then 50 / 4 = 12.5 -> 13.
    expect(multiplyByQuantizedMultiplier(100, 1 << 30, -2)).toBe(13);
    expect(multiplyByQuantizedMultiplier(-100, 1 << 30, -2)).toBe(-13);
    // Positive shift: 0.5 * 2^3 = 4: 100 * 4 = 400.
    expect(multiplyByQuantizedMultiplier(100, 1 << 30, 3)).toBe(400);
    // A zero multiplier (flushed tiny scale) gives zero.
    expect(multiplyByQuantizedMultiplier(INT32_MAX, 0, 0)).toBe(0);
  });

  it('equals the 64-bit oracle on random and extreme (x, multiplier, shift)', () => {
    const rng = new SeededRandom(3);
    const xs = [...SPECIAL_INT32];
    const ms = [0, 1 << 30, (1 << 30) + 1, INT32_MAX, INT32_MAX - 1, 1518500250];
    for (const x of xs) for (const m of ms) for (let s = -31; s <= 2; s++) {
      expect(multiplyByQuantizedMultiplier(x, m, s)).toBe(mbqmOracle(x, m, s));
    }
    for (let i = 0; i < 100_000; i++) {
      const x = i % 3 === 0 ? randomInt32(rng) : rng.int(-1_000_000, 1_000_000);
      // quantizeMultiplier's range: [2^30, 2^31).
      const m = rng.int(1 << 30, INT32_MAX);
      const s = i % 10 === 0 ? rng.int(0, 8) : rng.int(-31, 0);
      const got = multiplyByQuantizedMultiplier(x, m, s);
      const want = mbqmOracle(x, m, s);
      if (got !== want) expect({ x, m, s, got }).toEqual({ x, m, s, got: want });
    }
  });
});

// ------------------------------------------------------------------------------------------

/** The exact integers (mantissa, exponent) with |x| = mantissa * 2^exponent, from the bits. */
function exactParts(x: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const raw = view.getBigUint64(0);
  const biased = Number(raw >> 52n);
  const fractionBits = raw & ((1n << 52n) - 1n);
  return biased === 0
    ? { mantissa: fractionBits, exponent: -1074 }
    : { mantissa: fractionBits | (1n << 52n), exponent: biased - 1075 };
}

/**
 * QuantizeMultiplier, computed exactly: the shift from comparisons with exact powers of two, and
 * q = round(|real| * 2^(31 - shift)) as an exact rational rounded half away from zero.
 */
function quantizeOracle(real: number): { multiplier: number; shift: number } {
  if (real === 0) return { multiplier: 0, shift: 0 };
  const mag = Math.abs(real);
  // 2^(shift-1) <= |real| < 2^shift
  let shift = 0;
  while (mag >= 2 ** shift) shift++;
  while (mag < 2 ** (shift - 1)) shift--;
  const { mantissa, exponent } = exactParts(real);
  const k = exponent + 31 - shift; // q = mantissa * 2^k, rounded
  let q = k >= 0 ? mantissa << BigInt(k) : (mantissa + (1n << BigInt(-k - 1))) >> BigInt(-k);
  if (real < 0) q = -q;
  if (q === 1n << 31n) {
    q /= 2n;
    shift++;
  }
  if (shift < -31) return { multiplier: 0, shift: 0 };
  return { multiplier: Number(q), shift };
}

describe('frexp', () => {
  it('splits exactly, fraction in [0.5, 1), including subnormals and extremes', () => {
    const rng = new SeededRandom(4);
    const values = [1, 0.5, 0.75, 2 ** -1074, 2 ** -1022, 3 * 2 ** -1070, Number.MAX_VALUE, Number.MIN_VALUE, -3.5, 1 - 2 ** -53];
    for (let i = 0; i < 2000; i++) values.push(rng.uniform(-1, 1) * 2 ** rng.int(-1070, 1000));
    for (const x of values) {
      const { fraction, exponent } = frexp(x);
      expect(Math.abs(fraction)).toBeGreaterThanOrEqual(0.5);
      expect(Math.abs(fraction)).toBeLessThan(1);
      // Rebuild in two power-of-two steps (each exact) to stay inside the double range.
      const half = Math.trunc(exponent / 2);
      expect(fraction * 2 ** half * 2 ** (exponent - half)).toBe(x);
    }
    expect(frexp(0)).toEqual({ fraction: 0, exponent: 0 });
    expect(frexp(8)).toEqual({ fraction: 0.5, exponent: 4 });
  });
});

describe('quantizeMultiplier', () => {
  it('handles zero, powers of two, the round-up to 2^31 and the flush below 2^-32', () => {
    expect(quantizeMultiplier(0)).toEqual({ multiplier: 0, shift: 0 });
    expect(quantizeMultiplier(0.5)).toEqual({ multiplier: 2 ** 30, shift: 0 });
    expect(quantizeMultiplier(1)).toEqual({ multiplier: 2 ** 30, shift: 1 });
    expect(quantizeMultiplier(0.25)).toEqual({ multiplier: 2 ** 30, shift: -1 });
    expect(quantizeMultiplier(4)).toEqual({ multiplier: 2 ** 30, shift: 3 });
    // 1 - 2^-32: fraction * 2^31 = 2^31 - 0.5 rounds (half away from zero) to 2^31 -> 2^30, shift + 1.
    expect(quantizeMultiplier(1 - 2 ** -32)).toEqual({ multiplier: 2 ** 30, shift: 1 });
    // 1 - 2^-31: fraction * 2^31 = 2^31 - 1 exactly, no round-up.
    expect(quantizeMultiplier(1 - 2 ** -31)).toEqual({ multiplier: 2 ** 31 - 1, shift: 0 });
    // 2^-32 = 0.5 * 2^-31: shift -31 is still representable.
    expect(quantizeMultiplier(2 ** -32)).toEqual({ multiplier: 2 ** 30, shift: -31 });
    // 2^-33: shift -32 < -31 is flushed to zero.
    expect(quantizeMultiplier(2 ** -33)).toEqual({ multiplier: 0, shift: 0 });
    // Just below 2^-32: shift -32 before the round-up, -31 after it: kept, as in TFLite.
    expect(quantizeMultiplier((1 - 2 ** -40) * 2 ** -32)).toEqual({ multiplier: 2 ** 30, shift: -31 });
    expect(() => quantizeMultiplier(Number.NaN)).toThrow(RangeError);
  });

  it('equals the exact oracle on many random reals', () => {
    const rng = new SeededRandom(5);
    const values: number[] = [];
    for (let i = 0; i < 20_000; i++) values.push(2 ** rng.uniform(-40, 10)); // log-uniform
    for (let i = 0; i < 2_000; i++) values.push(rng.uniform(0, 1)); // typical requant range
    for (let i = 0; i < 2_000; i++) values.push(1 - rng.next() * 2 ** -28); // near 1
    for (let i = 0; i < 500; i++) values.push(2 ** rng.int(-40, 20)); // exact powers of two
    for (let i = 0; i < 500; i++) values.push(-(2 ** rng.uniform(-20, 2))); // negative (TFLite allows)
    for (const real of values) {
      const got = quantizeMultiplier(real);
      const want = quantizeOracle(real);
      if (got.multiplier !== want.multiplier || got.shift !== want.shift) expect({ real, ...got }).toEqual({ real, ...want });
      // And it represents the real number to within the Q31 rounding.
      if (got.multiplier !== 0) {
        const represented = got.multiplier * 2 ** (got.shift - 31);
        expect(Math.abs(represented - real)).toBeLessThanOrEqual(Math.abs(real) * 2 ** -30);
      }
    }
  });
});
