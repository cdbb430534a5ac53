/*
 * tinyforge_requant.h - fixed-point requantization helpers (TFLite int8 spec).
 *
 * The int32 accumulator of a conv / depthwise / fully connected layer is scaled back to int8
 * with a per-channel (multiplier, shift) pair: multiplier is a Q31 number in [2^30, 2^31) (or 0),
 * shift is a power of two (positive = left), so real_scale = multiplier * 2^(shift - 31).
 * The rounding follows gemmlowp exactly, so the result equals TFLite's reference kernels
 * bit for bit. No floating point, no division; the 64-bit product is a single SMLAL on
 * Cortex-M3/M4 (a libgcc call on Cortex-M0).
 */
#ifndef TINYFORGE_REQUANT_H
#define TINYFORGE_REQUANT_H

#include <stdint.h>

/* The requantization runs once per output value, in the kernels' output loops: always inlined,
 * so that per-channel values stay in registers across the outputs of a channel (GCC at -Os
 * would otherwise call it). */
#if defined(__GNUC__)
#define TINYFORGE_INLINE static inline __attribute__((always_inline))
#else
#define TINYFORGE_INLINE static inline
#endif

/*
 * x * m as an exact 64-bit product, for a multiplier m in [0, 2^31 - 1].
 *
 * Cortex-M3/M4 (and any 64-bit host) have a 32 x 32 -> 64 multiply (SMULL / SMLAL). ARMv6-M and
 * ARMv8-M Baseline cores (Cortex-M0/M0+/M1/M23) have only MULS (the low 32 bits), and GCC calls
 * libgcc's __muldi3, a full 64 x 64 product of about 40 instructions; there the product is built
 * from four 16 x 16 -> 32 products instead (TINYFORGE_NO_LONG_MULTIPLY forces that path, for
 * testing). With x = xh * 2^16 + xl and m = mh * 2^16 + ml (xl, ml in [0, 2^16), xh in
 * [-2^15, 2^15), mh in [0, 2^15)), every partial product fits 32 bits: xl * ml < 2^32 unsigned,
 * |xh * ml| < 2^31, xl * mh < 2^31, |xh * mh| < 2^30.
 */
#if defined(__ARM_ARCH_6M__) || defined(__ARM_ARCH_8M_BASE__) || defined(TINYFORGE_NO_LONG_MULTIPLY)
/* c * 2^16 added to the 64-bit value (*hi, *lo): low word (c << 16), high word (c >> 16), carry. */
TINYFORGE_INLINE void tinyforge_add_shl16(uint32_t *hi, uint32_t *lo, int32_t c)
{
    const uint32_t part = (uint32_t)c << 16;
    *lo += part;
    *hi += (uint32_t)(c >> 16) + (*lo < part ? 1u : 0u);
}

TINYFORGE_INLINE int64_t tinyforge_mul64(int32_t x, int32_t m)
{
    const uint32_t xl = (uint32_t)x & 0xFFFFu;
    const int32_t xh = x >> 16;
    const uint32_t ml = (uint32_t)m & 0xFFFFu;
    const int32_t mh = m >> 16;
    uint32_t lo = xl * ml;
    uint32_t hi = (uint32_t)(xh * mh);
    tinyforge_add_shl16(&hi, &lo, xh * (int32_t)ml);
    tinyforge_add_shl16(&hi, &lo, (int32_t)xl * mh);
    /* hi * 2^32 + lo as a two's complement int64 (the value fits: |x * m| < 2^62). */
    return (int64_t)(((uint64_t)hi << 32) | lo);
}
#else
TINYFORGE_INLINE int64_t tinyforge_mul64(int32_t x, int32_t m)
{
    return (int64_t)x * (int64_t)m;
}
#endif

/*
 * SaturatingRoundingDoublingHighMul(a, b) for a multiplier b in [0, 2^31 - 1] (the IR validator
 * guarantees this range for every multiplier):
 *
 * gemmlowp adds a nudge of 2^30 when a*b >= 0 and 1 - 2^30 when a*b < 0, then divides by 2^31
 * truncating towards zero. For a*b < 0 truncation is the ceiling, and
 * ceil((a*b + 1 - 2^30) / 2^31) = floor((a*b + 1 - 2^30 + 2^31 - 1) / 2^31) = floor((a*b + 2^30) / 2^31);
 * for a*b >= 0 truncation already is the floor. So both cases are one arithmetic shift of
 * a*b + 2^30 (one SMLAL with the accumulator preset to 2^30, then the shift). The only input
 * gemmlowp saturates, INT32_MIN * INT32_MIN, needs b = INT32_MIN and cannot occur; with b >= 0,
 * |a*b| < 2^62 and the result always fits int32.
 */
TINYFORGE_INLINE int32_t tinyforge_srdhm(int32_t a, int32_t b)
{
    const int64_t ab = tinyforge_mul64(a, b);
    return (int32_t)((ab + ((int64_t)1 << 30)) >> 31);
}

/*
 * RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from zero.
 * exponent is in [0, 31]. The arithmetic shift floors; one is added back when the discarded
 * remainder exceeds half (for negative x the threshold is one higher, which sends ties down,
 * i.e. away from zero).
 */
