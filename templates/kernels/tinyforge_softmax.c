/*
 * tinyforge_softmax.c - int8 softmax with int8 output (TFLite Micro's reference quantized
 * Softmax, gemmlowp's fixed-point exp and reciprocal, bit for bit).
 *
 * Per row (the last dimension, `depth` values):
 *   1. diff = input - max of the row, in [-255, 0]. Values with diff < diff_min contribute
 *      nothing and give -128.
 *   2. The difference is scaled to Q5.26 by (input_multiplier, input_left_shift), which fold in
 *      beta and the input scale (TFLite's PreprocessSoftmaxScaling):
 *      scaled = SRDHM(diff * 2^input_left_shift, input_multiplier).
 *   3. e = exp(scaled) in Q0.31 (exp_on_negative_values: exp on [-1/4, 0) by a Taylor series
 *      around -1/8, then one multiply by exp(-2^k) for every bit k of the remaining multiple of
 *      1/4); the sum of the e, each rounded to Q12.19, is the denominator.
 *   4. 1 / sum by Newton-Raphson on the sum normalised to [1, 2) (three iterations), and
 *      output = RoundingDivideByPOT(SRDHM(reciprocal, e), bits of the sum above 1 + 23) - 128,
 *      clamped to int8: output scale 1/256, zero point -128 (TFLite's int8 softmax contract).
 *
 * The arithmetic runs a handful of times per value and once per row for the reciprocal, so it
 * is plain C with one exact 64-bit product per SRDHM (no DSP path: nothing here is a hot loop).
 * The generator limits depth to 511 so that the final shift stays below 32 (a row's sum is at
 * most depth * 2^19).
 */
#include <stdint.h>

#include "tinyforge_kernels.h"
#include "tinyforge_requant.h"

/* gemmlowp's SaturatingRoundingDoublingHighMul for operands of any sign:
 * floor((a * b + 2^30) / 2^31) (see tinyforge_requant.h), saturating the one overflow. */
static int32_t tinyforge_sm_mul(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN) {
        return INT32_MAX;
    }
    const int64_t ab = (int64_t)a * (int64_t)b;
    return (int32_t)((ab + ((int64_t)1 << 30)) >> 31);
}

/* gemmlowp's SaturatingRoundingMultiplyByPOT<exponent> for exponent in 1..30: x * 2^exponent,
 * saturated to int32. */
static int32_t tinyforge_sm_shl_sat(int32_t x, int32_t exponent)
{
    const int32_t threshold = (INT32_C(1) << (31 - exponent)) - 1;
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)x << exponent);
}

/* exp(a) for a in [-1/4, 0), Q0.31 in and out: Taylor expansion around -1/8. */
static int32_t tinyforge_sm_exp_quarter(int32_t a)
{
    const int32_t exp_minus_one_eighth = 1895147668; /* exp(-1/8) */
    const int32_t one_third = 715827883;
    const int32_t x = a + (INT32_C(1) << 28); /* a + 1/8 */
    const int32_t x2 = tinyforge_sm_mul(x, x);
    const int32_t x3 = tinyforge_sm_mul(x2, x);
    const int32_t x4 = tinyforge_sm_mul(x2, x2);
    const int32_t x4_over_4 = tinyforge_rdbpot(x4, 2);
    /* x^4/24 + x^3/6 + x^2/2, then exp(-1/8) * (1 + x + that) */
    const int32_t poly = tinyforge_rdbpot(tinyforge_sm_mul(x4_over_4 + x3, one_third) + x2, 1);
    return exp_minus_one_eighth + tinyforge_sm_mul(exp_minus_one_eighth, x + poly);
}

