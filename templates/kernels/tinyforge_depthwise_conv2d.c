/*
 * tinyforge_depthwise_conv2d.c - int8 depthwise 2D convolution (TFLite int8 reference semantics).
 *
 * Every input channel ic is convolved with depth_multiplier filters of its own; output channel
 * oc = ic * depth_multiplier + m. Weights are [kernel_h, kernel_w, out_c] (TFLite's
 * [1, kH, kW, C * M] without the leading 1):
 *
 *     acc = bias[oc] + sum over valid taps (ky, kx) of
 *                      (input[iy][ix][ic] + input_offset) * weights[ky][kx][oc]
 *     output[oy][ox][oc] = clamp(MultiplyByQuantizedMultiplier(acc, multiplier[oc], shift[oc])
 *                                + output_offset, act_min, act_max)
 *
 * Portable C only: each channel has its own accumulator, and SMLAD adds the two products of a
 * pair into one accumulator, so using it would first need the taps of a channel gathered into
 * pairs; for the small kernels of an MCU model that costs about as much as it saves.
 */
#include <stdint.h>

#include "tinyforge_kernels.h"
#include "tinyforge_requant.h"

void tinyforge_depthwise_conv2d(const tinyforge_depthwise_conv2d_params_t *p, const int8_t *input,
                                int8_t *output)
{
    const int32_t in_w = p->in_w;
    const int32_t in_c = p->in_c;
    const int32_t out_c = p->out_c;
    const int32_t kernel_w = p->kernel_w;
    const int32_t depth_multiplier = p->depth_multiplier;
    const int32_t input_offset = p->input_offset;

    for (int32_t oy = 0; oy < p->out_h; oy++) {
        const int32_t iy0 = oy * p->stride_h - p->pad_top;
        const int32_t ky_start = (iy0 < 0) ? -iy0 : 0;
        const int32_t ky_end = (iy0 + p->kernel_h > p->in_h) ? (p->in_h - iy0) : p->kernel_h;

        for (int32_t ox = 0; ox < p->out_w; ox++) {
            const int32_t ix0 = ox * p->stride_w - p->pad_left;
            const int32_t kx_start = (ix0 < 0) ? -ix0 : 0;
            const int32_t kx_end = (ix0 + kernel_w > in_w) ? (in_w - ix0) : kernel_w;

            for (int32_t ic = 0; ic < in_c; ic++) {
                for (int32_t m = 0; m < depth_multiplier; m++) {
                    const int32_t oc = ic * depth_multiplier + m;
                    int32_t acc = p->bias[oc];
                    for (int32_t ky = ky_start; ky < ky_end; ky++) {
                        const int8_t *in_row = input + ((iy0 + ky) * in_w + ix0 + kx_start) * in_c + ic;
                        const int8_t *w_row = p->weights + (ky * kernel_w + kx_start) * out_c + oc;
                        for (int32_t k = 0; k < kx_end - kx_start; k++) {
                            acc += ((int32_t)in_row[k * in_c] + input_offset) * (int32_t)w_row[k * out_c];
                        }
                    }
                    *output++ = tinyforge_requantize(acc, p->multiplier[oc], p->shift[oc],
                                                     p->output_offset, p->act_min, p->act_max);
                }
            }
        }
    }
}
