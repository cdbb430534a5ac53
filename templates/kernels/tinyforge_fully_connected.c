/*
 * tinyforge_fully_connected.c - int8 fully connected layer (TFLite int8 reference semantics).
 *
 *     acc = bias[o] + sum over i of (input[i] + input_offset) * weights[o][i]
 *     output[o] = clamp(MultiplyByQuantizedMultiplier(acc, multiplier[o], shift[o])
 *                       + output_offset, act_min, act_max)
 *
 * The bias in the parameter block already holds bias[o] + input_offset * sum(weights[o]) (folded
 * in by the generator), so the loop only sums input[i] * weights[o][i]: the same integer, with no
 * offset to add per element. Two outputs per pass, so that every input value loaded (and on the
 * DSP path widened) serves two weight rows; an odd out_n computes its last row twice.
 *
 * DSP path: four elements per step. SXTB16 splits four int8 into the int16 pairs (x0, x2) and
 * (x1, x3) (with a rotate by 8 first for the odd ones), the same for the weights, and SMLAD
 * adds both products of a pair to the accumulator.
 */
#include <stdint.h>

#include "tinyforge_dsp.h"
#include "tinyforge_kernels.h"
#include "tinyforge_requant.h"

#if defined(TINYFORGE_DSP)
/*
 * acc[0] += row w0 . x and acc[1] += row w1 . x over x .. x_end (whole groups of four, at least
 * one). Out of line so that its pointers, end and accumulators stay in registers.
 */
static TINYFORGE_NOINLINE void tinyforge_fc_dot_2(const int8_t *x, const int8_t *x_end, const int8_t *w0,
                                                  const int8_t *w1, int32_t *acc)
{
    int32_t acc0 = acc[0];
    int32_t acc1 = acc[1];
    do {
        const int32_t xv = tinyforge_read32(x);
        const int32_t x_even = __sxtb16(xv);
        const int32_t x_odd = tinyforge_sxtb16_ror8(xv);
        x += 4;
        int32_t wv = tinyforge_read32(w0);
        w0 += 4;
        acc0 = __smlad(x_even, __sxtb16(wv), acc0);
        acc0 = __smlad(x_odd, tinyforge_sxtb16_ror8(wv), acc0);
        wv = tinyforge_read32(w1);
        w1 += 4;
        acc1 = __smlad(x_even, __sxtb16(wv), acc1);
        acc1 = __smlad(x_odd, tinyforge_sxtb16_ror8(wv), acc1);
    } while (x != x_end);
    acc[0] = acc0;
    acc[1] = acc1;
}
#endif

void tinyforge_fully_connected(const tinyforge_fully_connected_params_t *p, const int8_t *input,
                               int8_t *output)
{
    const int32_t in_n = p->in_n;
    const int32_t out_n = p->out_n;

    for (int32_t o = 0; o < out_n; o += 2) {
        const int32_t o1 = (o + 1 < out_n) ? o + 1 : o;
        const int8_t *w0 = p->weights + o * in_n;
        const int8_t *w1 = p->weights + o1 * in_n;
        const int8_t *x = input;
        int32_t acc0 = p->bias[o];
        int32_t acc1 = p->bias[o1];
        int32_t n = in_n;
#if defined(TINYFORGE_DSP)
        n = in_n & 3;
        if (in_n >= 4) {
            int32_t acc[2] = {acc0, acc1};
            tinyforge_fc_dot_2(x, input + (in_n & ~3), w0, w1, acc);
            acc0 = acc[0];
            acc1 = acc[1];
            x += in_n & ~3;
            w0 += in_n & ~3;
            w1 += in_n & ~3;
        }
#endif
        /* Portable path, and the last in_n % 4 elements of the DSP path. */
        for (; n > 0; n--) {
            const int32_t xi = *x++;
            acc0 += xi * *w0++;
            acc1 += xi * *w1++;
        }
        output[o] = tinyforge_requantize(acc0, p->multiplier[o], p->shift[o], p->output_offset, p->act_min,
                                         p->act_max);
        output[o1] = tinyforge_requantize(acc1, p->multiplier[o1], p->shift[o1], p->output_offset, p->act_min,
                                          p->act_max);
    }
}
