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
 * Taps in the padding are skipped (unlike conv2d, the input offset is not folded into the bias:
 * that fold needs every tap of the window, and a depthwise window is small, so the borders are a
 * large share of it).
 *
 * Depth multiplier 1 (the separable CNNs): output channel c reads input channel c only, and in
 * NHWC both the input pixel and the weight tap hold their channels side by side. So a pixel is
 * computed four channels at a time: one tap is a word of four input values and a word of four
 * weights, and the four accumulators stay in registers across the window (the CMSIS-NN scheme).
 * DSP path: SXTAB16 widens two input values and adds the input offset to both in one
 * instruction, SXTB16 widens two weights, and SMLABB / SMLATT multiply-accumulate the bottom and
 * the top halves: 16 instructions for 4 MACs in the inner loop at -Os on a Cortex-M4 (2 loads,
 * 4 extensions, 4 multiply-accumulates, pointer steps and the loop test, and one reload of a
 * value GCC spills). SMLAD does not apply: it adds its two products into one accumulator, and
 * here they belong to different channels. Portable path: the same loop, one load per value and
 * one multiply-accumulate per MAC.
 * Channels left over (in_c not a multiple of 4) and other depth multipliers take the plain loop.
 */
#include <stdint.h>

#include "tinyforge_dsp.h"
#include "tinyforge_kernels.h"
#include "tinyforge_requant.h"

/*
 * The valid taps of one output window: rows x cols taps, starting at x (input) and w (weights);
 * one tap to the next is `step` bytes in both, one row to the next x_row / w_row bytes.
 */
typedef struct {
    int32_t rows, cols;
    int32_t step;
    int32_t x_row, w_row;
} tinyforge_dw_window_t;

#if defined(TINYFORGE_DSP)
/* SXTAB16(a, ROR(v, 8)): bytes 1 and 3 of v sign-extended and added to the halves of a (one
 * instruction; GCC does not fold the rotate into the intrinsic, see tinyforge_sxtb16_ror8). */
static inline int32_t tinyforge_sxtab16_ror8(int32_t a, int32_t v)
{
#if defined(__GNUC__) && (defined(__arm__) || defined(__thumb__))
    int32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(v));
    return r;
#else
    return __sxtab16(a, tinyforge_ror8(v));
#endif
}
#endif

/*
 * Channels c .. c + 3 of one output pixel: acc[0..3] (preset to the bias) plus the window's
 * taps. Out of line, like the conv2d inner loop, so that the accumulators, the two pointers and
 * the offset get registers of their own (GCC at -Os still spills the row's end pointer: one
 * reload per tap).
 */
static TINYFORGE_NOINLINE void tinyforge_dw_dot_4(const int8_t *x, const int8_t *w, const tinyforge_dw_window_t *win,
                                                  int32_t input_offset, int32_t *acc)
{
    int32_t acc_0 = acc[0];
    int32_t acc_1 = acc[1];
    int32_t acc_2 = acc[2];
    int32_t acc_3 = acc[3];
    const int32_t step = win->step;
    const int32_t row_len = win->cols * step;
    const int32_t x_skip = win->x_row - row_len;
    const int32_t w_skip = win->w_row - row_len;
    int32_t rows = win->rows;
#if defined(TINYFORGE_DSP)
    /* The input offset in both int16 halves. x + input_offset is in [-255, 255]: no overflow. */
    const int32_t offset_2 = (int32_t)(((uint32_t)input_offset & 0xFFFFu) * 0x00010001u);
    do {
        const int8_t *const w_end = w + row_len;
        do {
            const int32_t xv = tinyforge_read32(x);
            const int32_t wv = tinyforge_read32(w);
            x += step;
            w += step;
            /* Channels (0, 2) and (1, 3) as int16 pairs, the input offset already added. */
            const int32_t x_02 = __sxtab16(offset_2, xv);
            const int32_t x_13 = tinyforge_sxtab16_ror8(offset_2, xv);
            const int32_t w_02 = __sxtb16(wv);
            const int32_t w_13 = tinyforge_sxtb16_ror8(wv);
            acc_0 = __smlabb(x_02, w_02, acc_0);
            acc_2 = __smlatt(x_02, w_02, acc_2);
            acc_1 = __smlabb(x_13, w_13, acc_1);
            acc_3 = __smlatt(x_13, w_13, acc_3);
        } while (w != w_end);
        x += x_skip;
        w += w_skip;
    } while (--rows != 0);
#else
    do {
        const int8_t *const w_end = w + row_len;
        do {
            acc_0 += ((int32_t)x[0] + input_offset) * (int32_t)w[0];
            acc_1 += ((int32_t)x[1] + input_offset) * (int32_t)w[1];
            acc_2 += ((int32_t)x[2] + input_offset) * (int32_t)w[2];
            acc_3 += ((int32_t)x[3] + input_offset) * (int32_t)w[3];
            x += step;
            w += step;
        } while (w != w_end);
        x += x_skip;
        w += w_skip;
    } while (--rows != 0);
#endif
    acc[0] = acc_0;
    acc[1] = acc_1;
    acc[2] = acc_2;
    acc[3] = acc_3;
}

