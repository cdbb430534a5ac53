/*
 * tinyforge_dot.c - int8 dot product with input offset, the inner loop of conv2d and
 * fully_connected:
 *
 *     acc + sum over i < n of (x[i] + x_offset) * w[i]
 *
 * Two implementations with identical results:
 *  - portable C, one multiply-accumulate per element (any C99 compiler, Cortex-M0/M3);
 *  - the DSP path (Cortex-M4/M7/M33 with the DSP extension, __ARM_FEATURE_DSP), taking four
 *    elements per iteration: SXTB16 splits four int8 into two pairs of int16 (even and odd
 *    bytes), SXTAB16 does the same while adding the input offset to both halves, and SMLAD
 *    multiplies the two pairs and adds both products to the accumulator. Define
 *    TINYFORGE_PORTABLE to force the portable path on a DSP core.
 *
 * Why the results are identical: x + x_offset is in [-255, 255] and w in [-127, 127], so every
 * int16 lane is exact and each product fits easily; the DSP path only changes the order of
 * the int32 additions, and integer addition is associative (the generator checks at build
 * time that no partial sum of a layer can leave the int32 range).
 */
#include <stdint.h>
#include <string.h>

#include "tinyforge_kernels.h"

#if defined(__ARM_FEATURE_DSP) && (__ARM_FEATURE_DSP == 1) && !defined(TINYFORGE_PORTABLE)
#define TINYFORGE_DSP 1
#include <arm_acle.h>

/* Rotate right by 8 bits (GCC 12's arm_acle.h has no __ror); compiles to one ROR or is folded
 * into SXTB16's rotate operand. */
static inline int32_t tinyforge_ror8(int32_t v)
{
    const uint32_t u = (uint32_t)v;
    return (int32_t)((u >> 8) | (u << 24));
}

/* Four int8 from any address: memcpy of a constant 4 bytes becomes a single (unaligned) LDR. */
static inline int32_t tinyforge_read_s8x4(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}
#endif

int32_t tinyforge_dot_s8(const int8_t *x, const int8_t *w, int32_t n, int32_t x_offset, int32_t acc)
{
#if defined(TINYFORGE_DSP)
    /* x_offset in both int16 halves. */
    const int32_t offset2 = (int32_t)(((uint32_t)x_offset & 0xFFFFu) * 0x00010001u);
    while (n >= 4) {
        const int32_t xv = tinyforge_read_s8x4(x);
        const int32_t wv = tinyforge_read_s8x4(w);
        /* Lanes: (x0, x2) and (x1, x3), each widened to int16 and offset. */
        const int32_t x_even = __sxtab16(offset2, xv);
        const int32_t x_odd = __sxtab16(offset2, tinyforge_ror8(xv));
        const int32_t w_even = __sxtb16(wv);
        const int32_t w_odd = __sxtb16(tinyforge_ror8(wv));
        acc = __smlad(x_even, w_even, acc);
        acc = __smlad(x_odd, w_odd, acc);
        x += 4;
        w += 4;
        n -= 4;
    }
#endif
    /* Portable path, and the last n % 4 elements of the DSP path. */
    while (n > 0) {
        acc += ((int32_t)*x + x_offset) * (int32_t)*w;
        x++;
        w++;
        n--;
    }
    return acc;
}
