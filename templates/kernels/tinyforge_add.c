/*
 * tinyforge_add.c - elementwise int8 ADD of two tensors of the same shape (TFLite Micro's
 * reference integer ADD, default double rounding).
 *
 * Each input is brought to a common scale 2 * max(s1, s2) before the sum, with headroom:
 *
 *     a   = (input1[i] + input1_offset) * 2^left_shift            (left_shift = 20)
 *     b   = (input2[i] + input2_offset) * 2^left_shift
 *     a'  = RoundingDivideByPOT(SRDHM(a, input1_multiplier), -input1_shift)
 *     b'  = RoundingDivideByPOT(SRDHM(b, input2_multiplier), -input2_shift)
 *     out = clamp(RoundingDivideByPOT(SRDHM(a' + b', output_multiplier), -output_shift)
 *                 + output_offset, act_min, act_max)
 *
 * Every shift is <= 0 (TFLite's QuantizeMultiplierSmallerThanOneExp), so each rescale is
 * MultiplyByQuantizedMultiplier with a non-positive shift (tinyforge_mbqm). |a|, |b| < 2^28 and
 * |a' + b'| < 2^29: no intermediate overflows.
 *
 * DSP path: four elements per step, the input offsets added to two values at a time with SXTAB16
 * (the widened, offset values are the same integers as the portable path's); the rescales are
 * per element in both paths, so the results are identical.
 */
#include <stdint.h>

#include "tinyforge_dsp.h"
#include "tinyforge_kernels.h"
#include "tinyforge_requant.h"

/* One output from the two offset inputs (x1 + input1_offset, x2 + input2_offset). */
TINYFORGE_INLINE int8_t tinyforge_add_one(const tinyforge_add_params_t *p, int32_t x1, int32_t x2)
{
    const int32_t a = tinyforge_mbqm(x1 * (INT32_C(1) << p->left_shift), p->input1_multiplier, p->input1_shift);
    const int32_t b = tinyforge_mbqm(x2 * (INT32_C(1) << p->left_shift), p->input2_multiplier, p->input2_shift);
    return tinyforge_requantize(a + b, p->output_multiplier, p->output_shift, p->output_offset, p->act_min,
                                p->act_max);
}

void tinyforge_add(const tinyforge_add_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    int32_t n = p->size;
#if defined(TINYFORGE_DSP)
    /* Each input offset in both int16 halves; x + offset is in [-255, 255]. */
    const int32_t offset1 = (int32_t)(((uint32_t)(uint16_t)p->input1_offset << 16) | (uint16_t)p->input1_offset);
    const int32_t offset2 = (int32_t)(((uint32_t)(uint16_t)p->input2_offset << 16) | (uint16_t)p->input2_offset);
    for (; n >= 4; n -= 4) {
        const int32_t v1 = tinyforge_read32(input1);
        const int32_t v2 = tinyforge_read32(input2);
        input1 += 4;
        input2 += 4;
        /* Elements 0 and 2 in the halves of *_even, 1 and 3 in *_odd. */
        const int32_t a_even = __sxtab16(offset1, v1);
        const int32_t a_odd = __sxtab16(offset1, tinyforge_ror8(v1));
        const int32_t b_even = __sxtab16(offset2, v2);
        const int32_t b_odd = __sxtab16(offset2, tinyforge_ror8(v2));
        output[0] = tinyforge_add_one(p, (int16_t)a_even, (int16_t)b_even);
        output[1] = tinyforge_add_one(p, (int16_t)a_odd, (int16_t)b_odd);
        output[2] = tinyforge_add_one(p, a_even >> 16, b_even >> 16);
        output[3] = tinyforge_add_one(p, a_odd >> 16, b_odd >> 16);
        output += 4;
    }
#endif
    /* Portable path, and the last size % 4 elements of the DSP path. */
    for (; n > 0; n--) {
        *output++ = tinyforge_add_one(p, *input1++ + p->input1_offset, *input2++ + p->input2_offset);
    }
}
