/*
 * tinyforge_pad.c - constant padding of an int8 tensor (TFLite Micro's PAD for int8: the padding
 * value is the zero point, the quantization is unchanged).
 *
 * The tensor is seen as rank 4 (the generator puts 1s in front of a smaller shape). Output rows
 * (runs along the last dimension) that lie in the padding of an outer dimension are filled
 * whole; the others get `before` fill values, one input row, `after` fill values. The input is
 * read once, in order.
 */
#include <stdint.h>
#include <string.h>

#include "tinyforge_kernels.h"

void tinyforge_pad(const tinyforge_pad_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t row_in = p->in_dims[3];
    const int32_t row_out = p->out_dims[3];
    const int32_t before = p->before[3];
    const int32_t after = row_out - row_in - before;

    for (int32_t d0 = 0; d0 < p->out_dims[0]; d0++) {
        const int32_t i0 = d0 - p->before[0];
        for (int32_t d1 = 0; d1 < p->out_dims[1]; d1++) {
            const int32_t i1 = d1 - p->before[1];
            for (int32_t d2 = 0; d2 < p->out_dims[2]; d2++) {
                const int32_t i2 = d2 - p->before[2];
                const int inside = i0 >= 0 && i0 < p->in_dims[0] && i1 >= 0 && i1 < p->in_dims[1] && i2 >= 0 &&
                                   i2 < p->in_dims[2];
                if (!inside) {
                    memset(output, p->pad_value, (size_t)row_out);
                } else {
                    memset(output, p->pad_value, (size_t)before);
                    memcpy(output + before, input, (size_t)row_in);
                    memset(output + before + row_in, p->pad_value, (size_t)after);
                    input += row_in;
                }
                output += row_out;
            }
        }
    }
}
