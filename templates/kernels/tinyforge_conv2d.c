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
 *     zero point. Four output pixels at a time, into the scratch buffer the memory plan gives
 *     this layer (params->im2col, 8 * Kp + 32 bytes, Kp = K rounded up to a multiple of 4, and
 *     Kp more when in_c is not a multiple of 4, for the window in natural order).
 *  3. Each inner loop computes 2 output channels x 4 output pixels: every weight loaded serves
 *     four pixels and every column value two channels, eight accumulators in registers. The
 *     sums are stored after the columns and requantized there.
 *  4. Fused max pooling (pool_h x pool_w > 1, set by the generator when a max pooling with
 *     non-overlapping windows of at most 4 pixels follows): the four pixels of a pass are one
 *     pooling window, the maximum is taken on the int32 sums and only it is requantized (exact:
 *     the requantization is monotone). The conv output is never stored, and conv pixels no
 *     window reads are never computed.
 *
 * Weight layout (made by the generator), in_c of 4 or more: OHWI rows padded with zero
 * weights to Kp taps, an odd channel count padded with a zero row, each pair of rows (2j, 2j + 1)
 * interleaved every four taps (4 bytes of row 2j, 4 bytes of row 2j + 1, ...), and 4 zero bytes
 * at the end. A zero weight adds nothing whatever it meets, so the padding values of a column may
 * be anything. Few input channels (in_c below 4, e.g. the first layer): pairs of taps, kernel row
 * by kernel row, see tinyforge_column_rows.
 *
 * DSP path (SMLAD multiplies two int16 pairs and adds both products): the columns are widened
 * to int16 as they are copied from the input, "reordered": each group of four values x0 x1 x2 x3
 * becomes the pairs (x0, x2), (x1, x3), which is what SXTB16 makes of the four weight bytes at w
 * and at w + 1. The four columns are interleaved pair by pair (pair q of column j at cols + 16q +
 * 4j), so one pointer walks them all and one LDRD loads two pixels' words. The inner loop takes
 * 4 taps x 2 channels x 4 pixels = 32 MACs in 16 SMLAD + 4 SXTB16 + 4 weight loads + 4 LDRD + the
 * loop test: 28 instructions, plus 3 per two groups for the test (inline assembly: see
 * tinyforge_conv2d_dot_2x4).
 * Portable path: int8 columns, one MLA per MAC; on ARMv6-M (Cortex-M0/M0+) the inner loop is an
 * assembly function that keeps the accumulators in the high registers.
 */
#include <stdint.h>
#include <string.h>

#include "tinyforge_dsp.h"
#include "tinyforge_kernels.h"
#include "tinyforge_requant.h"

/*
 * The int8 im2col column of output pixel (oy, ox) at g, in natural order (K bytes): for each
 * kernel row inside the input, the valid taps are one contiguous run of the NHWC input (all
 * channels of adjacent pixels), the taps left and right of it in the padding; kernel rows above
 * or below the input are all padding. Padding gets the input zero point. Runs are a few to a few
 * dozen bytes: byte loops, no library calls.
 */
static void tinyforge_gather_s8(const tinyforge_conv2d_params_t *p, const int8_t *input, int32_t oy, int32_t ox,
                                int8_t *g)
{
    const int32_t in_w = p->in_w;
    const int32_t in_c = p->in_c;
    const int32_t kernel_h = p->kernel_h;
    const int32_t kernel_w = p->kernel_w;
    const int32_t row_len = kernel_w * in_c;
    const int32_t iy0 = oy * p->stride_h - p->pad_top;
    const int32_t ix0 = ox * p->stride_w - p->pad_left;

    if (iy0 >= 0 && ix0 >= 0 && iy0 + kernel_h <= p->in_h && ix0 + kernel_w <= in_w) {
        /* The whole window inside the input (most pixels): kernel_h runs of row_len bytes. */
        const int8_t *src = input + (iy0 * in_w + ix0) * in_c;
        const int32_t skip = in_w * in_c - row_len;
        for (int32_t ky = kernel_h; ky > 0; ky--) {
            if (row_len >= 16) {
                /* Long runs (many channels): the library copy moves words. */
                memcpy(g, src, (size_t)row_len);
                g += row_len;
                src += row_len;
            } else {
                for (int32_t i = row_len; i > 0; i--) {
                    *g++ = *src++;
                }
            }
            src += skip;
        }
        return;
    }
    /* At the borders, tap by tap (a select per byte rather than separate padding loops, which
     * GCC would turn into memset calls costing more than these few bytes). */
    const int8_t pad = (int8_t)(-p->input_offset); /* the input zero point */
    for (int32_t iy = iy0; iy < iy0 + kernel_h; iy++) {
        const int32_t row_inside = ((uint32_t)iy < (uint32_t)p->in_h);
        const int8_t *src = input + (row_inside ? iy * in_w * in_c : 0);
        for (int32_t ix = ix0; ix < ix0 + kernel_w; ix++) {
            const int32_t inside = row_inside && ((uint32_t)ix < (uint32_t)in_w);
            for (int32_t ic = 0; ic < in_c; ic++) {
                *g++ = inside ? src[ix * in_c + ic] : pad;
            }
        }
    }
}

/* The few-input-channel column helpers: always inlined on the DSP path (their call overhead is a
 * tenth of conv1's instructions), left to the compiler elsewhere (code size counts most on the
 * small cores). */
#if defined(TINYFORGE_DSP)
#define TINYFORGE_SPLIT_INLINE TINYFORGE_INLINE
#else
#define TINYFORGE_SPLIT_INLINE static
#endif

/* Bytes of scratch per tap of the four columns: int16 on the DSP path, int8 otherwise. */
#if defined(TINYFORGE_DSP)
#define TINYFORGE_CONV_COLUMN_BYTES 8
#else
#define TINYFORGE_CONV_COLUMN_BYTES 4
#endif

#if defined(TINYFORGE_DSP)
/* n groups of the interleaved layout filled with the pad value (the zero point in each half). */
static int8_t *tinyforge_fill_interleaved(int8_t *dst, int32_t n, int32_t pad2)
{
    for (; n > 0; n--) {
        tinyforge_write32(dst, pad2);
        tinyforge_write32(dst + 16, pad2);
        dst += 32;
    }
    return dst;
}

