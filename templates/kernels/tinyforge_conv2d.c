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
 * with iy = oy * stride_h - pad_top + ky and ix = ox * stride_w - pad_left + kx.
 *
 * How it is computed (the CMSIS-NN scheme, with the input offset folded away):
 *
 *  1. The bias in the parameter block already holds bias[oc] + input_offset * sum(weights[oc])
 *     over the whole kernel window (the generator folds it in). The sum above then becomes
 *     bias + sum over all taps of x * w, where a tap in the padding reads the input zero point:
 *     (zero_point + input_offset) * w = 0, so it adds zero_point * w and the folded term
 *     subtracts it again. No offset in the inner loop, no special case at the borders, and
 *     exactly the same integer (the generator checks that no partial sum can leave int32).
 *  2. im2col: the window of an output pixel is copied into a column of K = kernel_h * kernel_w *
 *     in_c values in OHWI order, so it lines up with a weight row; taps in the padding get the
 *     zero point. Two output pixels at a time, into the scratch buffer the memory plan gives
 *     this layer (params->im2col, 5 * Kp bytes, Kp = K rounded up to a multiple of 4).
 *  3. Each pass computes 2 output channels x 2 output pixels: every weight loaded serves two
 *     pixels and every column value two channels, four accumulators in registers. An odd pixel
 *     count runs its last pixel as both columns and stores one result.
 *
 * Weight layout (made by the generator): OHWI rows padded with zero weights to Kp taps, an odd
 * channel count padded with a zero row, and each pair of rows (2j, 2j + 1) interleaved every
 * four taps (4 bytes of row 2j, 4 bytes of row 2j + 1, ...), so that the kernel only handles
 * whole groups of four taps of two channels and walks both rows with one pointer. A zero
 * weight adds nothing whatever it meets, so the padding values of a column may be anything.
 *
 * DSP path (SMLAD multiplies two int16 pairs and adds both products): the columns are widened
 * to int16 once per pixel pair, "reordered": each group of four values x0 x1 x2 x3 becomes the
 * pairs (x0, x2), (x1, x3), which is what SXTB16 and SXTB16(ROR 8) make of four weight bytes;
 * the two columns are interleaved group by group, so one pointer walks both too. When in_c is
 * a multiple of 4 every tap is whole groups and the column is widened as it is copied from the
 * input; otherwise it is gathered as int8 first. The inner loop takes 4 taps x 2 channels x
 * 2 pixels = 16 MACs in 8 SMLAD + 4 SXTB16 + 2 weight loads + 4 column loads + 3 loop
 * instructions, and needs 13 registers (4 accumulators, 4 column words, 2 weight halves,
 * 2 pointers, the counter), so it does not spill even at -Os.
 * Portable path: int8 columns, one MLA per MAC (16 loads + 16 MLA per group of four taps).
 */
#include <stdint.h>
#include <string.h>

#include "tinyforge_dsp.h"
#include "tinyforge_kernels.h"
#include "tinyforge_requant.h"

/*
 * n < 8 bytes from src to dst, without a loop: memcpy of a constant 4, 2 or 1 bytes is one load
 * and one store where the core allows unaligned access (Cortex-M3/M4), byte moves elsewhere.
 */
static void tinyforge_copy_short(int8_t *dst, const int8_t *src, int32_t n)
{
    if (n & 4) {
        memcpy(dst, src, 4);
        dst += 4;
        src += 4;
    }
    if (n & 2) {
        memcpy(dst, src, 2);
        dst += 2;
        src += 2;
    }
    if (n & 1) {
        *dst = *src;
    }
}

/*
 * The int8 im2col column of output pixel (oy, ox): for each kernel row inside the input, the
 * valid taps are one contiguous run of the NHWC input (all channels of adjacent pixels), with
 * the taps left and right of it in the padding; kernel rows above or below the input are all
 * padding. Padding gets the input zero point.
 */
