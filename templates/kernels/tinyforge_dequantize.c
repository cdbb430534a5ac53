/*
 * tinyforge_dequantize.c - DEQUANTIZE int8 -> float32 (TFLite Micro's reference kernel, the
 * graph's float output):
 *
 *     x = (float)((double)scale * (q - zero_point))
 *
 * computed here as one float32 multiply, which gives the same value: the exact product of a
 * float32 scale and an integer of at most 9 bits has at most 33 significant bits, so TFLM's
 * double product is exact and its conversion to float rounds the exact product once, as the
 * float32 multiply does. Float values are moved with memcpy: the arena is not a float array.
 */
#include <stdint.h>
#include <string.h>

#include "tinyforge_float_io.h"

void tinyforge_dequantize(const tinyforge_quantize_params_t *p, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < p->size; i++) {
        const float x = p->scale * (float)(input[i] - p->zero_point);
        memcpy(output + 4 * i, &x, sizeof x);
    }
}
