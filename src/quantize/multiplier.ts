// Real multiplier -> (Q31 multiplier, shift), exactly as TFLite's QuantizeMultiplier
// (tensorflow/lite/kernels/internal/quantization_util.cc, the default double-rounding build).
//
// The requantization of an int32 accumulator to int8 multiplies by a real number
// M = inputScale * weightScale / outputScale. Integer-only code represents it as
// M = multiplier * 2^(shift - 31) with multiplier a Q31 fraction in [0.5, 1) (i.e. in
// [2^30, 2^31)), and shift in TFLite's convention: positive means "shift left".
import type { Requant } from '../ir/types.js';

// One scratch buffer to look at the bits of a double.
const bits = new DataView(new ArrayBuffer(8));

/**
 * C's frexp: x = fraction * 2^exponent with |fraction| in [0.5, 1), exactly (no rounding: only
 * the exponent bits are rewritten). frexp(0) = { 0, 0 }; non-finite values come back unchanged.
 */
export function frexp(x: number): { fraction: number; exponent: number } {
  if (x === 0 || !Number.isFinite(x)) return { fraction: x, exponent: 0 };
  bits.setFloat64(0, x);
  // Big-endian view: the top 16 bits are sign (1), exponent (11), mantissa (4).
  const top = bits.getUint16(0);
  const biasedExponent = (top >>> 4) & 0x7ff;
  if (biasedExponent === 0) {
    // Subnormal: there is no implicit leading 1. Scaling by 2^64 is exact and makes it normal.
    const scaled = frexp(x * 2 ** 64);
    return { fraction: scaled.fraction, exponent: scaled.exponent - 64 };
  }
  // A normal double is 1.m * 2^(E - 1023) = 0.1m * 2^(E - 1022). Writing the biased exponent
  // 1022 (i.e. 2^-1) in place of E, keeping sign and mantissa, gives the fraction 0.1m exactly.
  bits.setUint16(0, (top & 0x800f) | (1022 << 4));
  return { fraction: bits.getFloat64(0), exponent: biasedExponent - 1022 };
}

/** std::round: half away from zero (JS Math.round sends -2.5 to -2, std::round to -3). */
export function roundHalfAwayFromZero(v: number): number {
  const magnitude = Math.abs(v);
  const whole = Math.floor(magnitude);
  // magnitude - whole is exact for doubles, so the .5 comparison sees the true fraction.
  const rounded = magnitude - whole >= 0.5 ? whole + 1 : whole;
  return v < 0 ? -rounded : rounded;
}

const TWO_POW_31 = 2147483648;

/**
 * TFLite's QuantizeMultiplier: real = multiplier * 2^(shift - 31).
 * multiplier is 0 for real 0, and for |real| so small that the shift would be below -31
 * (TFLite flushes those to zero rather than shift by more than 31).
 */
export function quantizeMultiplier(real: number): { multiplier: number; shift: number } {
  if (!Number.isFinite(real)) {
    throw new RangeError(`quantizeMultiplier: expected a finite real multiplier, found ${real}`);
  }
  if (real === 0) return { multiplier: 0, shift: 0 };
  const { fraction, exponent } = frexp(real);
  let shift = exponent;
  // fraction * 2^31 is exact (a power-of-two scaling); only the rounding to an integer loses bits.
  let q = roundHalfAwayFromZero(fraction * TWO_POW_31);
  // A fraction just below 1 can round up to 2^31, which does not fit in int32: use 2^30 * 2^(shift+1).
  if (q === TWO_POW_31) {
    q /= 2;
    shift += 1;
  }
  // Below 2^-31 every product would be shifted out entirely; TFLite stores that as zero.
  if (shift < -31) {
    shift = 0;
    q = 0;
  }
  return { multiplier: q, shift };
}

/** Per-channel (multiplier, shift) of (double)sIn * (double)sW / (double)sOut, as TFLite derives them. */
export function requantFor(inputScale: number, weightScales: Float64Array, outputScale: number): Requant {
  const multiplier = new Int32Array(weightScales.length);
  const shift = new Int32Array(weightScales.length);
  weightScales.forEach((ws, c) => {
    const q = quantizeMultiplier((inputScale * ws) / outputScale);
    multiplier[c] = q.multiplier;
    shift[c] = q.shift;
  });
  return { multiplier, shift, weightScale: Float64Array.from(weightScales) };
}