static void tinyforge_im2col_s8(const tinyforge_conv2d_params_t *p, const int8_t *input, int32_t oy, int32_t ox,
                                int8_t *col)
{
    const int32_t in_c = p->in_c;
    const int32_t row_len = p->kernel_w * in_c;
    const int8_t pad = (int8_t)(-p->input_offset); /* the input zero point */
    const int32_t iy0 = oy * p->stride_h - p->pad_top;
    const int32_t ix0 = ox * p->stride_w - p->pad_left;
    const int32_t kx_start = (ix0 < 0) ? -ix0 : 0;
    const int32_t kx_end = (ix0 + p->kernel_w > p->in_w) ? (p->in_w - ix0) : p->kernel_w;
    const int32_t before = kx_start * in_c;
    const int32_t run = (kx_end - kx_start) * in_c;
    const int32_t after = row_len - before - run;

    if (before == 0 && after == 0 && iy0 >= 0 && iy0 + p->kernel_h <= p->in_h) {
        /* The whole window inside the input (most pixels): kernel_h runs of row_len bytes. */
        const int32_t stride = p->in_w * in_c;
        const int8_t *src = input + (iy0 * p->in_w + ix0) * in_c;
        for (int32_t ky = p->kernel_h; ky > 0; ky--) {
            if (row_len < 8) {
                tinyforge_copy_short(col, src, row_len);
            } else {
                memcpy(col, src, (size_t)row_len);
            }
            col += row_len;
            if (ky > 1) {
                src += stride;
            }
        }
        return;
    }
    for (int32_t ky = 0; ky < p->kernel_h; ky++) {
        const int32_t iy = iy0 + ky;
        if (iy < 0 || iy >= p->in_h) {
            memset(col, pad, (size_t)row_len);
        } else {
            const int8_t *in_row = input + (iy * p->in_w + ix0 + kx_start) * in_c;
            /* Runs are short (a few to a few dozen bytes): a library call costs more than
             * copying the shortest inline. */
            if (before > 0) {
                memset(col, pad, (size_t)before);
            }
            if (run < 8) {
                tinyforge_copy_short(col + before, in_row, run);
            } else {
                memcpy(col + before, in_row, (size_t)run);
            }
            if (after > 0) {
                memset(col + before + run, pad, (size_t)after);
            }
        }
        col += row_len;
    }
}

#if defined(TINYFORGE_DSP)
/*
 * Widens the int8 column src (kp values, natural order) to int16 and stores it interleaved with
 * the other column of the pass (column 0 = A, 1 = B): group g of four values x0 x1 x2 x3 goes to
 * cols + 16 * g + 8 * column as the pairs (x0, x2), (x1, x3).
 */
static void tinyforge_widen_interleaved(const int8_t *src, int8_t *cols, int32_t kp, int32_t column)
{
    int8_t *dst = cols + 8 * column;
    for (int32_t g = kp >> 2; g > 0; g--) {
        const int32_t v = tinyforge_read32(src);
        src += 4;
        tinyforge_write32(dst, __sxtb16(v));
        tinyforge_write32(dst + 4, tinyforge_sxtb16_ror8(v));
        dst += 16;
    }
}

/* n groups of the interleaved layout filled with the pad value (the zero point in each half). */
static int8_t *tinyforge_fill_interleaved(int8_t *dst, int32_t n, int32_t pad2)
{
    for (; n > 0; n--) {
        tinyforge_write32(dst, pad2);
        tinyforge_write32(dst + 4, pad2);
        dst += 16;
    }
    return dst;
}

/*
 * in_c a multiple of 4: every tap is whole groups of four values, so the runs and the padding of
 * the column line up with the groups, and the column is written straight into the interleaved
 * int16 layout at dst = cols + 8 * column (widened as it is copied), without the int8 pass.
 */
static void tinyforge_im2col_s16(const tinyforge_conv2d_params_t *p, const int8_t *input, int32_t oy, int32_t ox,
                                 int8_t *dst)
{
    const int32_t groups_per_tap = p->in_c >> 2;
    const int32_t row_groups = p->kernel_w * groups_per_tap;
    /* The zero point in both int16 halves: a group of padding is this word twice. */
    const int32_t pad2 = (int32_t)(((uint32_t)(-p->input_offset) & 0xFFFFu) * 0x00010001u);
    const int32_t iy0 = oy * p->stride_h - p->pad_top;
    const int32_t ix0 = ox * p->stride_w - p->pad_left;
    const int32_t kx_start = (ix0 < 0) ? -ix0 : 0;
    const int32_t kx_end = (ix0 + p->kernel_w > p->in_w) ? (p->in_w - ix0) : p->kernel_w;
    const int32_t before = kx_start * groups_per_tap;
    const int32_t run = (kx_end - kx_start) * groups_per_tap;
    const int32_t after = row_groups - before - run;

    for (int32_t ky = 0; ky < p->kernel_h; ky++) {
        const int32_t iy = iy0 + ky;
        if (iy < 0 || iy >= p->in_h) {
            dst = tinyforge_fill_interleaved(dst, row_groups, pad2);
            continue;
        }
        const int8_t *src = input + (iy * p->in_w + ix0 + kx_start) * p->in_c;
        dst = tinyforge_fill_interleaved(dst, before, pad2);
        for (int32_t g = run; g > 0; g--) {
            const int32_t v = tinyforge_read32(src);
            src += 4;
            tinyforge_write32(dst, __sxtb16(v));
            tinyforge_write32(dst + 4, tinyforge_sxtb16_ror8(v));
            dst += 16;
        }
        dst = tinyforge_fill_interleaved(dst, after, pad2);
    }
}
#endif