/*
 * in_c a multiple of 4: every tap is whole groups of four values, so the runs and the padding of
 * the column line up with the groups, and the column is written straight into the interleaved
 * int16 layout at dst = cols + 4 * column (widened as it is copied), without the int8 pass.
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

    if (iy0 >= 0 && iy0 + p->kernel_h <= p->in_h && before == 0 && after == 0) {
        /* The whole window inside the input (most pixels): kernel_h runs of row_groups groups. */
        const int8_t *src = input + (iy0 * p->in_w + ix0) * p->in_c;
        const int32_t skip = (p->in_w - p->kernel_w) * p->in_c;
        for (int32_t ky = p->kernel_h; ky > 0; ky--) {
            const int8_t *const end = src + 4 * row_groups;
            do {
                const int32_t v = tinyforge_read32(src);
                src += 4;
                tinyforge_write32(dst, __sxtb16(v));
                tinyforge_write32(dst + 16, tinyforge_sxtb16_ror8(v));
                dst += 32;
            } while (src != end);
            src += skip;
        }
        return;
    }
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
            tinyforge_write32(dst + 16, tinyforge_sxtb16_ror8(v));
            dst += 32;
        }
        dst = tinyforge_fill_interleaved(dst, after, pad2);
    }
}

/*
 * in_c of 4 or more but not a multiple of 4: the groups of four straddle pixels, so the window is
 * gathered in natural order first (tinyforge_gather_s8) and then widened group by group into the
 * interleaved int16 layout at dst = cols + 4 * column.
 */
static void tinyforge_widen_s16(const int8_t *src, int8_t *dst, int32_t kp)
{
    for (int32_t g = kp >> 2; g > 0; g--) {
        const int32_t v = tinyforge_read32(src);
        src += 4;
        tinyforge_write32(dst, __sxtb16(v));
        tinyforge_write32(dst + 16, tinyforge_sxtb16_ror8(v));
        dst += 32;
    }
}
#else
/* Portable layout: group g of four int8 values of column j at dst + 16 * g (dst = cols + 4 * j). */
static void tinyforge_interleave_s8(const int8_t *src, int8_t *dst, int32_t kp)
{
    for (int32_t g = kp >> 2; g > 0; g--) {
        dst[0] = src[0];
        dst[1] = src[1];
        dst[2] = src[2];
        dst[3] = src[3];
        src += 4;
        dst += 16;
    }
}
#endif

/*
 * Few input channels (in_c below 4: the first layer of an image model). Whole groups
 * of four taps of the window would waste up to three multiplies per column and need the weights
 * widened in the inner loop, and copying the window byte by byte costs more than the arithmetic
 * (a 3x3 window on one channel is 9 MACs per output channel). Instead each kernel row of the
 * window, L = kernel_w * in_c contiguous bytes of the NHWC input, is read a word (four taps) at a
 * time and split the way SXTB16 splits a word: pair 2m of the row = its taps (4m, 4m + 2), pair
 * 2m + 1 = (4m + 1, 4m + 3), and a row holds the pairs with a tap below L: row_pairs = ceil(L / 4)
 * + ceil((L - 1) / 4); rows of 3 taps are merged in twos (tinyforge_split_two_rows). The
 * generator packs the weights alike, one int32 per channel and pair (the first tap in the low
 * int16 half, zero for a tap past L), channel pairs interleaved pair by pair: the inner loop loads
 * them straight into SMLAD.
 *
 * Pair q of column j: DSP: one word of two int16 at cols + 16 * q + 4 * j (an SXTB16 per pair);
 * portable: two int8 at cols + 8 * q + 2 * j. The last word of a row may give one pair more than
 * the row holds (taps past L, which meet zero weights): the next row, or after the last row the
 * sums of the pass, overwrite it. Rows in the padding, partly outside the input, or whose last word
 * would end past the input go through `row_buf` (the row gathered tap by tap, the zero point in
 * the padding; room for two rows).
 */
static void tinyforge_gather_row(const tinyforge_conv2d_params_t *p, const int8_t *input, int32_t iy, int32_t ix0,
                                 int8_t *row_buf, int32_t bytes)
{
    const int8_t pad = (int8_t)(-p->input_offset); /* the input zero point */
    const int32_t in_c = p->in_c;
    const int32_t row_len = p->kernel_w * in_c;
    const int32_t row_inside = ((uint32_t)iy < (uint32_t)p->in_h);
    const int8_t *const row = input + (row_inside ? iy * p->in_w * in_c : 0);
    int32_t ix = ix0;
    int32_t ic = 0;
    /* One select per byte (separate padding loops would become memset calls costing more than
     * these few bytes). */
    for (int32_t t = 0; t < bytes; t++) {
        const int32_t inside = row_inside && t < row_len && ((uint32_t)ix < (uint32_t)p->in_w);
        row_buf[t] = inside ? row[ix * in_c + ic] : pad;
        if (++ic == in_c) {
            ic = 0;
            ix++;
        }
    }
}

/*
 * kernel_h rows of `words` words each, the first at src and then every in_row bytes (the input, or
 * the gathered row at the borders), split into pairs at dst, rows row_step bytes apart.
 */
TINYFORGE_SPLIT_INLINE void tinyforge_split_rows(const int8_t *src, int8_t *dst, int32_t kernel_h, int32_t words,
                                           int32_t in_row, int32_t row_step)
{
#if defined(TINYFORGE_DSP)
    if (words == 1) {
        /* One word per row (kernel_w * in_c <= 4: 2x2 on one channel, 1x1 on two, ...): the row
         * loop alone (the DSP path only: elsewhere the code it takes counts more). */
        for (int32_t ky = kernel_h; ky > 0; ky--) {
            const int32_t v = tinyforge_read32(src);
            tinyforge_write32(dst, __sxtb16(v));
            tinyforge_write32(dst + 16, tinyforge_sxtb16_ror8(v));
            src += in_row;
            dst += row_step;
        }
        return;
    }
#endif
    for (int32_t ky = kernel_h; ky > 0; ky--) {
        const int8_t *s = src;
        int8_t *d = dst;
        for (int32_t w = words; w > 0; w--) {
#if defined(TINYFORGE_DSP)
            const int32_t v = tinyforge_read32(s);
            tinyforge_write32(d, __sxtb16(v));
            tinyforge_write32(d + 16, tinyforge_sxtb16_ror8(v));
            d += 32;
#else
            d[0] = s[0];
            d[1] = s[2];
            d[8] = s[1];
            d[9] = s[3];
            d += 16;
#endif
            s += 4;
        }
        src += in_row;
        dst += row_step;
    }
}

