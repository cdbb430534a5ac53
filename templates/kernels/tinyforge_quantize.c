/*
 * tinyforge_quantize.c - QUANTIZE float32 -> int8, the graph's float input (TFLite Micro's
 * reference AffineQuantize):
 *
 *     q = clamp(round(x / scale) + zero_point, -128, 127)
 *
 * x / scale is a float32 division and round() rounds half away from zero (TfLiteRound on a
 * float), so the generated scale is the tensor's float32 value. The rounding is done without
 * libm: t = (int32_t)v truncates, and v - t is exact in float32 for |v| < 2^24.
 * Float values are moved with memcpy: the arena is not a float array.
 */
#include <stdint.h>
#include <string.h>

#include "tinyforge_float_io.h"

/* round(x / scale) + zero_point, clamped to int8. */
static int8_t tinyforge_quantize_one(float x, float scale, int32_t zero_point)
{
    const float v = x / scale;
    /* NaN has no int8 value (TFLM's cast is undefined): the zero point, i.e. 0.0. */
    if (v != v) {
        return (int8_t)zero_point;
    }
    /* Beyond +-512 the clamp decides whatever the zero point. */
    if (v < -512.0f) {
        return -128;
    }
    if (v > 512.0f) {
        return 127;
    }
    int32_t q = (int32_t)v; /* truncated towards zero */
    const float fraction = v - (float)q;
    if (fraction >= 0.5f) {
        q++;
    } else if (fraction <= -0.5f) {
        q--;
    }
    q += zero_point;
    return (int8_t)(q < -128 ? -128 : (q > 127 ? 127 : q));
}

void tinyforge_quantize_f32(const tinyforge_quantize_params_t *p, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < p->size; i++) {
        float x;
        memcpy(&x, input + 4 * i, sizeof x);
        output[i] = tinyforge_quantize_one(x, p->scale, p->zero_point);
    }
}
