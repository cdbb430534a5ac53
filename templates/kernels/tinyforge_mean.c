/*
 * tinyforge_mean.c - int8 MEAN over contiguous axes (TFLite Micro's reference
 * QuantizedMeanOrSum, default double rounding).
 *
 * With the input seen as [outer, reduced, inner] and the output as [outer, inner]:
 *
 *     acc = sum over r of (input[o][r][i] + input_offset)         (input_offset = -zero point)
 *     output[o][i] = clamp(MultiplyByQuantizedMultiplier(acc, multiplier, shift) + output_offset,
 *                          -128, 127)
 *
 * The multiplier folds in both the scale ratio and 1/N (N = reduced): TFLM shifts the Q31
 * multiplier of input_scale / output_scale left by floor(log2 N) (at most 32, and no more than
 * keeps the shift >= -31), divides it by N with integer division, and lowers the shift by the same
 * amount. So the mean rounds twice (in the high multiply and in the shift), and differs from
 * AVERAGE_POOL_2D's rounded division over the same window. The generator does that fold (TFLM
 * does it at run time), so (multiplier, shift) here already include 1/N.
 */
#include <stdint.h>

#include "tinyforge_kernels.h"
#include "tinyforge_requant.h"

void tinyforge_mean(const tinyforge_mean_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t inner = p->inner;
    const int32_t reduced = p->reduced;
    /* sum(x + input_offset) = sum(x) + N * input_offset, as TFLM subtracts zero point * N. */
    const int32_t offset_sum = reduced * p->input_offset;

    for (int32_t o = 0; o < p->outer; o++) {
        const int8_t *block = input + o * reduced * inner;
        for (int32_t i = 0; i < inner; i++) {
            int32_t acc = offset_sum;
            const int8_t *x = block + i;
            for (int32_t r = 0; r < reduced; r++) {
                acc += *x;
                x += inner;
            }
            *output++ = tinyforge_requantize(acc, p->multiplier, p->shift, p->output_offset, -128, 127);
        }
    }
}
