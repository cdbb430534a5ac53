/*
 * tinyforge_dsp.h - selects the kernels' DSP path and provides the little helpers it needs
 * (internal, included by the kernels only).
 *
 * On a core with the Arm DSP extension (Cortex-M4, M7, M33/M35P/M55 with DSP) the compiler
 * defines __ARM_FEATURE_DSP and the kernels use SIMD instructions through <arm_acle.h>:
 * SXTB16 (two int8 -> two int16), SMLAD (two int16 multiplies added to an int32 accumulator),
 * SSUB8/SEL (four int8 maxima). Everywhere else (Cortex-M0/M0+/M3, non-Arm hosts), or when
 * TINYFORGE_PORTABLE is defined, only the portable C is compiled: the DSP code is behind
 * #if and the intrinsics and their types are never seen.
 */
#ifndef TINYFORGE_DSP_H
#define TINYFORGE_DSP_H

#include <stdint.h>
#include <string.h>

/* Keeps a function with a tight inner loop out of line (see its comment); just a hint. */
#if defined(__GNUC__)
#define TINYFORGE_NOINLINE __attribute__((noinline))
#else
#define TINYFORGE_NOINLINE
#endif

#if defined(__ARM_FEATURE_DSP) && (__ARM_FEATURE_DSP == 1) && !defined(TINYFORGE_PORTABLE)
#define TINYFORGE_DSP 1
#include <arm_acle.h>

/* Rotate right by 8 bits (GCC 12's arm_acle.h has no __ror). */
static inline int32_t tinyforge_ror8(int32_t v)
{
    const uint32_t u = (uint32_t)v;
    return (int32_t)((u >> 8) | (u << 24));
}

/*
 * SXTB16(ROR(v, 8)): bytes 1 and 3 of v sign-extended to two int16. SXTB16 has a rotate
 * operand, so this is one instruction, but GCC 12 does not fold a rotate into __sxtb16 and
 * emits a separate ROR: on an Arm target it is written as one instruction (as CMSIS-NN does).
 * Elsewhere (the host test build, with a C model of the intrinsics) the intrinsic form.
 */
static inline int32_t tinyforge_sxtb16_ror8(int32_t v)
{
#if defined(__GNUC__) && (defined(__arm__) || defined(__thumb__))
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
#else
    return __sxtb16(tinyforge_ror8(v));
#endif
}

/*
 * Four bytes from any address as one word, and back. memcpy of a constant 4 bytes compiles to a
 * single LDR / STR (these cores allow unaligned word access), and unlike an int32_t pointer
 * cast it is valid C whatever the declared type of the memory (the arena is int8_t).
 */
static inline int32_t tinyforge_read32(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static inline void tinyforge_write32(int8_t *p, int32_t v)
{
    memcpy(p, &v, sizeof(v));
}
#endif

#endif /* TINYFORGE_DSP_H */