/* exp(a) for a <= 0: a in Q5.26, result in Q0.31 (gemmlowp's exp_on_negative_values). */
static int32_t tinyforge_sm_exp(int32_t a)
{
    /* exp(-2^k) in Q0.31, k = -2 .. 4. */
    static const int32_t exp_of_minus_pow2[7] = { 1672461947, 1302514674, 790015084, 290630308,
                                                  39332535,   720401,     242 };
    const int32_t quarter = INT32_C(1) << 24;
    /* a = (a mod 1/4) - 1/4 - remainder, remainder a non-negative multiple of 1/4. */
    const int32_t a_mod_quarter_minus_quarter = (a & (quarter - 1)) - quarter;
    int32_t result = tinyforge_sm_exp_quarter(tinyforge_sm_shl_sat(a_mod_quarter_minus_quarter, 5));
    const int32_t remainder = a_mod_quarter_minus_quarter - a;
    for (int32_t k = 0; k < 7; k++) {
        if (remainder & (INT32_C(1) << (24 + k))) {
            result = tinyforge_sm_mul(result, exp_of_minus_pow2[k]);
        }
    }
    return (a == 0) ? INT32_MAX : result;
}

/* 1 / (1 + a) for a in [0, 1), Q0.31 in and out: three Newton-Raphson steps from 48/17 - 32/17 d. */
static int32_t tinyforge_sm_reciprocal_1_plus(int32_t a)
{
    /* RoundingHalfSum(a, 1): (1 + a) / 2, the half denominator in Q0.31. a >= 0. */
    const int32_t half_d = (int32_t)(((int64_t)a + INT32_MAX + 1) / 2);
    const int32_t c48_17 = 1515870810;    /* 48/17 in Q2.29 */
    const int32_t cm32_17 = -1010580540;  /* -32/17 in Q2.29 */
    const int32_t one_q2 = INT32_C(1) << 29;
    int32_t x = c48_17 + tinyforge_sm_mul(half_d, cm32_17);
    for (int i = 0; i < 3; i++) {
        const int32_t one_minus_dx = one_q2 - tinyforge_sm_mul(half_d, x);
        x = x + tinyforge_sm_shl_sat(tinyforge_sm_mul(x, one_minus_dx), 2);
    }
    return tinyforge_sm_shl_sat(x, 1); /* x / 2 in Q1.30, as Q0.31 */
}

/* Leading zeros of a positive int32. */
static int32_t tinyforge_sm_clz(uint32_t x)
{
    int32_t n = 0;
    while ((x & UINT32_C(0x80000000)) == 0) {
        x <<= 1;
        n++;
    }
    return n;
}

/* The scaled difference of one value (Q5.26), for diff >= diff_min. */
static int32_t tinyforge_sm_scaled(const tinyforge_softmax_params_t *p, int32_t diff)
{
    /* |diff| * 2^input_left_shift < 2^31 for every diff >= diff_min (TFLite's input radius). */
    return tinyforge_sm_mul((int32_t)((uint32_t)diff << p->input_left_shift), p->input_multiplier);
}

void tinyforge_softmax(const tinyforge_softmax_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t depth = p->depth;
    for (int32_t row = 0; row < p->rows; row++) {
        int32_t max = -128;
        for (int32_t c = 0; c < depth; c++) {
            if (input[c] > max) {
                max = input[c];
            }
        }
        int32_t sum = 0; /* Q12.19 */
        for (int32_t c = 0; c < depth; c++) {
            const int32_t diff = input[c] - max;
            if (diff >= p->diff_min) {
                sum += tinyforge_rdbpot(tinyforge_sm_exp(tinyforge_sm_scaled(p, diff)), 12);
            }
        }
        /* sum = 2^bits * (1 + f) with f in [0, 1); the max alone gives 2^19, so sum > 0. */
        const int32_t headroom = tinyforge_sm_clz((uint32_t)sum);
        const int32_t bits_over_unit = 12 - headroom;
        const int32_t f = (int32_t)(((uint32_t)sum << headroom) - UINT32_C(0x80000000));
        const int32_t reciprocal = tinyforge_sm_reciprocal_1_plus(f);
        for (int32_t c = 0; c < depth; c++) {
            const int32_t diff = input[c] - max;
            int32_t out = -128;
            if (diff >= p->diff_min) {
                const int32_t e = tinyforge_sm_exp(tinyforge_sm_scaled(p, diff));
                out = tinyforge_rdbpot(tinyforge_sm_mul(reciprocal, e), bits_over_unit + 23) - 128;
                if (out > 127) {
                    out = 127;
                }
                if (out < -128) {
                    out = -128;
                }
            }
            output[c] = (int8_t)out;
        }
        input += depth;
        output += depth;
    }
}
