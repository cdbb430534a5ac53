/*
 * tinyforge_requantize.c - QUANTIZE int8 -> int8 (TFLite Micro's reference Requantize), what the
 * TFLite converter puts before a CONCATENATION whose inputs have other scales than its output:
 *
 *     q = clamp(MultiplyByQuantizedMultiplier(x + input_offset, multiplier, shift)
 *               + output_offset, -128, 127)
 *
 * with (multiplier, shift) from input_scale / output_scale.
 */
#include <stdint.h>

#include "tinyforge_kernels.h"
#include "tinyforge_requant.h"

void tinyforge_requantize_s8(const tinyforge_requantize_params_t *p, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < p->size; i++) {
        output[i] = tinyforge_requantize(input[i] + p->input_offset, p->multiplier, p->shift, p->output_offset,
                                         -128, 127);
    }
}
