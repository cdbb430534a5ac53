// The fixed-point primitives of TFLite's int8 requantization (gemmlowp's fixedpoint.h and
// TFLite's MultiplyByQuantizedMultiplier), with exact integer results.
//
// JS numbers are doubles: integers are exact only up to 2^53, and the 32x32-bit product these
// functions are built on needs up to 62 bits. The product is therefore never formed whole: one
// operand is split into 16-bit halves so that every intermediate stays below 2^53.

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/**
 * gemmlowp's SaturatingRoundingDoublingHighMul: the high 32 bits of 2*a*b, rounded to nearest.
 *
 * The C code adds a nudge of 2^30 when a*b >= 0 and 1 - 2^30 when a*b < 0, then divides by
 * 2^31 truncating toward zero. For a*b < 0, truncation of (a*b + 1 - 2^30) / 2^31 is the ceiling,
 * and ceil(n / d) = floor((n + d - 1) / d), which gives floor((a*b + 2^30) / 2^31); for a*b >= 0
 * truncation is already the floor. So in both cases the result is floor((a*b + 2^30) / 2^31),
 * i.e. ties round toward +infinity. The only input whose result does not fit int32 is
 * INT32_MIN * INT32_MIN (2*a*b = 2^63), which saturates to INT32_MAX.
 */
export function saturatingRoundingDoublingHighMul(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  // b = bHigh * 2^16 + bLow with bLow in [0, 2^16) and bHigh in [-2^15, 2^15).
  const bHigh = b >> 16;
  const bLow = b & 0xffff;
  // a*b + 2^30 = a*bHigh * 2^16 + (a*bLow + 2^30). Both partial products are below 2^47.
  const lowPart = a * bLow + 1073741824;
  // Fold the low part's multiples of 2^16 into the high part; what is left over (lowPart mod
  // 2^16, in [0, 2^16)) cannot change floor(... / 2^31) once the high part is an integer count of
  // 2^16 units: floor((high * 2^16 + r) / 2^31) = floor(high / 2^15) for 0 <= r < 2^16.
  const highPart = a * bHigh + Math.floor(lowPart / 65536);
  // Dividing by a power of two is exact in doubles; | 0 turns a possible -0 into 0.
  return Math.floor(highPart / 32768) | 0;
}

/**
 * gemmlowp's RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from zero,
 * for exponent in [0, 31]. The arithmetic shift floors; one is added back when the discarded
 * remainder exceeds half (for negative x the threshold is one higher, which sends ties down,
 * i.e. away from zero).
 */
export function roundingDivideByPOT(x: number, exponent: number): number {
  if (exponent === 0) return x | 0;
  // 2^exponent - 1 (written so that exponent 31 does not go through 1 << 31 = INT32_MIN).
  const mask = 0x7fffffff >>> (31 - exponent);
  const remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/**
 * TFLite's MultiplyByQuantizedMultiplier: x * multiplier * 2^(shift - 31), rounded as the C code
 * rounds it (double rounding: once in the high multiply, once in the shift).
 * A positive shift is applied as a left shift before the multiply; like the C code's
 * x * (1 << shift) on a two's complement target, it wraps in int32 if it overflows. shift must be
 * in [-31, 30] (the IR validator enforces it).
 */
export function multiplyByQuantizedMultiplier(x: number, multiplier: number, shift: number): number {
  const leftShift = shift > 0 ? shift : 0;
  const rightShift = shift > 0 ? 0 : -shift;
  return roundingDivideByPOT(saturatingRoundingDoublingHighMul(x << leftShift, multiplier), rightShift);
}
