/*
 * tinyforge_kernels.h - int8 kernels used by the generated model (TFLite int8 semantics).
 *
 * Every kernel takes a const parameter block (shapes, strides, padding, zero points and the
 * layer's constant data, and for conv2d its scratch space in the arena) and two pointers into
 * the activation arena. Feature maps are NHWC with the batch dimension dropped: element
 * (y, x, c) of an [H, W, C] map is at (y * W + x) * C + c. Input, output and scratch must not
 * overlap; the generated memory plan guarantees it.
 *
 * Offsets follow CMSIS-NN: input_offset = -input_zero_point is added to every input value,
 * output_offset = output_zero_point is added after requantization. conv2d and fully_connected
 * do not add it in their inner loops: their bias arrays hold bias + input_offset * sum(weights)
 * (folded in by the generator), see tinyforge_conv2d.c.
 */
#ifndef TINYFORGE_KERNELS_H
#define TINYFORGE_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 2D convolution, optionally fused with the max pooling that follows it. weights: OHWI
 * [out_c, kernel_h, kernel_w, in_c] in the kernel's layout: rows zero-padded to Kp taps, an odd
 * out_c padded with a zero row, row pairs interleaved every four taps, 4 bytes of zero padding at
 * the end (see tinyforge_conv2d.c). */
typedef struct {
    int16_t in_h, in_w, in_c;
    int16_t out_h, out_w, out_c;     /* the pooled output when pool_h * pool_w > 1 */
    int16_t pool_h, pool_w;          /* fused max pooling window (stride = window, no padding, at
                                      * most 4 pixels); 1 x 1: none */
    int16_t kernel_h, kernel_w;
    int16_t stride_h, stride_w;
    int16_t pad_top, pad_left;       /* bottom/right padding follow from the output size */
    int16_t input_offset;            /* -input zero point, in [-127, 128]; -input_offset pads */
    int16_t output_offset;           /* output zero point */
    int16_t act_min, act_max;        /* fused activation clamp, int8 domain */
    const int8_t *weights;
    const int32_t *bias;             /* [out_c], input offset folded in: bias + input_offset * sum(w) */
    const int32_t *multiplier;       /* [out_c] Q31 */
    const int32_t *shift;            /* [out_c] positive = left */
    int8_t *im2col;                  /* scratch in the arena, 4-aligned: 8 * Kp bytes (9 * Kp unless
                                      * in_c is a multiple of 4), Kp = kernel_h * kernel_w * in_c
                                      * rounded up to a multiple of 4 */
} tinyforge_conv2d_params_t;

/* Depthwise 2D convolution. weights: [kernel_h, kernel_w, in_c * depth_multiplier];
 * output channel oc = ic * depth_multiplier + m reads input channel ic. */
typedef struct {
    int16_t in_h, in_w, in_c;
    int16_t out_h, out_w, out_c;     /* out_c = in_c * depth_multiplier */
    int16_t kernel_h, kernel_w;
    int16_t stride_h, stride_w;
    int16_t pad_top, pad_left;
    int16_t depth_multiplier;
    int16_t input_offset;
    int16_t output_offset;
    int16_t act_min, act_max;
    const int8_t *weights;
    const int32_t *bias;
    const int32_t *multiplier;
    const int32_t *shift;
} tinyforge_depthwise_conv2d_params_t;

/* Fully connected. weights: [out_n, in_n] row-major. */
typedef struct {
    int16_t in_n, out_n;
    int16_t output_offset;
    int16_t act_min, act_max;
    const int8_t *weights;
    const int32_t *bias;             /* [out_n], input offset folded in: bias + input_offset * sum(w) */
    const int32_t *multiplier;
    const int32_t *shift;
} tinyforge_fully_connected_params_t;

/* Max and average pooling: same scale and zero point in and out, channels unchanged. */
typedef struct {
    int16_t in_h, in_w, channels;
    int16_t out_h, out_w;
    int16_t pool_h, pool_w;
    int16_t stride_h, stride_w;
    int16_t pad_top, pad_left;
    int16_t act_min, act_max;
} tinyforge_pool2d_params_t;

void tinyforge_conv2d(const tinyforge_conv2d_params_t *p, const int8_t *input, int8_t *output);
void tinyforge_depthwise_conv2d(const tinyforge_depthwise_conv2d_params_t *p, const int8_t *input,
                                int8_t *output);
void tinyforge_fully_connected(const tinyforge_fully_connected_params_t *p, const int8_t *input,
                               int8_t *output);
void tinyforge_max_pool2d(const tinyforge_pool2d_params_t *p, const int8_t *input, int8_t *output);
void tinyforge_avg_pool2d(const tinyforge_pool2d_params_t *p, const int8_t *input, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TINYFORGE_KERNELS_H */