/*
 * Rows of three taps (a 3x3 window on one channel, the first layer of most image models): each
 * row's word gives one whole pair (taps 0, 2) and half a pair (tap 1, and a tap past the row that
 * meets a zero weight). Two rows are taken together, their tap 1 merged into one pair: pairs
 * (a0, a2), (b0, b2), (a1, b1), 3 pairs for 6 taps instead of 4 (a 3x3 window: 5 pairs, 10 MACs for
 * 9; an odd last row keeps its two pairs). One PKHBT more per two rows, one SMLAD less per pair of
 * output channels.
 */
TINYFORGE_SPLIT_INLINE void tinyforge_split_two_rows(const int8_t *a, const int8_t *b, int8_t *dst)
{
#if defined(TINYFORGE_DSP)
    const int32_t va = tinyforge_read32(a);
    const int32_t vb = tinyforge_read32(b);
    tinyforge_write32(dst, __sxtb16(va));
    tinyforge_write32(dst + 16, __sxtb16(vb));
    const uint32_t odd_a = (uint32_t)tinyforge_sxtb16_ror8(va);
    const uint32_t odd_b = (uint32_t)tinyforge_sxtb16_ror8(vb);
    tinyforge_write32(dst + 32, (int32_t)((odd_a & 0xFFFFu) | (odd_b << 16)));
#else
    dst[0] = a[0];
    dst[1] = a[2];
    dst[8] = b[0];
    dst[9] = b[2];
    dst[16] = a[1];
    dst[17] = b[1];
#endif
}

/* Bytes of the scratch per pair of taps of the four columns. */
#define TINYFORGE_CONV_PAIR_BYTES (TINYFORGE_CONV_COLUMN_BYTES * 2)

/* A few-input-channel layer's geometry, worked out once per call rather than once per column. */
typedef struct {
    const tinyforge_conv2d_params_t *p;
    const int8_t *input;
    int8_t *row_buf;  /* the gather area */
    int32_t kernel_h;
    int32_t words;    /* words per kernel row: ceil(L / 4) */
    int32_t row_step; /* bytes from one kernel row's pairs to the next in the scratch */
    int32_t in_row;   /* bytes per input row */
    int32_t iy_max;   /* window rows start in [0, iy_max]: in_h - kernel_h */
    int32_t ix_max;   /* window columns start in [0, ix_max]: in_w - kernel_w */
    int32_t last;     /* the largest window start offset whose last word ends inside the input */
    int32_t merged;   /* L == 3: rows taken two at a time (see tinyforge_split_two_rows) */
} tinyforge_rows_t;

static void tinyforge_rows_init(const tinyforge_conv2d_params_t *p, const int8_t *input, int8_t *row_buf,
                                tinyforge_rows_t *g)
{
    g->p = p;
    g->input = input;
    g->row_buf = row_buf;
    const int32_t row_len = p->kernel_w * p->in_c;
    g->kernel_h = p->kernel_h;
    g->words = (row_len + 3) >> 2;
    g->row_step = (TINYFORGE_CONV_COLUMN_BYTES * 2) * (g->words + ((row_len + 2) >> 2));
    g->in_row = p->in_w * p->in_c;
    g->iy_max = p->in_h - p->kernel_h;
    g->ix_max = p->in_w - p->kernel_w;
    /* Fewer input rows or columns than the kernel (a short row band, a small input): no window
     * lies inside the input, yet the unsigned range tests pass a start of -1 when the maximum is
     * -1, so no offset may pass the `last` test either (window starts are far above INT32_MIN). */
    g->last = (g->iy_max < 0 || g->ix_max < 0) ? INT32_MIN : (p->in_h - p->kernel_h + 1) * g->in_row - 4 * g->words;
    g->merged = (row_len == 3);
}

static TINYFORGE_NOINLINE void tinyforge_column_rows(const tinyforge_rows_t *g, int32_t oy, int32_t ox, int8_t *dst)
{
    /* Everything but the pixel and the destination comes in g: four arguments, all in registers. */
    const tinyforge_conv2d_params_t *const p = g->p;
    const int8_t *const input = g->input;
    int8_t *const row_buf = g->row_buf;
    const int32_t iy0 = oy * p->stride_h - p->pad_top;
    const int32_t ix0 = ox * p->stride_w - p->pad_left;

    /* The whole window inside the input, and the last word of its last row too (most pixels):
     * straight from the input. */
    if ((uint32_t)iy0 <= (uint32_t)g->iy_max && (uint32_t)ix0 <= (uint32_t)g->ix_max) {
        const int32_t first = iy0 * g->in_row + ix0 * p->in_c;
        if (first <= g->last) {
            const int8_t *src = input + first;
            if (!g->merged) {
                tinyforge_split_rows(src, dst, g->kernel_h, g->words, g->in_row, g->row_step);
                return;
            }
            int32_t ky = g->kernel_h;
            for (; ky >= 2; ky -= 2) {
                tinyforge_split_two_rows(src, src + g->in_row, dst);
                src += 2 * g->in_row;
                dst += 3 * TINYFORGE_CONV_PAIR_BYTES;
            }
            if (ky == 1) {
                tinyforge_split_rows(src, dst, 1, 1, 0, 0);
            }
            return;
        }
    }
    /* At the borders, row by row: straight from the input where the row allows it, else gathered
     * into row_buf (room for two rows: merged rows are split in twos). */
    const int32_t x_inside = (g->ix_max >= 0) && ((uint32_t)ix0 <= (uint32_t)g->ix_max);
    const int32_t row_bytes = 4 * g->words;
    const int8_t *previous = row_buf;
    for (int32_t ky = 0; ky < g->kernel_h; ky++) {
        const int32_t iy = iy0 + ky;
        const int32_t start = iy * g->in_row + ix0 * p->in_c;
        const int8_t *s = row_buf + row_bytes * (ky & 1);
        if (x_inside && (uint32_t)iy < (uint32_t)p->in_h && start + row_bytes <= p->in_h * g->in_row) {
            s = input + start;
        } else {
            tinyforge_gather_row(p, input, iy, ix0, row_buf + row_bytes * (ky & 1), row_bytes);
        }
        if (!g->merged) {
            tinyforge_split_rows(s, dst, 1, g->words, 0, 0);
            dst += g->row_step;
        } else if (ky & 1) {
            tinyforge_split_two_rows(previous, s, dst);
            dst += 3 * TINYFORGE_CONV_PAIR_BYTES;
        } else if (ky + 1 == g->kernel_h) {
            tinyforge_split_rows(s, dst, 1, 1, 0, 0);
        }
        previous = s;
    }
}

