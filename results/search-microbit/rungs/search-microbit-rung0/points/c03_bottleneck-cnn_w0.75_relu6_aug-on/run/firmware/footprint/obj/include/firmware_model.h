/* Written by tinyforge for each firmware build: the model library 'c03_bottleneck_cnn_w0_75_relu6_a' under fixed names. */
#ifndef FIRMWARE_MODEL_H
#define FIRMWARE_MODEL_H

#include "c03_bottleneck_cnn_w0_75_relu6_a.h"

#define FW_MODEL_INPUT_SIZE C03_BOTTLENECK_CNN_W0_75_RELU6_A_INPUT_SIZE
#define FW_MODEL_INPUT_BYTES C03_BOTTLENECK_CNN_W0_75_RELU6_A_INPUT_BYTES
#define FW_MODEL_OUTPUT_SIZE C03_BOTTLENECK_CNN_W0_75_RELU6_A_OUTPUT_SIZE
#define FW_MODEL_OUTPUT_BYTES C03_BOTTLENECK_CNN_W0_75_RELU6_A_OUTPUT_BYTES
#define FW_MODEL_NUM_CLASSES C03_BOTTLENECK_CNN_W0_75_RELU6_A_NUM_CLASSES
typedef c03_bottleneck_cnn_w0_75_relu6_a_input_t fw_model_input_t;
typedef c03_bottleneck_cnn_w0_75_relu6_a_output_t fw_model_output_t;
#define fw_model_predict c03_bottleneck_cnn_w0_75_relu6_a_predict
/* Image models only: the pixel entry point. */
#if defined(C03_BOTTLENECK_CNN_W0_75_RELU6_A_HAS_PREDICT_U8)
#define FW_MODEL_HAS_PREDICT_U8 1
#define fw_model_predict_u8 c03_bottleneck_cnn_w0_75_relu6_a_predict_u8
#endif
#if defined(C03_BOTTLENECK_CNN_W0_75_RELU6_A_OUTPUT_FLOAT32)
#define FW_MODEL_OUTPUT_FLOAT32 1
#endif

/* A library generated with an external arena gets a static one here. */
#if defined(C03_BOTTLENECK_CNN_W0_75_RELU6_A_ARENA_EXTERNAL)
static int32_t fw_model_arena[C03_BOTTLENECK_CNN_W0_75_RELU6_A_ARENA_SIZE / 4];
static inline int fw_model_init(void) { return c03_bottleneck_cnn_w0_75_relu6_a_set_arena(fw_model_arena, sizeof fw_model_arena); }
#else
static inline int fw_model_init(void) { return 0; }
#endif

#endif
