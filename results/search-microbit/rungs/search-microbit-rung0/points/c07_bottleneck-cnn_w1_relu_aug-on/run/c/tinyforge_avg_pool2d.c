/*
 * tinyforge_avg_pool2d.c - int8 average pooling (TFLite reference semantics).
 *
 *     sum   = sum over valid taps of input[iy][ix][c]      (padding excluded)
 *     count = number of valid taps
 *     output[oy][ox][c] = clamp(sum / count rounded half away from zero, act_min, act_max)
 *
 * The rounding is done as (sum + count / 2) / count for positive sums and
 * (sum - count / 2) / count otherwise, with C's truncating division. Global average pooling
 * is this kernel with the window equal to the whole feature map.
 */
#include <stdint.h>

#include "tinyforge_kernels.h"

void tinyforge_avg_pool2d(const tinyforge_pool2d_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t in_w = p->in_w;
    const int32_t channels = p->channels;

    for (int32_t oy = 0; oy < p->out_h; oy++) {
        const int32_t iy0 = oy * p->stride_h - p->pad_top;
        const int32_t ky_start = (iy0 < 0) ? -iy0 : 0;
        const int32_t ky_end = (iy0 + p->pool_h > p->in_h) ? (p->in_h - iy0) : p->pool_h;

        for (int32_t ox = 0; ox < p->out_w; ox++) {
            const int32_t ix0 = ox * p->stride_w - p->pad_left;
            const int32_t kx_start = (ix0 < 0) ? -ix0 : 0;
            const int32_t kx_end = (ix0 + p->pool_w > in_w) ? (in_w - ix0) : p->pool_w;
            const int32_t count = (ky_end - ky_start) * (kx_end - kx_start);

            for (int32_t c = 0; c < channels; c++) {
                int32_t sum = 0;
                for (int32_t ky = ky_start; ky < ky_end; ky++) {
                    const int8_t *in_row = input + ((iy0 + ky) * in_w + ix0 + kx_start) * channels + c;
                    for (int32_t k = 0; k < kx_end - kx_start; k++) {
                        sum += in_row[k * channels];
                    }
                }
                int32_t avg = (sum > 0) ? (sum + count / 2) / count : (sum - count / 2) / count;
                if (avg < p->act_min) {
                    avg = p->act_min;
                }
                if (avg > p->act_max) {
                    avg = p->act_max;
                }
                *output++ = (int8_t)avg;
            }
        }
    }
}