/* Pairs of taps of a few-input-channel layer: kernel_h rows of ceil(L / 4) + ceil((L - 1) / 4), or
 * for L = 3 three per two rows. */
static int32_t tinyforge_conv2d_pairs(const tinyforge_conv2d_params_t *p)
{
    const int32_t row_len = p->kernel_w * p->in_c;
    if (row_len == 3) {
        /* Rows merged two at a time (see tinyforge_split_two_rows). */
        return 3 * (p->kernel_h >> 1) + 2 * (p->kernel_h & 1);
    }
    return p->kernel_h * (((row_len + 3) >> 2) + ((row_len + 2) >> 2));
}

/*
 * The im2col column of conv output pixel (oy, ox), stored as column j (0..3) of the pass.
 * Scratch (params->im2col): the four columns (in_c of 4 or more: DSP int16, 8kp bytes,
 * portable int8, 4kp; few input channels: `pairs` pairs of taps, DSP 16 bytes each, portable 8),
 * the pass's eight int32 sums (32 bytes), then `gather`: the int8 column in natural order (kp
 * bytes: the portable path, and the DSP path when in_c is not a multiple of 4), or a
 * few-input-channel layer's rows at the borders. The kp - k padding values of a column
 * are left as they are: they only ever meet zero weights.
 */
TINYFORGE_SPLIT_INLINE void tinyforge_conv2d_column(const tinyforge_conv2d_params_t *p, const tinyforge_rows_t *rows,
                                             const int8_t *input, int32_t oy, int32_t ox, int8_t *cols, int8_t *gather,
                                             int32_t kp, int32_t pairs, int32_t j, int32_t gathered)
{
    if (pairs != 0) {
        /* Few input channels: the column as pairs of taps, row by row (see tinyforge_column_rows). */
        tinyforge_column_rows(rows, oy, ox, cols + (TINYFORGE_CONV_COLUMN_BYTES / 2) * j);
        return;
    }
#if defined(TINYFORGE_DSP)
    if (!gathered) {
        tinyforge_im2col_s16(p, input, oy, ox, cols + 4 * j);
        return;
    }
    tinyforge_gather_s8(p, input, oy, ox, gather);
    tinyforge_widen_s16(gather, cols + 4 * j, kp);
#else
    (void)gathered;
    tinyforge_gather_s8(p, input, oy, ox, gather);
    tinyforge_interleave_s8(gather, cols + 4 * j, kp);
#endif
}
#if !defined(TINYFORGE_DSP)
/*
 * Tap i (0..3) of the current group, portable path: the four pixels' values at c[i], c[4 + i],
 * c[8 + i], c[12 + i], the two channels' weights at w[i] and w[4 + i]. A macro rather than a
 * function so that the eight accumulators stay plain locals of the loop.
 */
#define TINYFORGE_CONV_TAP(i)                                                                      \
    do {                                                                                           \
        const int32_t w0 = w[(i)];                                                                 \
        const int32_t w1 = w[4 + (i)];                                                             \
        int32_t x = c[(i)];                                                                        \
        acc_00 += x * w0;                                                                          \
        acc_10 += x * w1;                                                                          \
        x = c[4 + (i)];                                                                            \
        acc_01 += x * w0;                                                                          \
        acc_11 += x * w1;                                                                          \
        x = c[8 + (i)];                                                                            \
        acc_02 += x * w0;                                                                          \
        acc_12 += x * w1;                                                                          \
        x = c[12 + (i)];                                                                           \
        acc_03 += x * w0;                                                                          \
        acc_13 += x * w1;                                                                          \
    } while (0)
#endif

#if defined(__ARM_ARCH_6M__) && defined(__GNUC__) && !defined(TINYFORGE_NO_M0_ASM)
/*
 * tinyforge_conv2d_dot_2x4 on ARMv6-M (Cortex-M0/M0+), the portable layout (int8 columns, int8
 * weight rows), written out as a whole function: the core has 8 low registers, MULS overwrites
 * one of its operands, and GCC 12 spills six of the eight accumulators in the C loop (about 186
 * instructions per 32 MACs). Here the accumulators live in r6, r7 and the high registers r8-r12
 * and lr (ADD reaches them), r0-r5 hold the two pointers, the two weights and the column value:
 * per tap and pixel LDRB + SXTB + MOVS + 2 MULS + 2 ADD, two taps per turn (the columns are
 * 4-aligned, so the fourth tap of a group leaves c 4-aligned again), 141 instructions per 32 MACs
 * in 222 bytes of code. The
 * arguments arrive per the AAPCS (c, w, groups, bias_0 in r0-r3, bias_1 on the stack); the sums
 * go right after the columns, as in the C version. TINYFORGE_NO_M0_ASM compiles the C loop.
 */
