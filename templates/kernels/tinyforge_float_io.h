/*
 * tinyforge_float_io.h - QUANTIZE float32 -> int8 and DEQUANTIZE int8 -> float32, the only
 * kernels with floating point: a graph that starts with QUANTIZE takes float32 input, one that
 * ends with DEQUANTIZE gives float32 output (internal; included only by models that have them,
 * so an int8-only library never sees a float).
 *
 * Float tensors live in the int8 arena (4 bytes per value, 4-byte aligned); the kernels move
 * them with memcpy, since the arena is not a float array.
 */
#ifndef TINYFORGE_FLOAT_IO_H
#define TINYFORGE_FLOAT_IO_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The int8 side's float32 scale and zero point. */
typedef struct {
    int32_t size;                    /* elements */
    float scale;
    int16_t zero_point;
} tinyforge_quantize_params_t;

/* input: float32 values (4 bytes each); output: int8. */
void tinyforge_quantize_f32(const tinyforge_quantize_params_t *p, const int8_t *input, int8_t *output);
/* input: int8; output: float32 values (4 bytes each). */
void tinyforge_dequantize(const tinyforge_quantize_params_t *p, const int8_t *input, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TINYFORGE_FLOAT_IO_H */
