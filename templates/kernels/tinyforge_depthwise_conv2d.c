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
 * the top halves: 12 instructions for 4 MACs in the inner loop on a Cortex-M4 (2 loads, 4
 * extensions, 4 multiply-accumulates, and one index for both pointers whose step is the loop
 * test; GCC's C loop took 16, see tinyforge_dw_dot_4). SMLAD does not apply: it adds its two
 * products into one accumulator, and here they belong to different channels. Portable path: the
 * same loop, one load per value and one multiply-accumulate per MAC.
 *
 * Depth multiplier M >= 2 on one input channel (first layers: micro_speech's 10x8 window with
 * M = 8, person_detect's 3x3 with M = 8): a conv with one input channel. A kernel row of the
 * window is kernel_w contiguous input bytes, read a word (four taps) at a time; the generator
 * packs the weights as int16 pairs of taps for four output channels at a time, so that on the DSP
 * path each input word, split by SXTAB16 into (x0, x2) and (x1, x3), feeds eight SMLAD with eight
 * weight words (16 MACs), see tinyforge_dw_rows_4. Windows that reach into the padding are
 * gathered first, the padding filled with the input zero point. These layers have their own
 * entry point, tinyforge_depthwise_conv2d_rows, so that other models link none of this code.
 * Depth multiplier M >= 4 otherwise (several input channels, or a window too large to gather):
 * four output channels of one input channel at a time, each input value loaded once for four
 * MACs (tinyforge_dw_fan_4).
 * Channels left over (in_c not a multiple of 4 with M = 1, M mod 4 with M >= 4, M = 2 or 3 with
 * several input channels) take the plain loop.
 */
#include <stdint.h>
#include <string.h>

#include "tinyforge_dsp.h"
#include "tinyforge_kernels.h"
#include "tinyforge_requant.h"

#if !defined(TINYFORGE_DSP)
/* Packed weight k (an int16, see tinyforge_dw_rows_4) of the words at w: one LDRSH on a
 * Cortex-M3 (memcpy, since the array is int32_t). Half k of a word is its low half for even k
 * on a little-endian core, as every Cortex-M here and the test hosts are. */
static inline int32_t tinyforge_dw_weight(const int32_t *w, int32_t k)
{
    int16_t v;
    memcpy(&v, (const int8_t *)(const void *)w + 2 * k, sizeof(v));
    return v;
}
#endif

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
 * taps. Out of line, like the conv2d inner loop, so that the accumulators, the pointers and the
 * offset get registers of their own.
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
    int32_t rows = win->rows;
#if defined(TINYFORGE_DSP)
    /* The input offset in both int16 halves. x + input_offset is in [-255, 255]: no overflow. */
    const int32_t offset_2 = (int32_t)(((uint32_t)input_offset & 0xFFFFu) * 0x00010001u);
#endif
#if defined(TINYFORGE_DSP) && defined(__GNUC__) && (defined(__arm__) || defined(__thumb__)) && defined(__OPTIMIZE__)
    /* Written out: x and w step by the same out_c bytes per tap, so one negative index i counts
     * up to the row's end for both, and its ADDS is the loop test: 12 instructions per tap (2
     * loads, 4 extensions, 4 multiply-accumulates, ADDS, BNE) where GCC's loop took 16; 9 per
     * row (the rows' ends move on by x_row and w_row). Not at -O0 (a frame pointer takes one of
     * the registers). */
    const int8_t *x_end = x + row_len;
    const int8_t *w_end = w + row_len;
    const int32_t x_row = win->x_row;
    const int32_t w_row = win->w_row;
    const int32_t start = -row_len;
    int32_t i;
    int32_t x_v;
    int32_t w_v;
    int32_t x_02;
    int32_t w_02;
    __asm__ volatile("ldr     %[i], %[start]\n"
                     "1:\n\t"
                     "ldr     %[xv], [%[xe], %[i]]\n\t"
                     "ldr     %[wv], [%[we], %[i]]\n\t"
                     "sxtab16 %[x02], %[off], %[xv]\n\t"
                     "sxtab16 %[xv], %[off], %[xv], ror #8\n\t"
                     "sxtb16  %[w02], %[wv]\n\t"
                     "sxtb16  %[wv], %[wv], ror #8\n\t"
                     "smlabb  %[a0], %[x02], %[w02], %[a0]\n\t"
                     "smlatt  %[a2], %[x02], %[w02], %[a2]\n\t"
                     "smlabb  %[a1], %[xv], %[wv], %[a1]\n\t"
                     "smlatt  %[a3], %[xv], %[wv], %[a3]\n\t"
                     "adds    %[i], %[i], %[step]\n\t"
                     "bne     1b\n\t"
                     "ldr     %[xv], %[xrow]\n\t"
                     "add     %[xe], %[xe], %[xv]\n\t"
                     "ldr     %[xv], %[wrow]\n\t"
                     "add     %[we], %[we], %[xv]\n\t"
                     "ldr     %[xv], %[rows]\n\t"
                     "subs    %[xv], %[xv], #1\n\t"
                     "str     %[xv], %[rows]\n\t"
                     "ldr     %[i], %[start]\n\t"
                     "bne     1b"
                     : [a0] "+r"(acc_0), [a1] "+r"(acc_1), [a2] "+r"(acc_2), [a3] "+r"(acc_3), [xe] "+r"(x_end), [we] "+r"(w_end),
                       [i] "=&r"(i), [xv] "=&r"(x_v), [wv] "=&r"(w_v), [x02] "=&r"(x_02), [w02] "=&r"(w_02), [rows] "+m"(rows)
                     : [step] "r"(step), [off] "r"(offset_2), [start] "m"(start), [xrow] "m"(x_row), [wrow] "m"(w_row)
                     : "cc", "memory");
#else
    const int32_t x_skip = win->x_row - row_len;
    const int32_t w_skip = win->w_row - row_len;
    do {
        const int8_t *const w_end = w + row_len;
        do {
#if defined(TINYFORGE_DSP)
            const int32_t xv = tinyforge_read32(x);
            const int32_t wv = tinyforge_read32(w);
            /* Channels (0, 2) and (1, 3) as int16 pairs, the input offset already added. */
            const int32_t x_02 = __sxtab16(offset_2, xv);
            const int32_t x_13 = tinyforge_sxtab16_ror8(offset_2, xv);
            const int32_t w_02 = __sxtb16(wv);
            const int32_t w_13 = tinyforge_sxtb16_ror8(wv);
            acc_0 = __smlabb(x_02, w_02, acc_0);
            acc_2 = __smlatt(x_02, w_02, acc_2);
            acc_1 = __smlabb(x_13, w_13, acc_1);
            acc_3 = __smlatt(x_13, w_13, acc_3);
#else
            acc_0 += ((int32_t)x[0] + input_offset) * (int32_t)w[0];
            acc_1 += ((int32_t)x[1] + input_offset) * (int32_t)w[1];
            acc_2 += ((int32_t)x[2] + input_offset) * (int32_t)w[2];
            acc_3 += ((int32_t)x[3] + input_offset) * (int32_t)w[3];
#endif
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

/*
 * Output channels c .. c + 3 of one output pixel when they share one input channel (depth
 * multiplier M >= 4: channels ic * M + m .. + 3): acc[0..3] (preset to the bias) plus the
 * window's taps. Each input value is loaded once and feeds four multiply-accumulates with the
 * four weights that lie side by side in the tap. x walks the input channel (x_step = in_c bytes
 * per tap), w the weights (win->step = out_c bytes per tap).
 * DSP path: one word load and two SXTB16 widen the four weights; SMLABB / SMLATB multiply the
 * bottom / top halves with the input value, which fits the bottom int16 half (x + input_offset
 * is in [-255, 255]).
 */
static TINYFORGE_NOINLINE void tinyforge_dw_fan_4(const int8_t *x, const int8_t *w, const tinyforge_dw_window_t *win,
                                                  int32_t x_step, int32_t input_offset, int32_t *acc)
{
    int32_t acc_0 = acc[0];
    int32_t acc_1 = acc[1];
    int32_t acc_2 = acc[2];
    int32_t acc_3 = acc[3];
    const int32_t w_step = win->step;
    const int32_t x_skip = win->x_row - win->cols * x_step;
    const int32_t w_len = win->cols * w_step;
    const int32_t w_skip = win->w_row - w_len;
    int32_t rows = win->rows;
    do {
        const int8_t *const w_end = w + w_len;
        do {
            const int32_t xo = (int32_t)*x + input_offset;
            x += x_step;
#if defined(TINYFORGE_DSP)
            const int32_t wv = tinyforge_read32(w);
            const int32_t w_02 = __sxtb16(wv);
            const int32_t w_13 = tinyforge_sxtb16_ror8(wv);
            acc_0 = __smlabb(w_02, xo, acc_0);
            acc_2 = __smlatb(w_02, xo, acc_2);
            acc_1 = __smlabb(w_13, xo, acc_1);
            acc_3 = __smlatb(w_13, xo, acc_3);
#else
            acc_0 += xo * (int32_t)w[0];
            acc_1 += xo * (int32_t)w[1];
            acc_2 += xo * (int32_t)w[2];
            acc_3 += xo * (int32_t)w[3];
#endif
            w += w_step;
        } while (w != w_end);
        x += x_skip;
        w += w_skip;
    } while (--rows != 0);
    acc[0] = acc_0;
    acc[1] = acc_1;
    acc[2] = acc_2;
    acc[3] = acc_3;
}

/*
 * One input channel, depth multiplier M >= 2 (a first layer: TFLM's micro_speech, MobileNet's
 * person_detect): the window's kernel rows are contiguous input bytes, and the generator packs
 * the weights for them (depthwiseRowWeights in src/codegen/layers.ts): per block of four output
 * channels (the last block zero-padded), per kernel row, per group of four taps (a row padded
 * with zero taps to a multiple of four), for each of the four channels two int32 words of two
 * int16 weights, (tap 0, tap 2) and (tap 1, tap 3): the halves SXTB16 makes of a word of four
 * input values. The generator packs them, and calls tinyforge_depthwise_conv2d_rows, for windows
 * of up to TINYFORGE_DW_WINDOW_BYTES taps (kernel_h times kernel_w rounded up to 4: its
 * depthwisePacked): a window that reaches into the padding or up to the input's end is first
 * gathered into a buffer of that size on the stack.
 */
#define TINYFORGE_DW_WINDOW_BYTES 128

/*
 * Four output channels of one output pixel from packed weights: `rows` kernel rows of
 * `row_bytes` input values at x (rows x_skip bytes apart after the row), acc[0..3] preset.
 * DSP path: a word of four input values becomes (x0, x2) and (x1, x3) with the input offset
 * added (SXTAB16), and each weight word meets one of them in an SMLAD: per four taps of four
 * channels one input load, two extensions, eight weight words and eight SMLAD (16 MACs).
 * Portable path: the four input values once, then a multiply-accumulate per weight.
 */
#if defined(__ARM_ARCH_6M__) && defined(__GNUC__) && !defined(TINYFORGE_NO_M0_ASM)
/*
 * tinyforge_dw_rows_4 on ARMv6-M (Cortex-M0/M0+), written out as a whole function, for the reason
 * given at tinyforge_conv2d_dot_2x4: GCC 12 keeps the four accumulators and two of the input
 * values on the stack (102 instructions per group of 16 MACs). Here the accumulators live in the
 * high registers r8-r11 (ADD reaches them), the input offset in r12 and the row's end in lr; r2-r5
 * hold the group's four input values (LDRB + SXTB + ADD each), r6 and r7 a weight word and its
 * low half: per weight word LDR + SXTH + ASRS and two MULS + ADD, 72 instructions per group.
 * Arguments per the AAPCS: x, w, rows, row_bytes in r0-r3; x_skip, input_offset, acc on the
 * stack. TINYFORGE_NO_M0_ASM compiles the C loop.
 */
__attribute__((naked, noinline, noclone)) static void tinyforge_dw_rows_4(const int8_t *x __attribute__((unused)),
                                                                       const int32_t *w __attribute__((unused)),
                                                                       int32_t rows __attribute__((unused)),
                                                                       int32_t row_bytes __attribute__((unused)),
                                                                       int32_t x_skip __attribute__((unused)),
                                                                       int32_t input_offset __attribute__((unused)),
                                                                       int32_t *acc __attribute__((unused)))
{
    /* Stack after the three pushes: rows [sp], row_bytes [sp, #4], x_skip [sp, #44],
     * input_offset [sp, #48], acc [sp, #52]. */
    __asm__ volatile(".syntax unified\n\t"
                     "push   {r4, r5, r6, r7, lr}\n\t"
                     "mov    r4, r8\n\t"
                     "mov    r5, r9\n\t"
                     "mov    r6, r10\n\t"
                     "mov    r7, r11\n\t"
                     "push   {r4, r5, r6, r7}\n\t"
                     "push   {r2, r3}\n\t"
                     "ldr    r4, [sp, #52]\n\t"
                     "ldr    r5, [r4, #0]\n\t"
                     "mov    r8, r5\n\t"
                     "ldr    r5, [r4, #4]\n\t"
                     "mov    r9, r5\n\t"
                     "ldr    r5, [r4, #8]\n\t"
                     "mov    r10, r5\n\t"
                     "ldr    r5, [r4, #12]\n\t"
                     "mov    r11, r5\n\t"
                     "ldr    r5, [sp, #48]\n\t"
                     "mov    r12, r5\n\t"
                     "2:\n\t"
                     "ldr    r5, [sp, #4]\n\t"
                     "adds   r5, r0, r5\n\t"
                     "mov    lr, r5\n\t"
                     "1:\n\t"
                     "ldrb   r2, [r0, #0]\n\t"
                     "sxtb   r2, r2\n\t"
                     "add    r2, r12\n\t"
                     "ldrb   r3, [r0, #1]\n\t"
                     "sxtb   r3, r3\n\t"
                     "add    r3, r12\n\t"
                     "ldrb   r4, [r0, #2]\n\t"
                     "sxtb   r4, r4\n\t"
                     "add    r4, r12\n\t"
                     "ldrb   r5, [r0, #3]\n\t"
                     "sxtb   r5, r5\n\t"
                     "add    r5, r12\n\t"
                     "ldr    r6, [r1, #0]\n\t"
                     "sxth   r7, r6\n\t"
                     "muls   r7, r2, r7\n\t"
                     "add    r8, r7\n\t"
                     "asrs   r6, r6, #16\n\t"
                     "muls   r6, r4, r6\n\t"
                     "add    r8, r6\n\t"
                     "ldr    r6, [r1, #4]\n\t"
                     "sxth   r7, r6\n\t"
                     "muls   r7, r3, r7\n\t"
                     "add    r8, r7\n\t"
                     "asrs   r6, r6, #16\n\t"
                     "muls   r6, r5, r6\n\t"
                     "add    r8, r6\n\t"
                     "ldr    r6, [r1, #8]\n\t"
                     "sxth   r7, r6\n\t"
                     "muls   r7, r2, r7\n\t"
                     "add    r9, r7\n\t"
                     "asrs   r6, r6, #16\n\t"
                     "muls   r6, r4, r6\n\t"
                     "add    r9, r6\n\t"
                     "ldr    r6, [r1, #12]\n\t"
                     "sxth   r7, r6\n\t"
                     "muls   r7, r3, r7\n\t"
                     "add    r9, r7\n\t"
                     "asrs   r6, r6, #16\n\t"
                     "muls   r6, r5, r6\n\t"
                     "add    r9, r6\n\t"
                     "ldr    r6, [r1, #16]\n\t"
                     "sxth   r7, r6\n\t"
                     "muls   r7, r2, r7\n\t"
                     "add    r10, r7\n\t"
                     "asrs   r6, r6, #16\n\t"
                     "muls   r6, r4, r6\n\t"
                     "add    r10, r6\n\t"
                     "ldr    r6, [r1, #20]\n\t"
                     "sxth   r7, r6\n\t"
                     "muls   r7, r3, r7\n\t"
                     "add    r10, r7\n\t"
                     "asrs   r6, r6, #16\n\t"
                     "muls   r6, r5, r6\n\t"
                     "add    r10, r6\n\t"
                     "ldr    r6, [r1, #24]\n\t"
                     "sxth   r7, r6\n\t"
                     "muls   r7, r2, r7\n\t"
                     "add    r11, r7\n\t"
                     "asrs   r6, r6, #16\n\t"
                     "muls   r6, r4, r6\n\t"
                     "add    r11, r6\n\t"
                     "ldr    r6, [r1, #28]\n\t"
                     "sxth   r7, r6\n\t"
                     "muls   r7, r3, r7\n\t"
                     "add    r11, r7\n\t"
                     "asrs   r6, r6, #16\n\t"
                     "muls   r6, r5, r6\n\t"
                     "add    r11, r6\n\t"
                     "adds   r0, #4\n\t"
                     "adds   r1, #32\n\t"
                     "cmp    r0, lr\n\t"
                     "bne    1b\n\t"
                     "ldr    r6, [sp, #44]\n\t"
                     "adds   r0, r0, r6\n\t"
                     "ldr    r6, [sp]\n\t"
                     "subs   r6, #1\n\t"
                     "str    r6, [sp]\n\t"
                     "bne    2b\n\t"
                     "ldr    r4, [sp, #52]\n\t"
                     "mov    r5, r8\n\t"
                     "str    r5, [r4, #0]\n\t"
                     "mov    r5, r9\n\t"
                     "str    r5, [r4, #4]\n\t"
                     "mov    r5, r10\n\t"
                     "str    r5, [r4, #8]\n\t"
                     "mov    r5, r11\n\t"
                     "str    r5, [r4, #12]\n\t"
                     "add    sp, #8\n\t"
                     "pop    {r4, r5, r6, r7}\n\t"
                     "mov    r8, r4\n\t"
                     "mov    r9, r5\n\t"
                     "mov    r10, r6\n\t"
                     "mov    r11, r7\n\t"
                     "pop    {r4, r5, r6, r7, pc}\n\t");
}
#else
static TINYFORGE_NOINLINE void tinyforge_dw_rows_4(const int8_t *x, const int32_t *w, int32_t rows, int32_t row_bytes,
                                                   int32_t x_skip, int32_t input_offset, int32_t *acc)
{
    int32_t acc_0 = acc[0];
    int32_t acc_1 = acc[1];
    int32_t acc_2 = acc[2];
    int32_t acc_3 = acc[3];
#if defined(TINYFORGE_DSP)
    const int32_t offset_2 = (int32_t)(((uint32_t)input_offset & 0xFFFFu) * 0x00010001u);
#endif
#if defined(TINYFORGE_DSP) && defined(__GNUC__) && (defined(__arm__) || defined(__thumb__)) && defined(__OPTIMIZE__)
    /* (Not at -O0, which keeps a frame pointer: the 14 registers below are every one there is.)
     * Written out: GCC 12 spills an accumulator and loads the weights one word at a time
     * (27 instructions per group); here 17: one LDR of four input values, two SXTAB16, four
     * LDRD of two weight words, eight SMLAD, the loop test; 6 more per row (GCC's row loop
     * took 8). At the end of a row x is its end: the next row starts x_skip further, and ends
     * row_bytes + x_skip after the last end. */
    const int8_t *x_end = x + row_bytes;
    const int32_t x_stride = row_bytes + x_skip;
    int32_t x_02;
    int32_t x_13;
    int32_t w_a;
    int32_t w_b;
    __asm__ volatile("1:\n\t"
                     "ldr     %[x13], [%[x]], #4\n\t"
                     "ldrd    %[wa], %[wb], [%[w]], #32\n\t"
                     "sxtab16 %[x02], %[off], %[x13]\n\t"
                     "sxtab16 %[x13], %[off], %[x13], ror #8\n\t"
                     "smlad   %[a0], %[x02], %[wa], %[a0]\n\t"
                     "smlad   %[a0], %[x13], %[wb], %[a0]\n\t"
                     "ldrd    %[wa], %[wb], [%[w], #-24]\n\t"
                     "smlad   %[a1], %[x02], %[wa], %[a1]\n\t"
                     "smlad   %[a1], %[x13], %[wb], %[a1]\n\t"
                     "ldrd    %[wa], %[wb], [%[w], #-16]\n\t"
                     "smlad   %[a2], %[x02], %[wa], %[a2]\n\t"
                     "smlad   %[a2], %[x13], %[wb], %[a2]\n\t"
                     "ldrd    %[wa], %[wb], [%[w], #-8]\n\t"
                     "smlad   %[a3], %[x02], %[wa], %[a3]\n\t"
                     "smlad   %[a3], %[x13], %[wb], %[a3]\n\t"
                     "cmp     %[x], %[end]\n\t"
                     "bne     1b\n\t"
                     "ldr     %[wa], %[skip]\n\t"
                     "ldr     %[wb], %[stride]\n\t"
                     "add     %[x], %[x], %[wa]\n\t"
                     "add     %[end], %[end], %[wb]\n\t"
                     "subs    %[rows], %[rows], #1\n\t"
                     "bne     1b"
                     : [a0] "+r"(acc_0), [a1] "+r"(acc_1), [a2] "+r"(acc_2), [a3] "+r"(acc_3), [x] "+r"(x), [w] "+r"(w),
                       [end] "+r"(x_end), [rows] "+r"(rows), [x02] "=&r"(x_02), [x13] "=&r"(x_13), [wa] "=&r"(w_a),
                       [wb] "=&r"(w_b)
                     : [off] "r"(offset_2), [skip] "m"(x_skip), [stride] "m"(x_stride)
                     : "cc", "memory");
#else
    do {
        const int8_t *const x_end = x + row_bytes;
        do {
#if defined(TINYFORGE_DSP)
            const int32_t xv = tinyforge_read32(x);
            const int32_t x_02 = __sxtab16(offset_2, xv);
            const int32_t x_13 = tinyforge_sxtab16_ror8(offset_2, xv);
            acc_0 = __smlad(x_02, w[0], acc_0);
            acc_0 = __smlad(x_13, w[1], acc_0);
            acc_1 = __smlad(x_02, w[2], acc_1);
            acc_1 = __smlad(x_13, w[3], acc_1);
            acc_2 = __smlad(x_02, w[4], acc_2);
            acc_2 = __smlad(x_13, w[5], acc_2);
            acc_3 = __smlad(x_02, w[6], acc_3);
            acc_3 = __smlad(x_13, w[7], acc_3);
#else
            /* Per channel the int16 weights of taps 0, 2, 1, 3 (little-endian halves of its words). */
            const int32_t x_0 = (int32_t)x[0] + input_offset;
            const int32_t x_1 = (int32_t)x[1] + input_offset;
            const int32_t x_2 = (int32_t)x[2] + input_offset;
            const int32_t x_3 = (int32_t)x[3] + input_offset;
            acc_0 += x_0 * tinyforge_dw_weight(w, 0);
            acc_0 += x_2 * tinyforge_dw_weight(w, 1);
            acc_0 += x_1 * tinyforge_dw_weight(w, 2);
            acc_0 += x_3 * tinyforge_dw_weight(w, 3);
            acc_1 += x_0 * tinyforge_dw_weight(w, 4);
            acc_1 += x_2 * tinyforge_dw_weight(w, 5);
            acc_1 += x_1 * tinyforge_dw_weight(w, 6);
            acc_1 += x_3 * tinyforge_dw_weight(w, 7);
            acc_2 += x_0 * tinyforge_dw_weight(w, 8);
            acc_2 += x_2 * tinyforge_dw_weight(w, 9);
            acc_2 += x_1 * tinyforge_dw_weight(w, 10);
            acc_2 += x_3 * tinyforge_dw_weight(w, 11);
            acc_3 += x_0 * tinyforge_dw_weight(w, 12);
            acc_3 += x_2 * tinyforge_dw_weight(w, 13);
            acc_3 += x_1 * tinyforge_dw_weight(w, 14);
            acc_3 += x_3 * tinyforge_dw_weight(w, 15);
#endif
            x += 4;
            w += 8;
        } while (x != x_end);
        x += x_skip;
    } while (--rows != 0);
#endif
    acc[0] = acc_0;
    acc[1] = acc_1;
    acc[2] = acc_2;
    acc[3] = acc_3;
}
#endif

/*
 * The rows ky_start .. ky_end - 1 of a window whose columns reach into the padding (or whose
 * last word would be read past the input's end) into buf, row_bytes values per row: the input
 * where it lies, the input zero point elsewhere (x + input_offset = 0 there, so those taps
 * add nothing, as the skipped taps of the other paths).
 */
static void tinyforge_dw_gather(const int8_t *input, int32_t in_w, int32_t iy, int32_t rows, int32_t ix0,
                                int32_t row_bytes, int32_t input_offset, int32_t *buf)
{
    /* The zero point everywhere, a word at a time (rows * row_bytes is a multiple of 4) ... */
    const int32_t zero_point_4 = (int32_t)((uint32_t)(uint8_t)(-input_offset) * 0x01010101u);
    const int32_t words = rows * row_bytes / 4;
    for (int32_t i = 0; i < words; i++) {
        buf[i] = zero_point_4;
    }
    /* ... then taps kx_start .. kx_end - 1 of every row, which lie in the input. */
    const int32_t kx_start = (ix0 < 0) ? -ix0 : 0;
    const int32_t kx_end = (ix0 + row_bytes > in_w) ? in_w - ix0 : row_bytes;
    const int8_t *row = input + iy * in_w;
    int8_t *dst = (int8_t *)(void *)buf;
    for (int32_t r = 0; r < rows; r++, row += in_w, dst += row_bytes) {
        for (int32_t k = kx_start; k < kx_end; k++) {
            dst[k] = row[ix0 + k];
        }
    }
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

/*
 * acc[0 .. n - 1], the accumulators of output channels c .. c + n - 1 (multiplier and shift from
 * c on), requantized to output[0 .. n - 1]; returns output + n. The one copy of the (inlined)
 * requantization: out of line, it keeps its values in registers where the caller's loop, which
 * holds the window's pointers, would spill them.
 */
static TINYFORGE_NOINLINE int8_t *tinyforge_dw_requantize(const tinyforge_depthwise_conv2d_params_t *p, const int32_t *acc,
                                                          int32_t n, const int32_t *multiplier, const int32_t *shift,
                                                          int8_t *output)
{
    const int32_t output_offset = p->output_offset;
    const int32_t act_min = p->act_min;
    const int32_t act_max = p->act_max;
    for (int32_t j = 0; j < n; j++) {
        *output++ = tinyforge_requantize(acc[j], multiplier[j], shift[j], output_offset, act_min, act_max);
    }
    return output;
}

/* The valid taps [*start, *end) of a window along one axis, for output position o; returns
 * the window's first input position (negative in the padding). */
static inline int32_t tinyforge_dw_span(int32_t o, int32_t stride, int32_t pad, int32_t kernel, int32_t size,
                                        int32_t *start, int32_t *end)
{
    const int32_t i0 = o * stride - pad;
    *start = (i0 < 0) ? -i0 : 0;
    *end = (i0 + kernel > size) ? (size - i0) : kernel;
    return i0;
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
        int32_t ky_start;
        int32_t ky_end;
        const int32_t iy0 = tinyforge_dw_span(oy, p->stride_h, p->pad_top, p->kernel_h, p->in_h, &ky_start, &ky_end);

        for (int32_t ox = 0; ox < p->out_w; ox++) {
            int32_t kx_start;
            int32_t kx_end;
            const int32_t ix0 = tinyforge_dw_span(ox, p->stride_w, p->pad_left, kernel_w, in_w, &kx_start, &kx_end);
            /* The first valid tap, and how to walk the others (a window entirely in the
             * padding, possible only with padding >= kernel size, has none: acc = bias). */
            const int8_t *const x0 = input + ((iy0 + ky_start) * in_w + ix0 + kx_start) * in_c;
            const int8_t *const w0 = p->weights + (ky_start * kernel_w + kx_start) * out_c;
            win.rows = ky_end - ky_start;
            win.cols = kx_end - kx_start;
            const int32_t any = (win.rows > 0 && win.cols > 0);

            /* Four channels at a time while they last, then one at a time; input channel ic
             * feeds output channels ic * depth_multiplier + m (counted, not divided: a division
             * is a library call on a Cortex-M0). */
            int32_t ic = 0;
            int32_t m = 0;
            for (int32_t c = 0; c < out_c;) {
                int32_t acc[4];
                int32_t n = 4;
                acc[0] = bias[c];
                if (c < quad_c || m + 4 <= depth_multiplier) {
                    acc[1] = bias[c + 1];
                    acc[2] = bias[c + 2];
                    acc[3] = bias[c + 3];
                    if (c < quad_c) {
                        if (any) {
                            tinyforge_dw_dot_4(x0 + c, w0 + c, &win, input_offset, acc);
                        }
                        ic += 4;
                    } else {
                        if (any) {
                            tinyforge_dw_fan_4(x0 + ic, w0 + c, &win, in_c, input_offset, acc);
                        }
                        m += 4;
                        if (m == depth_multiplier) {
                            m = 0;
                            ic++;
                        }
                    }
                } else {
                    n = 1;
                    if (any) {
                        acc[0] = tinyforge_dw_dot_1(x0 + ic, w0 + c, &win, in_c, input_offset, acc[0]);
                    }
                    if (++m == depth_multiplier) {
                        m = 0;
                        ic++;
                    }
                }
                output = tinyforge_dw_requantize(p, acc, n, multiplier + c, shift + c, output);
                c += n;
            }
        }
    }
}

/*
 * One input channel, depth multiplier >= 2, packed weights (the generator calls this entry point
 * for those layers only, so a model without them links none of its code): every output pixel's
 * window rows, read in place or gathered, against each block of four output channels.
 */
void tinyforge_depthwise_conv2d_rows(const tinyforge_depthwise_conv2d_params_t *p, const int8_t *input,
                                     int8_t *output)
{
    const int32_t in_w = p->in_w;
    const int32_t out_c = p->out_c;
    const int32_t input_offset = p->input_offset;
    /* Taps per kernel row in the packed weights: kernel_w rounded up to a multiple of 4. */
    const int32_t row_bytes = (p->kernel_w + 3) & ~3;
    const int32_t *const weights = (const int32_t *)(const void *)p->weights;
    const int32_t *const bias = p->bias;
    int32_t window[TINYFORGE_DW_WINDOW_BYTES / 4]; /* words: filled a word at a time */

    for (int32_t oy = 0; oy < p->out_h; oy++) {
        int32_t ky_start;
        int32_t ky_end;
        const int32_t iy0 = tinyforge_dw_span(oy, p->stride_h, p->pad_top, p->kernel_h, p->in_h, &ky_start, &ky_end);
        const int32_t rows = ky_end - ky_start;

        for (int32_t ox = 0; ox < p->out_w; ox++) {
            int32_t kx_start;
            int32_t kx_end;
            const int32_t ix0 = tinyforge_dw_span(ox, p->stride_w, p->pad_left, p->kernel_w, in_w, &kx_start, &kx_end);
            const int32_t any = (rows > 0 && kx_end > kx_start);
            /* The window's valid rows, whole, read in place where every column is inside the
             * input and the last word read ends within it (rows_n rows of rows_len bytes,
             * rows_skip apart), else gathered: then one row of all the window's bytes. */
            const int8_t *rows_x = (const int8_t *)(const void *)window;
            int32_t rows_n = 1;
            int32_t rows_len = rows * row_bytes;
            int32_t rows_skip = 0;
            if (any) {
                const int32_t first = (iy0 + ky_start) * in_w + ix0;
                if (ix0 >= 0 && kx_end == p->kernel_w && first + (rows - 1) * in_w + row_bytes <= p->in_h * in_w) {
                    rows_x = input + first;
                    rows_n = rows;
                    rows_len = row_bytes;
                    rows_skip = in_w - row_bytes;
                } else {
                    tinyforge_dw_gather(input, in_w, iy0 + ky_start, rows, ix0, row_bytes, input_offset, window);
                }
            }
            /* Blocks of four channels; the last may hold fewer (zero weights beyond). */
            const int32_t *w = weights + ky_start * 2 * row_bytes;
            for (int32_t c = 0; c < out_c; c += 4, w += p->kernel_h * 2 * row_bytes) {
                const int32_t n = (out_c - c < 4) ? out_c - c : 4;
                int32_t acc[4];
                acc[0] = bias[c];
                acc[1] = (n > 1) ? bias[c + 1] : 0;
                acc[2] = (n > 2) ? bias[c + 2] : 0;
                acc[3] = (n > 3) ? bias[c + 3] : 0;
                if (any) {
                    tinyforge_dw_rows_4(rows_x, w, rows_n, rows_len, rows_skip, input_offset, acc);
                }
                output = tinyforge_dw_requantize(p, acc, n, p->multiplier + c, p->shift + c, output);
            }
        }
    }
}