TINYFORGE_INLINE int32_t tinyforge_rdbpot(int32_t x, int32_t exponent)
{
    const int32_t mask = (int32_t)((UINT32_C(1) << exponent) - 1u);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (int32_t)((uint32_t)x >> 31);
    return (x >> exponent) + ((remainder > threshold) ? 1 : 0);
}

/*
 * MultiplyByQuantizedMultiplier for shift < 0, i.e. RoundingDivideByPOT(SRDHM(x, multiplier), e)
 * with e = -shift in [1, 31], the two roundings fused into one 64-bit add and shift.
 *
 * With P = x * multiplier, X = SRDHM = floor((P + 2^30) / 2^31), h = 2^(e - 1) and s = 1 if X < 0:
 * RoundingDivideByPOT(X, e) = floor((X + h - s) / 2^e) (it adds one to floor(X / 2^e) exactly when
 * the remainder reaches h + s, as gemmlowp's remainder > threshold test does), and since h - s
 * is an integer, floor(floor(y) / n) = floor(y / n) gives
 *     floor((P + 2^30 + (h - s) * 2^31) / 2^(31 + e)),
 * i.e. the high word of P + nudge, shifted right by e - 1 (31 + e >= 32): one SMLAL with the
 * nudge preset, one shift. s may be taken from the sign of x instead of X: they differ only when
 * P is in [-2^30, 0), where X = 0 and both choices give 0. No intermediate overflows:
 * |P| < 2^62 and nudge <= 2^30 + 2^61. h is computed once per channel.
 */
TINYFORGE_INLINE int32_t tinyforge_mbqm_right(int32_t x, int32_t multiplier, uint32_t h, int32_t e_minus_1)
{
    /* nudge = 2^30 + v * 2^31 with v = h - s in [0, 2^30], built from its two 32-bit halves. */
    const uint32_t v = h - ((uint32_t)x >> 31);
    const uint64_t nudge = ((uint64_t)(v >> 1) << 32) | (UINT32_C(0x40000000) | (v << 31));
    const int32_t high = (int32_t)((tinyforge_mul64(x, multiplier) + (int64_t)nudge) >> 32);
    return high >> e_minus_1;
}

/*
 * MultiplyByQuantizedMultiplier: x * multiplier * 2^(shift - 31) with TFLite's rounding:
 * RoundingDivideByPOT(SRDHM(x * 2^max(shift, 0), multiplier), max(-shift, 0)). For shift >= 0
 * there is no rounding shift (the generator guarantees that x * 2^shift fits int32).
 */
TINYFORGE_INLINE int32_t tinyforge_mbqm(int32_t x, int32_t multiplier, int32_t shift)
{
    if (shift >= 0) {
        return tinyforge_srdhm(x * (INT32_C(1) << shift), multiplier);
    }
    return tinyforge_mbqm_right(x, multiplier, UINT32_C(1) << (-shift - 1), -shift - 1);
}

/* Scaled value -> int8 output: add the output zero point, clamp to the activation range. */
TINYFORGE_INLINE int8_t tinyforge_clamp(int32_t scaled, int32_t output_offset, int32_t act_min, int32_t act_max)
{
    int32_t out = scaled + output_offset;
    if (out < act_min) {
        out = act_min;
    }
    if (out > act_max) {
        out = act_max;
    }
    return (int8_t)out;
}

/* Accumulator -> int8 output: scale, add the output zero point, clamp to the activation range. */
TINYFORGE_INLINE int8_t tinyforge_requantize(int32_t acc, int32_t multiplier, int32_t shift,
                                             int32_t output_offset, int32_t act_min, int32_t act_max)
{
    return tinyforge_clamp(tinyforge_mbqm(acc, multiplier, shift), output_offset, act_min, act_max);
}

/*
 * Two accumulators of the same channel (two pixels) -> *out_a, *out_b (which may be the same
 * byte): the per-channel part (which formula, 2^(e - 1)) is worked out once for both.
 */
TINYFORGE_INLINE void tinyforge_requantize_2(int32_t acc_a, int32_t acc_b, int32_t multiplier, int32_t shift,
                                             int32_t output_offset, int32_t act_min, int32_t act_max,
                                             int8_t *out_a, int8_t *out_b)
{
    int32_t a;
    int32_t b;
    if (shift >= 0) {
        a = tinyforge_srdhm(acc_a * (INT32_C(1) << shift), multiplier);
        b = tinyforge_srdhm(acc_b * (INT32_C(1) << shift), multiplier);
    } else {
        const int32_t e_minus_1 = -shift - 1;
        const uint32_t h = UINT32_C(1) << e_minus_1;
        a = tinyforge_mbqm_right(acc_a, multiplier, h, e_minus_1);
        b = tinyforge_mbqm_right(acc_b, multiplier, h, e_minus_1);
    }
    *out_a = tinyforge_clamp(a, output_offset, act_min, act_max);
    *out_b = tinyforge_clamp(b, output_offset, act_min, act_max);
}

#endif /* TINYFORGE_REQUANT_H */
