/*
 * tinyforge_kernels.h - int8 kernels used by the generated model (TFLite int8 semantics).
 *
 * Every kernel takes a const parameter block (shapes, strides, padding, zero points and the
 * layer's constant data, and for conv2d its scratch space in the arena) and two pointers into
 * the activation arena. Feature maps are NHWC with the batch dimension dropped: element
 * (y, x, c) of an [H, W, C] map is at (y * W + x) * C + c. Input, output and scratch must not
 * overlap; the generated memory plan guarantees it, except that ADD, int8 requantization and
 * softmax may write their output over an input of the same size (each reads an element, or a
 * whole softmax row, before writing it), which the plan does when nothing reads that input later.
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
    int8_t *im2col;                  /* scratch in the arena, 4-aligned: 8 * Kp + 32 bytes, Kp =
                                      * kernel_h * kernel_w * in_c rounded up to a multiple of 4;
                                      * in_c not a multiple of 4: 16 bytes per pair of taps + 32 +
                                      * two kernel rows of whole words (see tinyforge_conv2d.c) */
} tinyforge_conv2d_params_t;

/* Depthwise 2D convolution. weights: [kernel_h, kernel_w, in_c * depth_multiplier];
 * output channel oc = ic * depth_multiplier + m reads input channel ic. One input channel with
 * depth_multiplier >= 2 and kernel_h * (kernel_w rounded up to 4) <= 128: int32 words of int16
 * pairs packed by the generator instead (see tinyforge_depthwise_conv2d.c), passed by a cast,
 * and the layer calls tinyforge_depthwise_conv2d_rows. */
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

/* Elementwise ADD of two int8 tensors of one shape (TFLite's arithmetic, see tinyforge_add.c). */
typedef struct {
    int32_t size;                    /* elements */
    int16_t input1_offset, input2_offset; /* -zero point of each input */
    int16_t left_shift;              /* headroom before the rescales (TFLite: 20) */
    int16_t output_offset;
    int16_t act_min, act_max;
    int32_t input1_multiplier, input1_shift; /* each input to 2 * max(s1, s2), shift <= 0 */
    int32_t input2_multiplier, input2_shift;
    int32_t output_multiplier, output_shift; /* the sum to the output scale, shift <= 0 */
} tinyforge_add_params_t;

/* Constant padding with pad_value (the zero point), the shapes seen as rank 4. */
typedef struct {
    int16_t in_dims[4];
    int16_t out_dims[4];
    int16_t before[4];               /* padding elements before the data, per dimension */
    int8_t pad_value;
} tinyforge_pad_params_t;

/* Concatenation: the shapes seen as [outer, axis, inner]; input k adds copy_bytes[k] =
 * axis_k * inner bytes to each of the `outer` output blocks. */
typedef struct {
    int32_t outer;
    int32_t num_inputs;
    const int32_t *copy_bytes;       /* [num_inputs] */
} tinyforge_concatenation_params_t;

/* Mean over the middle of an [outer, reduced, inner] view; 1/reduced folded into the multiplier. */
typedef struct {
    int32_t outer, reduced, inner;
    int16_t input_offset;            /* -input zero point */
    int16_t output_offset;
    int32_t multiplier, shift;
} tinyforge_mean_params_t;

/* Softmax over rows of `depth` values (1 <= depth <= 511); output scale 1/256, zero point -128. */
typedef struct {
    int32_t rows, depth;
    int32_t input_multiplier;        /* beta * input scale, Q5.26 scaling (PreprocessSoftmaxScaling) */
    int32_t input_left_shift;
    int32_t diff_min;                /* differences from the row max below this give -128 */
} tinyforge_softmax_params_t;

/* QUANTIZE int8 -> int8 (TFLite's Requantize). */
typedef struct {
    int32_t size;
    int16_t input_offset;            /* -input zero point */
    int16_t output_offset;
    int32_t multiplier, shift;       /* input scale / output scale */
} tinyforge_requantize_params_t;

void tinyforge_conv2d(const tinyforge_conv2d_params_t *p, const int8_t *input, int8_t *output);
/* The same for in_c of 4 or more but not a multiple of 4 (see tinyforge_conv2d.c). */
void tinyforge_conv2d_gathered(const tinyforge_conv2d_params_t *p, const int8_t *input, int8_t *output);
void tinyforge_depthwise_conv2d(const tinyforge_depthwise_conv2d_params_t *p, const int8_t *input,
                                int8_t *output);
/* The same for one input channel with depth_multiplier >= 2: the packed weights (see above). */
void tinyforge_depthwise_conv2d_rows(const tinyforge_depthwise_conv2d_params_t *p, const int8_t *input,
                                     int8_t *output);
void tinyforge_fully_connected(const tinyforge_fully_connected_params_t *p, const int8_t *input,
                               int8_t *output);
void tinyforge_max_pool2d(const tinyforge_pool2d_params_t *p, const int8_t *input, int8_t *output);
void tinyforge_avg_pool2d(const tinyforge_pool2d_params_t *p, const int8_t *input, int8_t *output);

void tinyforge_add(const tinyforge_add_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output);
void tinyforge_pad(const tinyforge_pad_params_t *p, const int8_t *input, int8_t *output);
void tinyforge_concatenation(const tinyforge_concatenation_params_t *p, const int8_t *const *inputs,
                             int8_t *output);
void tinyforge_mean(const tinyforge_mean_params_t *p, const int8_t *input, int8_t *output);
void tinyforge_softmax(const tinyforge_softmax_params_t *p, const int8_t *input, int8_t *output);
void tinyforge_requantize_s8(const tinyforge_requantize_params_t *p, const int8_t *input, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TINYFORGE_KERNELS_H */