/*
 * The inner loop: `groups` groups of four taps of one pair of output channels (interleaved
 * weight rows at w) against the two columns at c, added to acc[0..3] = channel 0 pixel A,
 * channel 0 pixel B, channel 1 pixel A, channel 1 pixel B.
 *
 * A small function of its own: inlined into the channel loop, its values compete with the
 * loop's and GCC (at -Os) spills inside the inner loop; alone, on the DSP path its 13 live
 * values (4 accumulators, 4 column words, 2 weight halves, 2 pointers, the counter) stay in the
 * 14 registers a Cortex-M has, and a call per channel pair costs about 20 instructions.
 * Portable path: column B is at c + b_offset (the DSP path interleaves the columns instead).
 */
static TINYFORGE_NOINLINE void tinyforge_conv2d_dot_2x2(const int8_t *c, const int8_t *w, int32_t groups,
                                                        int32_t *acc, int32_t b_offset)
{
    int32_t acc_0a = acc[0];
    int32_t acc_0b = acc[1];
    int32_t acc_1a = acc[2];
    int32_t acc_1b = acc[3];
    /* groups >= 1 (every kernel has a tap): the loop tests at the bottom, SUBS + BNE. */
#if defined(TINYFORGE_DSP)
    (void)b_offset;
    do {
        /* Taps 4g .. 4g + 3 of both columns as (x0, x2), (x1, x3) int16 pairs (column A, then
         * B), and of both weight rows (row 0 at w[0..3], row 1 at w[4..7]). */
        const int32_t a_even = tinyforge_read32(c);
        const int32_t a_odd = tinyforge_read32(c + 4);
        const int32_t b_even = tinyforge_read32(c + 8);
        const int32_t b_odd = tinyforge_read32(c + 12);
        c += 16;
        int32_t wv = tinyforge_read32(w);
        int32_t w_even = __sxtb16(wv);
        int32_t w_odd = tinyforge_sxtb16_ror8(wv);
        acc_0a = __smlad(w_even, a_even, acc_0a);
        acc_0a = __smlad(w_odd, a_odd, acc_0a);
        acc_0b = __smlad(w_even, b_even, acc_0b);
        acc_0b = __smlad(w_odd, b_odd, acc_0b);
        wv = tinyforge_read32(w + 4);
        w += 8;
        w_even = __sxtb16(wv);
        w_odd = tinyforge_sxtb16_ror8(wv);
        acc_1a = __smlad(w_even, a_even, acc_1a);
        acc_1a = __smlad(w_odd, a_odd, acc_1a);
        acc_1b = __smlad(w_even, b_even, acc_1b);
        acc_1b = __smlad(w_odd, b_odd, acc_1b);
    } while (--groups != 0);
#else
    const int8_t *b = c + b_offset;
    do {
        /* Four taps of the int8 columns; row 0 at w[0..3], row 1 at w[4..7]. Written out: one
         * load per value, one multiply-accumulate per MAC, no loop counter per tap. */
        int32_t xa = c[0];
        int32_t xb = b[0];
        acc_0a += xa * w[0];
        acc_0b += xb * w[0];
        acc_1a += xa * w[4];
        acc_1b += xb * w[4];
        xa = c[1];
        xb = b[1];
        acc_0a += xa * w[1];
        acc_0b += xb * w[1];
        acc_1a += xa * w[5];
        acc_1b += xb * w[5];
        xa = c[2];
        xb = b[2];
        acc_0a += xa * w[2];
        acc_0b += xb * w[2];
        acc_1a += xa * w[6];
        acc_1b += xb * w[6];
        xa = c[3];
        xb = b[3];
        acc_0a += xa * w[3];
        acc_0b += xb * w[3];
        acc_1a += xa * w[7];
        acc_1b += xb * w[7];
        c += 4;
        b += 4;
        w += 8;
    } while (--groups != 0);
#endif
    acc[0] = acc_0a;
    acc[1] = acc_0b;
    acc[2] = acc_1a;
    acc[3] = acc_1b;
}

