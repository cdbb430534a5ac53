// gemmlowp's fixed-point exp and reciprocal (fixedpoint.h), the two transcendental functions of
// TFLite's int8 softmax, transcribed step by step so that every intermediate equals the C one.
//
// A gemmlowp FixedPoint<int32_t, I> is an int32 `raw` meaning raw * 2^(I - 31): I integer bits,
// 31 - I fractional bits. Here every value is its raw int32; the comments name the format
// (Q0 = 0 integer bits, Q5 = 5, ...). gemmlowp's operations on them are:
//   a + b, a - b   raw add/subtract (int32; `| 0` wraps as the C does, none of these overflow);
//   a * b          SaturatingRoundingDoublingHighMul, the result has I_a + I_b integer bits;
//   Rescale<J>(a)  SaturatingRoundingMultiplyByPOT<I - J>: a saturating left shift, or a
//                  rounding right shift (RoundingDivideByPOT).
import { roundingDivideByPOT, saturatingRoundingDoublingHighMul as mul } from './fixedpoint.js';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
/** FixedPoint<int32_t, 0>::One(): with no integer bits, 1.0 is represented by the largest raw. */
const Q0_ONE = INT32_MAX;

/**
 * gemmlowp's SaturatingRoundingMultiplyByPOT<exponent>: x * 2^exponent. Left shifts saturate
 * (|x| beyond 2^(31 - exponent) - 1 gives INT32_MAX / INT32_MIN); right shifts round half away
 * from zero (RoundingDivideByPOT).
 */
export function saturatingRoundingMultiplyByPOT(x: number, exponent: number): number {
  if (exponent === 0) return x;
  if (exponent < 0) return roundingDivideByPOT(x, -exponent);
  const threshold = (1 << (31 - exponent)) - 1;
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return x << exponent;
}

/** gemmlowp's RoundingHalfSum for int32: (a + b) / 2 rounded half away from zero, in 64 bits. */
export function roundingHalfSum(a: number, b: number): number {
  const sum = a + b; // exact: |sum| < 2^32
  return Math.trunc((sum + (sum >= 0 ? 1 : -1)) / 2);
}

/**
 * exp(a) for a Q0 value a in [-1/4, 0): a Taylor expansion around -1/8 (x = a + 1/8):
 * e^-1/8 * (1 + x + x^2/2 + x^3/6 + x^4/24), with gemmlowp's constants and rounding steps.
 */
function expOnIntervalBetweenNegativeOneQuarterAnd0Excl(a: number): number {
  const expMinusOneEighth = 1895147668; // e^(-1/8) in Q0
  const oneThird = 715827883; // 1/3 in Q0
  const x = (a + (1 << 28)) | 0; // + 1/8 (2^28 in Q0)
  const x2 = mul(x, x);
  const x3 = mul(x2, x);
  const x4 = mul(x2, x2);
  const x4Over4 = roundingDivideByPOT(x4, 2);
  // ((x^4/4 + x^3) / 3 + x^2) / 2 = x^4/24 + x^3/6 + x^2/2
  const higherTerms = roundingDivideByPOT((mul((x4Over4 + x3) | 0, oneThird) + x2) | 0, 1);
  return (expMinusOneEighth + mul(expMinusOneEighth, (x + higherTerms) | 0)) | 0;
}

/**
 * exp(-2^k) in Q0 for k = -2 .. 4: the barrel shifter multiplies these in for each set bit of
 * the part of |a| above the last quarter.
 */
const EXP_OF_MINUS_POWERS_OF_TWO = [1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242];

/** Integer bits of softmax's scaled differences (TFLite's kScaledDiffIntegerBits). */
export const EXP_INPUT_INTEGER_BITS = 5;

/**
 * gemmlowp's exp_on_negative_values for a Q5 input a <= 0 (the only format TFLite's int8
 * softmax uses), result in Q0. a is split into a remainder in [-1/4, 0) handled by the Taylor
 * expansion and a multiple of 1/4 whose bits select factors exp(-1/4), exp(-1/2), ... exp(-16).
 * With 5 integer bits gemmlowp applies no clamp below -32; exp(0) is exactly Q0's one.
 */
export function expOnNegativeValues(a: number): number {
  const fractionalBits = 31 - EXP_INPUT_INTEGER_BITS; // 26
  const oneQuarter = 1 << (fractionalBits - 2);
  const aModQuarterMinusOneQuarter = ((a & (oneQuarter - 1)) - oneQuarter) | 0;
  // Rescale<0> of a Q5 value: a saturating left shift by 5.
  let result = expOnIntervalBetweenNegativeOneQuarterAnd0Excl(
    saturatingRoundingMultiplyByPOT(aModQuarterMinusOneQuarter, EXP_INPUT_INTEGER_BITS),
  );
  const remainder = (aModQuarterMinusOneQuarter - a) | 0;
  for (let k = 0; k < EXP_OF_MINUS_POWERS_OF_TWO.length; k++) {
    // Bit of 2^(k - 2) in Q5 (k - 2 < 5 integer bits, so every factor applies).
    const bit = 1 << (fractionalBits + k - 2);
    if ((remainder & bit) !== 0) result = mul(result, EXP_OF_MINUS_POWERS_OF_TWO[k]);
  }
  return a === 0 ? Q0_ONE : result;
}

/**
 * gemmlowp's one_over_one_plus_x_for_x_in_0_1: 1 / (1 + a) for a Q0 value a in [0, 1), result
 * in Q0, by three Newton-Raphson steps on the half denominator (in Q2).
 */
export function oneOverOnePlusXForXIn01(a: number): number {
  const q2One = 1 << 29;
  const halfDenominator = roundingHalfSum(a, Q0_ONE); // (1 + a) / 2, Q0
  const fortyEightSeventeenths = 1515870810; // 48/17, Q2
  const minusThirtyTwoSeventeenths = -1010580540; // -32/17, Q2
  let x = (fortyEightSeventeenths + mul(halfDenominator, minusThirtyTwoSeventeenths)) | 0; // Q2
  for (let i = 0; i < 3; i++) {
    const halfDenominatorTimesX = mul(halfDenominator, x); // Q2
    const oneMinusHalfDenominatorTimesX = (q2One - halfDenominatorTimesX) | 0; // Q2
    // x * (1 - d x) is Q4; Rescale<2> shifts it left by 2, saturating.
    x = (x + saturatingRoundingMultiplyByPOT(mul(x, oneMinusHalfDenominatorTimesX), 2)) | 0;
  }
  // x / 2 (ExactMulByPot<-1>: same raw, one integer bit fewer, Q1), then Rescale<0>: << 1.
  return saturatingRoundingMultiplyByPOT(x, 1);
}

/**
 * TFLite's GetReciprocal: for x > 0 in Q(integerDigits), a Q0 scale and a shift with
 * 1 / x = scale * 2^-numBitsOverUnit. x is normalized to [1, 2) by its leading zeros, and
 * 1 / (1 + (x' - 1)) computed by oneOverOnePlusXForXIn01.
 */
export function getReciprocal(x: number, integerDigits: number): { scale: number; numBitsOverUnit: number } {
  const headroomPlusOne = Math.clz32(x);
  // (uint32(x) << headroomPlusOne) - 2^31, i.e. x' - 1 in Q0 (the shift puts x's top bit at 31).
  const shiftedSumMinusOne = ((x << headroomPlusOne) - 0x80000000) | 0;
  return {
    scale: oneOverOnePlusXForXIn01(shiftedSumMinusOne),
    numBitsOverUnit: integerDigits - headroomPlusOne,
  };
}