__attribute__((naked, noinline, noclone)) static void tinyforge_conv2d_dot_2x4(int8_t *c __attribute__((unused)),
                                                                            const int8_t *w __attribute__((unused)),
                                                                            int32_t groups __attribute__((unused)),
                                                                            int32_t bias_0 __attribute__((unused)),
                                                                            int32_t bias_1 __attribute__((unused)))
{
    __asm__ volatile(
                     ".syntax unified\n\t"
                     "push   {r4, r5, r6, r7, lr}\n\t"
                     "mov    r4, r8\n\t"
                     "mov    r5, r9\n\t"
                     "mov    r6, r10\n\t"
                     "mov    r7, r11\n\t"
                     "push   {r4, r5, r6, r7}\n\t"
                     "lsls   r2, r2, #4\n\t"
                     "adds   r2, r0, r2\n\t"
                     "push   {r2}\n\t"
                     "movs   r6, r3\n\t"
                     "mov    r8, r3\n\t"
                     "mov    r10, r3\n\t"
                     "mov    r12, r3\n\t"
                     "ldr    r7, [sp, #40]\n\t"
                     "mov    r9, r7\n\t"
                     "mov    r11, r7\n\t"
                     "mov    lr, r7\n\t"
                     "1:\n\t"
                     "ldrb   r2, [r1, #0]\n\t"
                     "ldrb   r3, [r1, #4]\n\t"
                     "sxtb   r2, r2\n\t"
                     "sxtb   r3, r3\n\t"
                     "ldrb   r4, [r0, #0]\n\t"
                     "sxtb   r4, r4\n\t"
                     "movs   r5, r4\n\t"
                     "muls   r5, r2, r5\n\t"
                     "adds   r6, r6, r5\n\t"
                     "muls   r4, r3, r4\n\t"
                     "adds   r7, r7, r4\n\t"
                     "ldrb   r4, [r0, #4]\n\t"
                     "sxtb   r4, r4\n\t"
                     "movs   r5, r4\n\t"
                     "muls   r5, r2, r5\n\t"
                     "add    r8, r5\n\t"
                     "muls   r4, r3, r4\n\t"
                     "add    r9, r4\n\t"
                     "ldrb   r4, [r0, #8]\n\t"
                     "sxtb   r4, r4\n\t"
                     "movs   r5, r4\n\t"
                     "muls   r5, r2, r5\n\t"
                     "add    r10, r5\n\t"
                     "muls   r4, r3, r4\n\t"
                     "add    r11, r4\n\t"
                     "ldrb   r4, [r0, #12]\n\t"
                     "sxtb   r4, r4\n\t"
                     "movs   r5, r4\n\t"
                     "muls   r5, r2, r5\n\t"
                     "add    r12, r5\n\t"
                     "muls   r4, r3, r4\n\t"
                     "add    lr, r4\n\t"
                     "ldrb   r2, [r1, #1]\n\t"
                     "ldrb   r3, [r1, #5]\n\t"
                     "sxtb   r2, r2\n\t"
                     "sxtb   r3, r3\n\t"
                     "ldrb   r4, [r0, #1]\n\t"
                     "sxtb   r4, r4\n\t"
                     "movs   r5, r4\n\t"
                     "muls   r5, r2, r5\n\t"
                     "adds   r6, r6, r5\n\t"
                     "muls   r4, r3, r4\n\t"
                     "adds   r7, r7, r4\n\t"
                     "ldrb   r4, [r0, #5]\n\t"
                     "sxtb   r4, r4\n\t"
                     "movs   r5, r4\n\t"
                     "muls   r5, r2, r5\n\t"
                     "add    r8, r5\n\t"
                     "muls   r4, r3, r4\n\t"
                     "add    r9, r4\n\t"
                     "ldrb   r4, [r0, #9]\n\t"
                     "sxtb   r4, r4\n\t"
                     "movs   r5, r4\n\t"
                     "muls   r5, r2, r5\n\t"
                     "add    r10, r5\n\t"
                     "muls   r4, r3, r4\n\t"
                     "add    r11, r4\n\t"
                     "ldrb   r4, [r0, #13]\n\t"
                     "sxtb   r4, r4\n\t"
                     "movs   r5, r4\n\t"
                     "muls   r5, r2, r5\n\t"
                     "add    r12, r5\n\t"
                     "muls   r4, r3, r4\n\t"
                     "add    lr, r4\n\t"
                     "adds   r0, #2\n\t"
                     "adds   r1, #2\n\t"
                     "lsls   r5, r0, #30\n\t"
                     "bne    1b\n\t"
                     "adds   r0, #12\n\t"
                     "adds   r1, #4\n\t"
                     "ldr    r5, [sp]\n\t"
                     "cmp    r0, r5\n\t"
                     "bne    1b\n\t"
                     "str    r6, [r0, #0]\n\t"
                     "mov    r4, r8\n\t"
                     "str    r4, [r0, #4]\n\t"
                     "mov    r4, r10\n\t"
                     "str    r4, [r0, #8]\n\t"
                     "mov    r4, r12\n\t"
                     "str    r4, [r0, #12]\n\t"
                     "str    r7, [r0, #16]\n\t"
                     "mov    r4, r9\n\t"
                     "str    r4, [r0, #20]\n\t"
                     "mov    r4, r11\n\t"
                     "str    r4, [r0, #24]\n\t"
                     "mov    r4, lr\n\t"
                     "str    r4, [r0, #28]\n\t"
                     "add    sp, #4\n\t"
                     "pop    {r4, r5, r6, r7}\n\t"
                     "mov    r8, r4\n\t"
                     "mov    r9, r5\n\t"
                     "mov    r10, r6\n\t"
                     "mov    r11, r7\n\t"
                     "pop    {r4, r5, r6, r7, pc}\n\t");
}
#else
/* One group of four taps of tinyforge_conv2d_dot_2x4's DSP loop, in its asm operand names: the
 * loop runs it twice per turn (entering at the second when the group count is odd). */
#define TINYFORGE_DOT_2X4_GROUP \
    "ldr    %[w0], [%[w], #1]\n\t" \
    "ldr    %[w1], [%[w], #5]\n\t" \
    "sxtb16 %[w0], %[w0]\n\t" \
    "sxtb16 %[w1], %[w1]\n\t" \
    "ldrd   %[x0], %[x1], [%[c], #16]\n\t" \
    "smlad  %[a00], %[w0], %[x0], %[a00]\n\t" \
    "smlad  %[a10], %[w1], %[x0], %[a10]\n\t" \
    "smlad  %[a01], %[w0], %[x1], %[a01]\n\t" \
    "smlad  %[a11], %[w1], %[x1], %[a11]\n\t" \
    "ldrd   %[x0], %[x1], [%[c], #24]\n\t" \
    "smlad  %[a02], %[w0], %[x0], %[a02]\n\t" \
    "smlad  %[a12], %[w1], %[x0], %[a12]\n\t" \
    "smlad  %[a03], %[w0], %[x1], %[a03]\n\t" \
    "smlad  %[a13], %[w1], %[x1], %[a13]\n\t" \
    "ldr    %[w1], [%[w], #4]\n\t" \
    "ldr    %[w0], [%[w]], #8\n\t" \
    "sxtb16 %[w0], %[w0]\n\t" \
    "sxtb16 %[w1], %[w1]\n\t" \
    "ldrd   %[x0], %[x1], [%[c], #8]\n\t" \
    "smlad  %[a02], %[w0], %[x0], %[a02]\n\t" \
    "smlad  %[a12], %[w1], %[x0], %[a12]\n\t" \
    "smlad  %[a03], %[w0], %[x1], %[a03]\n\t" \
    "smlad  %[a13], %[w1], %[x1], %[a13]\n\t" \
    "ldrd   %[x0], %[x1], [%[c]], #32\n\t" \
    "smlad  %[a00], %[w0], %[x0], %[a00]\n\t" \
    "smlad  %[a10], %[w1], %[x0], %[a10]\n\t" \
    "smlad  %[a01], %[w0], %[x1], %[a01]\n\t" \
    "smlad  %[a11], %[w1], %[x1], %[a11]\n\t"

