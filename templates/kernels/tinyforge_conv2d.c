/*
 * tinyforge_conv2d.c - int8 2D convolution (TFLite int8 reference semantics).
 *
 * For every output pixel (oy, ox) and output channel oc:
 *
 *     acc = bias[oc] + sum over valid taps (ky, kx, ic) of
 *                      (input[iy][ix][ic] + input_offset) * weights[oc][ky][kx][ic]
 *     output[oy][ox][oc] = clamp(MultiplyByQuantizedMultiplier(acc, multiplier[oc], shift[oc])
 *                                + output_offset, act_min, act_max)
 *
 * with iy = oy * stride_h - pad_top + ky and ix = ox * stride_w - pad_left + kx. Taps falling
 * into the padding are skipped (they would contribute (input_zero_point + input_offset) * w = 0).
 *
 * Layout trick: in NHWC the valid taps of one kernel row, all channels included, are
 * contiguous in the input ((ix_end - ix_start) * in_c bytes), and in OHWI they are contiguous
 * in the weights too. So each kernel row is a single dot product (tinyforge_dot_s8, which has
 * the DSP path); a 1x1 convolution is one dot product of in_c elements per output value.
 * No im2col buffer, no scratch memory.
 */
#include <stdint.h>

#include "tinyforge_kernels.h"
#include "tinyforge_requant.h"

void tinyforge_conv2d(const tinyforge_conv2d_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t in_w = p->in_w;
    const int32_t in_c = p->in_c;
    const int32_t kernel_h = p->kernel_h;
    const int32_t kernel_w = p->kernel_w;
    const int32_t filter_size = kernel_h * kernel_w * in_c;

    for (int32_t oy = 0; oy < p->out_h; oy++) {
        const int32_t iy0 = oy * p->stride_h - p->pad_top;
        /* Kernel rows that fall inside the input. */
        const int32_t ky_start = (iy0 < 0) ? -iy0 : 0;
        const int32_t ky_end = (iy0 + kernel_h > p->in_h) ? (p->in_h - iy0) : kernel_h;

        for (int32_t ox = 0; ox < p->out_w; ox++) {
            const int32_t ix0 = ox * p->stride_w - p->pad_left;
            /* Kernel columns that fall inside the input. */
            const int32_t kx_start = (ix0 < 0) ? -ix0 : 0;
            const int32_t kx_end = (ix0 + kernel_w > in_w) ? (in_w - ix0) : kernel_w;
            const int32_t run = (kx_end - kx_start) * in_c;

            const int8_t *filter = p->weights;
            for (int32_t oc = 0; oc < p->out_c; oc++) {
                int32_t acc = p->bias[oc];
                for (int32_t ky = ky_start; ky < ky_end; ky++) {
                    const int8_t *in_row = input + ((iy0 + ky) * in_w + ix0 + kx_start) * in_c;
                    const int8_t *w_row = filter + (ky * kernel_w + kx_start) * in_c;
                    acc = tinyforge_dot_s8(in_row, w_row, run, p->input_offset, acc);
                }
                *output++ = tinyforge_requantize(acc, p->multiplier[oc], p->shift[oc],
                                                 p->output_offset, p->act_min, p->act_max);
                filter += filter_size;
            }
        }
    }
}