/* One channel of one output pixel (the leftover channels of depth multiplier 1, and every
 * channel of other multipliers): the plain loop over the window's taps. */
static int32_t tinyforge_dw_dot_1(const int8_t *x, const int8_t *w, const tinyforge_dw_window_t *win,
                                  int32_t x_step, int32_t input_offset, int32_t acc)
{
    for (int32_t r = 0; r < win->rows; r++) {
        for (int32_t k = 0; k < win->cols; k++) {
            acc += ((int32_t)x[k * x_step] + input_offset) * (int32_t)w[k * win->step];
        }
        x += win->x_row;
        w += win->w_row;
    }
    return acc;
}

void tinyforge_depthwise_conv2d(const tinyforge_depthwise_conv2d_params_t *p, const int8_t *input,
                                int8_t *output)
{
    const int32_t in_w = p->in_w;
    const int32_t in_c = p->in_c;
    const int32_t out_c = p->out_c;
    const int32_t kernel_w = p->kernel_w;
    const int32_t depth_multiplier = p->depth_multiplier;
    const int32_t input_offset = p->input_offset;
    const int32_t output_offset = p->output_offset;
    const int32_t act_min = p->act_min;
    const int32_t act_max = p->act_max;
    /* Channels computed four at a time (depth multiplier 1 only); the rest one at a time. */
    const int32_t quad_c = (depth_multiplier == 1) ? (in_c & ~3) : 0;
    /* Locals, not p->...: the int8 output stores could alias *p as far as the compiler knows. */
    const int32_t *const bias = p->bias;
    const int32_t *const multiplier = p->multiplier;
    const int32_t *const shift = p->shift;
    tinyforge_dw_window_t win;
    win.step = out_c;
    win.x_row = in_w * in_c;
    win.w_row = kernel_w * out_c;

    for (int32_t oy = 0; oy < p->out_h; oy++) {
        const int32_t iy0 = oy * p->stride_h - p->pad_top;
        const int32_t ky_start = (iy0 < 0) ? -iy0 : 0;
        const int32_t ky_end = (iy0 + p->kernel_h > p->in_h) ? (p->in_h - iy0) : p->kernel_h;

        for (int32_t ox = 0; ox < p->out_w; ox++) {
            const int32_t ix0 = ox * p->stride_w - p->pad_left;
            const int32_t kx_start = (ix0 < 0) ? -ix0 : 0;
            const int32_t kx_end = (ix0 + kernel_w > in_w) ? (in_w - ix0) : kernel_w;
            /* The first valid tap, and how to walk the others (a window entirely in the
             * padding, possible only with padding >= kernel size, has none: acc = bias). */
            const int8_t *const x0 = input + ((iy0 + ky_start) * in_w + ix0 + kx_start) * in_c;
            const int8_t *const w0 = p->weights + (ky_start * kernel_w + kx_start) * out_c;
            win.rows = ky_end - ky_start;
            win.cols = kx_end - kx_start;
            const int32_t any = (win.rows > 0 && win.cols > 0);

            /* Four channels at a time while they last, then one at a time; input channel ic
             * feeds output channels ic * depth_multiplier + m (counted, not divided: a division
             * is a library call on a Cortex-M0). One requantization loop for both, since on a
             * Cortex-M0 each inlined copy of it costs a few hundred bytes. */
            int32_t ic = 0;
            int32_t m = 0;
            for (int32_t c = 0; c < out_c;) {
                int32_t acc[4];
                int32_t n;
                if (c < quad_c) {
                    n = 4;
                    acc[0] = bias[c];
                    acc[1] = bias[c + 1];
                    acc[2] = bias[c + 2];
                    acc[3] = bias[c + 3];
                    if (any) {
                        tinyforge_dw_dot_4(x0 + c, w0 + c, &win, input_offset, acc);
                    }
                    ic += 4;
                } else {
                    n = 1;
                    acc[0] = bias[c];
                    if (any) {
                        acc[0] = tinyforge_dw_dot_1(x0 + ic, w0 + c, &win, in_c, input_offset, acc[0]);
                    }
                    if (++m == depth_multiplier) {
                        m = 0;
                        ic++;
                    }
                }
                for (int32_t j = 0; j < n; j++, c++) {
                    *output++ = tinyforge_requantize(acc[j], multiplier[c], shift[c], output_offset, act_min, act_max);
                }
            }
        }
    }
}