/*
 * The inner loop: `groups` groups of four taps of one pair of output channels (interleaved
 * weight rows at w) against the four interleaved columns at c, with the accumulators starting
 * at bias_0 (channel 0) and bias_1 (channel 1). The eight sums (channel 0 pixels 0..3, channel
 * 1 pixels 0..3) are stored right after the columns, i.e. where c points after the loop.
 *
 * A function of its own, out of line, and without an output pointer: its live values (8
 * accumulators, 2 weight pairs, 2 column words, 2 pointers) are every register a Cortex-M has.
 */
static TINYFORGE_NOINLINE void tinyforge_conv2d_dot_2x4(int8_t *c, const int8_t *w, int32_t groups, int32_t bias_0,
                                                        int32_t bias_1)
{
    int32_t acc_00 = bias_0;
    int32_t acc_01 = bias_0;
    int32_t acc_02 = bias_0;
    int32_t acc_03 = bias_0;
    int32_t acc_10 = bias_1;
    int32_t acc_11 = bias_1;
    int32_t acc_12 = bias_1;
    int32_t acc_13 = bias_1;
    /* groups >= 1 (every kernel has a tap): the loop tests at the bottom, against where the
     * sums go. */
    int8_t *const end = c + TINYFORGE_CONV_COLUMN_BYTES * 4 * groups;
#if defined(TINYFORGE_DSP) && defined(__GNUC__) && (defined(__arm__) || defined(__thumb__))
    /*
     * The DSP loop written out, because GCC 12 neither pairs the column loads into LDRD nor keeps
     * 14 values in registers (it spills accumulators): per group 4 weight loads, 4 SXTB16, 4 LDRD
     * (two pixels' words each, the pointers advanced by the addressing modes) and 16 SMLAD, 28
     * instructions per 32 MACs; two groups per turn, then the loop test (3 instructions: `end`
     * stays on the stack, no register is left).
     * Odd taps first: bytes 1 and 3 of each weight word, as bytes 0 and 2 of the word one byte
     * further on (an unaligned load, which every core with the DSP extension allows; the
     * generator pads the weight array so that the last one stays inside it).
     */
    int32_t w0;
    int32_t w1;
    int32_t x0;
    int32_t x1;
    __asm__ volatile("ldr    %[x0], %[n]\n\t"
                     "tst    %[x0], #1\n\t"
                     "bne    2f\n"
                     "1:\n\t"
                     TINYFORGE_DOT_2X4_GROUP
                     "2:\n\t"
                     TINYFORGE_DOT_2X4_GROUP
                     "ldr    %[x0], %[end]\n\t"
                     "cmp    %[c], %[x0]\n\t"
                     "bne    1b"
                     : [a00] "+r"(acc_00), [a01] "+r"(acc_01), [a02] "+r"(acc_02), [a03] "+r"(acc_03),
                       [a10] "+r"(acc_10), [a11] "+r"(acc_11), [a12] "+r"(acc_12), [a13] "+r"(acc_13),
                       [c] "+r"(c), [w] "+r"(w), [w0] "=&r"(w0), [w1] "=&r"(w1), [x0] "=&r"(x0), [x1] "=&r"(x1)
                     : [end] "m"(end), [n] "m"(groups)
                     : "cc", "memory");
#else
    do {
#if defined(TINYFORGE_DSP)
        /* The same on a host with the C model of the intrinsics: pixel j's even taps (0, 2) at
         * c + 4j, its odd taps (1, 3) at c + 16 + 4j. */
        int32_t w0 = __sxtb16(tinyforge_read32(w));
        int32_t w1 = __sxtb16(tinyforge_read32(w + 4));
        int32_t x = tinyforge_read32(c);
        acc_00 = __smlad(w0, x, acc_00);
        acc_10 = __smlad(w1, x, acc_10);
        x = tinyforge_read32(c + 4);
        acc_01 = __smlad(w0, x, acc_01);
        acc_11 = __smlad(w1, x, acc_11);
        x = tinyforge_read32(c + 8);
        acc_02 = __smlad(w0, x, acc_02);
        acc_12 = __smlad(w1, x, acc_12);
        x = tinyforge_read32(c + 12);
        acc_03 = __smlad(w0, x, acc_03);
        acc_13 = __smlad(w1, x, acc_13);
        w0 = __sxtb16(tinyforge_read32(w + 1));
        w1 = __sxtb16(tinyforge_read32(w + 5));
        x = tinyforge_read32(c + 16);
        acc_00 = __smlad(w0, x, acc_00);
        acc_10 = __smlad(w1, x, acc_10);
        x = tinyforge_read32(c + 20);
        acc_01 = __smlad(w0, x, acc_01);
        acc_11 = __smlad(w1, x, acc_11);
        x = tinyforge_read32(c + 24);
        acc_02 = __smlad(w0, x, acc_02);
        acc_12 = __smlad(w1, x, acc_12);
        x = tinyforge_read32(c + 28);
        acc_03 = __smlad(w0, x, acc_03);
        acc_13 = __smlad(w1, x, acc_13);
        c += 32;
#else
        TINYFORGE_CONV_TAP(0);
        TINYFORGE_CONV_TAP(1);
        TINYFORGE_CONV_TAP(2);
        TINYFORGE_CONV_TAP(3);
        c += 16;
#endif
        w += 8;
    } while (c != end);
#endif
    int32_t *const sums = (int32_t *)(void *)end; /* 4-aligned: the scratch and every column are */
    sums[0] = acc_00;
    sums[1] = acc_01;
    sums[2] = acc_02;
    sums[3] = acc_03;
    sums[4] = acc_10;
    sums[5] = acc_11;
    sums[6] = acc_12;
    sums[7] = acc_13;
}

#endif

