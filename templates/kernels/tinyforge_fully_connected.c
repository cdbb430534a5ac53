/*
 * tinyforge_fully_connected.c - int8 fully connected layer (TFLite int8 reference semantics).
 *
 *     acc = bias[o] + sum over i of (input[i] + input_offset) * weights[o][i]
 *     output[o] = clamp(MultiplyByQuantizedMultiplier(acc, multiplier[o], shift[o])
 *                       + output_offset, act_min, act_max)
 *
 * Each output is one dot product over a weight row (tinyforge_dot_s8, which has the DSP path).
 */
#include <stdint.h>

#include "tinyforge_kernels.h"
#include "tinyforge_requant.h"

void tinyforge_fully_connected(const tinyforge_fully_connected_params_t *p, const int8_t *input,
                               int8_t *output)
{
    const int32_t in_n = p->in_n;
    const int8_t *row = p->weights;

    for (int32_t o = 0; o < p->out_n; o++) {
        const int32_t acc = tinyforge_dot_s8(input, row, in_n, p->input_offset, p->bias[o]);
        output[o] = tinyforge_requantize(acc, p->multiplier[o], p->shift[o], p->output_offset,
                                         p->act_min, p->act_max);
        row += in_n;
    }
}
