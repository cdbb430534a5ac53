/*
 * tinyforge_requant.h - fixed-point requantization helpers (TFLite int8 spec).
 *
 * The int32 accumulator of a conv / depthwise / fully connected layer is scaled back to int8
 * with a per-channel (multiplier, shift) pair: multiplier is a Q31 number in [2^30, 2^31),
 * shift is a power of two (positive = left), so real_scale = multiplier * 2^(shift - 31).
 * The rounding follows gemmlowp exactly, so the result equals TFLite's reference kernels
 * bit for bit. No floating point, no division; the 64-bit product is a single SMULL on
 * Cortex-M3/M4 (a libgcc call on Cortex-M0).
 */
#ifndef TINYFORGE_REQUANT_H
#define TINYFORGE_REQUANT_H

#include <stdint.h>

/*
 * SaturatingRoundingDoublingHighMul: the high 32 bits of 2*a*b, rounded to nearest (ties away
 * from zero). The only overflowing case, INT32_MIN * INT32_MIN, saturates to INT32_MAX.
 */
static inline int32_t tinyforge_srdhm(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    const int64_t ab = (int64_t)a * (int64_t)b;
    const int64_t nudge = (ab >= 0) ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
    const int64_t sum = ab + nudge;
    /*
     * gemmlowp divides by 2^31 truncating towards zero. An arithmetic shift rounds towards
     * minus infinity, so negative values are biased by 2^31 - 1 first; this keeps 64-bit
     * division (and its libgcc helper) out of the firmware.
     */
    const int64_t biased = (sum < 0) ? (sum + (((int64_t)1 << 31) - 1)) : sum;
    return (int32_t)(biased >> 31);
}

/*
 * RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from zero.
 * exponent is in [0, 31].
 */
static inline int32_t tinyforge_rdbpot(int32_t x, int32_t exponent)
{
    const int32_t mask = (int32_t)((UINT32_C(1) << exponent) - 1u);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + ((x < 0) ? 1 : 0);
    return (x >> exponent) + ((remainder > threshold) ? 1 : 0);
}

/* MultiplyByQuantizedMultiplier: x * multiplier * 2^(shift - 31) with TFLite's rounding. */
static inline int32_t tinyforge_mbqm(int32_t x, int32_t multiplier, int32_t shift)
{
    const int32_t left_shift = (shift > 0) ? shift : 0;
    const int32_t right_shift = (shift > 0) ? 0 : -shift;
    return tinyforge_rdbpot(tinyforge_srdhm(x * (INT32_C(1) << left_shift), multiplier), right_shift);
}

/* Accumulator -> int8 output: scale, add the output zero point, clamp to the activation range. */
static inline int8_t tinyforge_requantize(int32_t acc, int32_t multiplier, int32_t shift,
                                          int32_t output_offset, int32_t act_min, int32_t act_max)
{
    int32_t out = tinyforge_mbqm(acc, multiplier, shift) + output_offset;
    if (out < act_min) {
        out = act_min;
    }
    if (out > act_max) {
        out = act_max;
    }
    return (int8_t)out;
}

#endif /* TINYFORGE_REQUANT_H */