/* The low and the high int16 half of a packed weight word, sign-extended. */
static inline int32_t tinyforge_low16(int32_t v)
{
    return (int32_t)(((uint32_t)v & 0xFFFFu) ^ 0x8000u) - 0x8000;
}

/* One pair of taps of tinyforge_conv2d_dot_pairs's DSP loop, in its asm operand names: the loop
 * runs it twice per turn (entering at the second when the pair count is odd). */
#define TINYFORGE_DOT_PAIRS_PAIR \
    "ldrd   %[w0], %[w1], [%[w]], #8\n\t" \
    "ldrd   %[x0], %[x1], [%[c], #8]\n\t" \
    "smlad  %[a02], %[w0], %[x0], %[a02]\n\t" \
    "smlad  %[a12], %[w1], %[x0], %[a12]\n\t" \
    "smlad  %[a03], %[w0], %[x1], %[a03]\n\t" \
    "smlad  %[a13], %[w1], %[x1], %[a13]\n\t" \
    "ldrd   %[x0], %[x1], [%[c]], #16\n\t" \
    "smlad  %[a00], %[w0], %[x0], %[a00]\n\t" \
    "smlad  %[a10], %[w1], %[x0], %[a10]\n\t" \
    "smlad  %[a01], %[w0], %[x1], %[a01]\n\t" \
    "smlad  %[a11], %[w1], %[x1], %[a11]\n\t"

/*
 * The pairs form of tinyforge_conv2d_dot_2x4 (few input channels): `pairs` pairs of taps of one
 * pair of output channels (packed weight words at w: channel 0's, then channel 1's, pair by pair)
 * against the four columns at c; the eight sums are stored right after the columns. DSP: every
 * word loaded feeds SMLADs directly, nothing to widen.
 */
static TINYFORGE_NOINLINE void tinyforge_conv2d_dot_pairs(int8_t *c, const int32_t *w, int32_t pairs, int32_t bias_0,
                                                          int32_t bias_1)
{
    int32_t acc_00 = bias_0;
    int32_t acc_01 = bias_0;
    int32_t acc_02 = bias_0;
    int32_t acc_03 = bias_0;
    int32_t acc_10 = bias_1;
    int32_t acc_11 = bias_1;
    int32_t acc_12 = bias_1;
    int32_t acc_13 = bias_1;
    /* The loop ends where the sums go: no counter, and nothing else to keep for after it. */
    int8_t *const end = c + TINYFORGE_CONV_COLUMN_BYTES * 2 * pairs;
#if defined(TINYFORGE_DSP) && defined(__GNUC__) && (defined(__arm__) || defined(__thumb__))
    /* Written out for the reason given at tinyforge_conv2d_dot_2x4: per pair one LDRD of the two
     * weight words and two of the four columns' words, 8 SMLAD, 11 instructions per 16 MACs; two
     * pairs per turn. */
    int32_t w0;
    int32_t w1;
    int32_t x0;
    int32_t x1;
    __asm__ volatile("ldr    %[x0], %[n]\n\t"
                     "tst    %[x0], #1\n\t"
                     "bne    2f\n"
                     "1:\n\t"
                     TINYFORGE_DOT_PAIRS_PAIR
                     "2:\n\t"
                     TINYFORGE_DOT_PAIRS_PAIR
                     "ldr    %[x0], %[end]\n\t"
                     "cmp    %[c], %[x0]\n\t"
                     "bne    1b"
                     : [a00] "+r"(acc_00), [a01] "+r"(acc_01), [a02] "+r"(acc_02), [a03] "+r"(acc_03),
                       [a10] "+r"(acc_10), [a11] "+r"(acc_11), [a12] "+r"(acc_12), [a13] "+r"(acc_13),
                       [c] "+r"(c), [w] "+r"(w), [w0] "=&r"(w0), [w1] "=&r"(w1), [x0] "=&r"(x0), [x1] "=&r"(x1)
                     : [end] "m"(end), [n] "m"(pairs)
                     : "cc", "memory");
#else
    do {
#if defined(TINYFORGE_DSP)
        const int32_t w0 = w[0];
        const int32_t w1 = w[1];
        int32_t x = tinyforge_read32(c);
        acc_00 = __smlad(w0, x, acc_00);
        acc_10 = __smlad(w1, x, acc_10);
        x = tinyforge_read32(c + 4);
        acc_01 = __smlad(w0, x, acc_01);
        acc_11 = __smlad(w1, x, acc_11);
        x = tinyforge_read32(c + 8);
        acc_02 = __smlad(w0, x, acc_02);
        acc_12 = __smlad(w1, x, acc_12);
        x = tinyforge_read32(c + 12);
        acc_03 = __smlad(w0, x, acc_03);
        acc_13 = __smlad(w1, x, acc_13);
        c += 16;
#else
        const int32_t w0_lo = tinyforge_low16(w[0]);
        const int32_t w0_hi = w[0] >> 16;
        const int32_t w1_lo = tinyforge_low16(w[1]);
        const int32_t w1_hi = w[1] >> 16;
        acc_00 += c[0] * w0_lo + c[1] * w0_hi;
        acc_10 += c[0] * w1_lo + c[1] * w1_hi;
        acc_01 += c[2] * w0_lo + c[3] * w0_hi;
        acc_11 += c[2] * w1_lo + c[3] * w1_hi;
        acc_02 += c[4] * w0_lo + c[5] * w0_hi;
        acc_12 += c[4] * w1_lo + c[5] * w1_hi;
        acc_03 += c[6] * w0_lo + c[7] * w0_hi;
        acc_13 += c[6] * w1_lo + c[7] * w1_hi;
        c += 8;
#endif
        w += 2;
    } while (c != end);
#endif
    int32_t *const sums = (int32_t *)(void *)end; /* 4-aligned: the scratch and every column are */
    sums[0] = acc_00;
    sums[1] = acc_01;
    sums[2] = acc_02;
    sums[3] = acc_03;
    sums[4] = acc_10;
    sums[5] = acc_11;
    sums[6] = acc_12;
    sums[7] = acc_13;
}

/*
 * All output channels of the pass's four columns in `cols`. Unpooled: column j is output pixel
 * out[j] (past the last pixel, columns and out[j] repeat it). Pooled:
 * the four columns are one pooling window, and out[0] gets the maximum. Max pooling commutes
 * with the requantization, which is monotone (multiplier >= 0, a rounding shift, a clamp), so
 * the maximum is taken on the int32 sums and only it is requantized: the same int8 as
 * requantizing the four and pooling them.
 */