/*
 * All output channels of two pixels, from their im2col columns in `cols`. For a single pixel
 * out_b == out_a: column B is then a copy of A, so both results are the same value, stored to
 * the same byte.
 */
static void tinyforge_conv2d_pass(const tinyforge_conv2d_params_t *p, const int8_t *cols, int32_t kp,
                                  int8_t *out_a, int8_t *out_b)
{
    /* Locals, not p->...: the int8 output stores could alias *p as far as the compiler knows. */
    const int32_t out_c = p->out_c;
    const int32_t output_offset = p->output_offset;
    const int32_t act_min = p->act_min;
    const int32_t act_max = p->act_max;
    const int32_t *const bias = p->bias;
    const int32_t *const multiplier = p->multiplier;
    const int32_t *const shift = p->shift;
    const int8_t *w = p->weights;

    for (int32_t oc = 0; oc < out_c; oc += 2) {
        /* An odd last channel is paired with the zero weight row the generator added. */
        const int32_t second = (oc + 1 < out_c);
        int32_t acc[4];
        acc[0] = bias[oc];
        acc[1] = acc[0];
        acc[2] = bias[oc + second];
        acc[3] = acc[2];
        tinyforge_conv2d_dot_2x2(cols, w, kp >> 2, acc, kp);
        w += 2 * kp;
        tinyforge_requantize_2(acc[0], acc[1], multiplier[oc], shift[oc], output_offset, act_min, act_max,
                               &out_a[oc], &out_b[oc]);
        if (second) {
            tinyforge_requantize_2(acc[2], acc[3], multiplier[oc + 1], shift[oc + 1], output_offset, act_min,
                                   act_max, &out_a[oc + 1], &out_b[oc + 1]);
        }
    }
}

void tinyforge_conv2d(const tinyforge_conv2d_params_t *p, const int8_t *input, int8_t *output)
{
    const int32_t out_c = p->out_c;
    /* Taps per column, rounded up to whole groups of four (the weight rows are padded alike). */
    const int32_t kp = (p->kernel_h * p->kernel_w * p->in_c + 3) & ~3;
    const int32_t pixels = p->out_h * p->out_w;
    /*
     * Scratch (params->im2col, 5 * kp bytes). DSP: the two columns as int16, interleaved, in
     * [0, 4kp); unless in_c is a multiple of 4, each column is first gathered as int8 into
     * [4kp, 5kp) and widened from there. Portable: int8 column A in [0, kp), B in [kp, 2kp).
     * The kp - k padding values of a column are left as they are: they only ever meet zero
     * weights.
     */
    int8_t *const cols = p->im2col;
    int32_t oy = 0;
    int32_t ox = 0;

    for (int32_t pix = 0; pix < pixels; pix += 2) {
        /* The last pixel of an odd count runs as both columns; its second result is dropped. */
        const int two = (pix + 1 < pixels);
        for (int32_t column = 0; column < 2; column++) {
#if defined(TINYFORGE_DSP)
            if ((p->in_c & 3) == 0) {
                tinyforge_im2col_s16(p, input, oy, ox, cols + 8 * column);
            } else {
                tinyforge_im2col_s8(p, input, oy, ox, cols + 4 * kp);
                tinyforge_widen_interleaved(cols + 4 * kp, cols, kp, column);
            }
#else
            tinyforge_im2col_s8(p, input, oy, ox, cols + column * kp);
#endif
            if ((column == 1 || two) && ++ox == p->out_w) {
                ox = 0;
                oy++;
            }
        }
        int8_t *const out_a = output + pix * out_c;
        tinyforge_conv2d_pass(p, cols, kp, out_a, two ? out_a + out_c : out_a);
    }
}