static void tinyforge_conv2d_pass(const tinyforge_conv2d_params_t *p, int8_t *cols, int32_t kp, int32_t pairs,
                                  int8_t *const *out, int32_t pooled)
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
    /* pairs: few input channels, pairs of taps, packed int32 weights (see tinyforge_column_rows).
     * Where the dot functions leave their sums: right after the columns. */
    const int32_t *const sums =
        (const int32_t *)(const void *)(cols + (pairs ? TINYFORGE_CONV_PAIR_BYTES * pairs
                                                      : TINYFORGE_CONV_COLUMN_BYTES * kp));

    for (int32_t oc = 0; oc < out_c; oc += 2) {
        /* An odd last channel is paired with the zero weight row the generator added. */
        const int32_t second = (oc + 1 < out_c);
        if (pairs) {
            const int32_t *const w32 = (const int32_t *)(const void *)w;
            tinyforge_conv2d_dot_pairs(cols, w32 + oc * pairs, pairs, bias[oc], bias[oc + second]);
        } else {
            tinyforge_conv2d_dot_2x4(cols, w, kp >> 2, bias[oc], bias[oc + second]);
            w += 2 * kp;
        }
        for (int32_t r = 0; r <= second; r++) {
            const int32_t c = oc + r;
            const int32_t *const acc = sums + 4 * r;
            if (pooled) {
                int32_t m = acc[0];
                m = (acc[1] > m) ? acc[1] : m;
                m = (acc[2] > m) ? acc[2] : m;
                m = (acc[3] > m) ? acc[3] : m;
                out[0][c] = tinyforge_requantize(m, multiplier[c], shift[c], output_offset, act_min, act_max);
                continue;
            }
            /* Four pixels (a pass past the last pixel repeats it, into the same byte, so all four
             * are stored), the per-channel part of the requantization worked out once per two. */
            tinyforge_requantize_2(acc[0], acc[1], multiplier[c], shift[c], output_offset, act_min, act_max,
                                   &out[0][c], &out[1][c]);
            tinyforge_requantize_2(acc[2], acc[3], multiplier[c], shift[c], output_offset, act_min, act_max,
                                   &out[2][c], &out[3][c]);
        }
    }
}

/* The whole layer; `gathered` (a constant in each caller): the DSP path's columns are gathered
 * in natural order and then widened (in_c of 4 or more, not a multiple of 4). */
TINYFORGE_INLINE void tinyforge_conv2d_layer(const tinyforge_conv2d_params_t *p, const int8_t *input,
                                             int8_t *output, int32_t gathered)
{
    const int32_t out_c = p->out_c;
    const int32_t out_w = p->out_w;
    const int32_t pool_h = p->pool_h;
    const int32_t pool_w = p->pool_w;
    /* Taps per column, rounded up to whole groups of four (the weight rows are padded alike). */
    const int32_t kp = (p->kernel_h * p->kernel_w * p->in_c + 3) & ~3;
    const int32_t pooled = (pool_h * pool_w > 1);
    int8_t *const cols = p->im2col;
    /* After the columns: the eight sums of a pass (32 bytes), then the gather area. */
    const int32_t pairs = (p->in_c < 4) ? tinyforge_conv2d_pairs(p) : 0;
    int8_t *const gather =
        cols + (pairs ? TINYFORGE_CONV_PAIR_BYTES * pairs : TINYFORGE_CONV_COLUMN_BYTES * kp) + 32;
    int8_t *out[4];
    tinyforge_rows_t rows;
    tinyforge_rows_init(p, input, gather, &rows);

    if (pooled) {
        /* Fused max pooling (windows of at most four pixels, stride = window, no padding): the
         * columns of one window, its pixels in turn, a window of fewer than four repeating its
         * first pixels (which leaves the maximum unchanged). Conv outputs no window reads (an
         * odd conv output size) are never computed. */
        for (int32_t py = 0; py < p->out_h; py++) {
            for (int32_t px = 0; px < out_w; px++) {
                int32_t dy = 0;
                int32_t dx = 0;
                for (int32_t j = 0; j < 4; j++) {
                    tinyforge_conv2d_column(p, &rows, input, py * pool_h + dy, px * pool_w + dx, cols, gather, kp,
                                            pairs, j, gathered);
                    if (++dx == pool_w) {
                        dx = 0;
                        if (++dy == pool_h) {
                            dy = 0;
                        }
                    }
                }
                out[0] = output;
                tinyforge_conv2d_pass(p, cols, kp, pairs, out, 1);
                output += out_c;
            }
        }
        return;
    }

    const int32_t pixels = p->out_h * out_w;
    int32_t oy = 0;
    int32_t ox = 0;
    for (int32_t pix = 0; pix < pixels; pix += 4) {
        /* Four pixels in raster order; past the last pixel, columns and outputs repeat it. */
        const int32_t n = (pixels - pix < 4) ? (pixels - pix) : 4;
        for (int32_t j = 0; j < 4; j++) {
            tinyforge_conv2d_column(p, &rows, input, oy, ox, cols, gather, kp, pairs, j, gathered);
            out[j] = (j < n) ? output + (pix + j) * out_c : out[j - 1];
            if (j + 1 < n && ++ox == out_w) {
                ox = 0;
                oy++;
            }
        }
        tinyforge_conv2d_pass(p, cols, kp, pairs, out, 0);
        if (++ox == out_w) {
            ox = 0;
            oy++;
        }
    }
}

/* Two entry points, so that a model without layers of the second kind links none of its code
 * (the generator calls the one the layer needs: in_c below 4 or a multiple of 4, or not). */
void tinyforge_conv2d(const tinyforge_conv2d_params_t *p, const int8_t *input, int8_t *output)
{
    tinyforge_conv2d_layer(p, input, output, 0);
}

#if defined(TINYFORGE_DSP)
void tinyforge_conv2d_gathered(const tinyforge_conv2d_params_t *p, const int8_t *input, int8_t *output)
{
    tinyforge_conv2d_layer(p, input, output, 1);
}
#else
/* The portable path always gathers the window in natural order. */
void tinyforge_conv2d_gathered(const tinyforge_conv2d_params_t *p, const int8_t *input, int8_t *output)
{
    tinyforge_conv2d(p, input, output);
}
#endif
