/* Written by tinyforge for each firmware build: the model library 'c07_bottleneck_cnn_w1_relu_aug_o' under fixed names. */
#ifndef FIRMWARE_MODEL_H
#define FIRMWARE_MODEL_H

#include "c07_bottleneck_cnn_w1_relu_aug_o.h"

#define FW_MODEL_INPUT_SIZE C07_BOTTLENECK_CNN_W1_RELU_AUG_O_INPUT_SIZE
#define FW_MODEL_INPUT_BYTES C07_BOTTLENECK_CNN_W1_RELU_AUG_O_INPUT_BYTES
#define FW_MODEL_OUTPUT_SIZE C07_BOTTLENECK_CNN_W1_RELU_AUG_O_OUTPUT_SIZE
#define FW_MODEL_OUTPUT_BYTES C07_BOTTLENECK_CNN_W1_RELU_AUG_O_OUTPUT_BYTES
#define FW_MODEL_NUM_CLASSES C07_BOTTLENECK_CNN_W1_RELU_AUG_O_NUM_CLASSES
typedef c07_bottleneck_cnn_w1_relu_aug_o_input_t fw_model_input_t;
typedef c07_bottleneck_cnn_w1_relu_aug_o_output_t fw_model_output_t;
#define fw_model_predict c07_bottleneck_cnn_w1_relu_aug_o_predict
/* Image models only: the pixel entry point. */
#if defined(C07_BOTTLENECK_CNN_W1_RELU_AUG_O_HAS_PREDICT_U8)
#define FW_MODEL_HAS_PREDICT_U8 1
#define fw_model_predict_u8 c07_bottleneck_cnn_w1_relu_aug_o_predict_u8
#endif
#if defined(C07_BOTTLENECK_CNN_W1_RELU_AUG_O_OUTPUT_FLOAT32)
#define FW_MODEL_OUTPUT_FLOAT32 1
#endif

/* A library generated with an external arena gets a static one here. */
#if defined(C07_BOTTLENECK_CNN_W1_RELU_AUG_O_ARENA_EXTERNAL)
static int32_t fw_model_arena[C07_BOTTLENECK_CNN_W1_RELU_AUG_O_ARENA_SIZE / 4];
static inline int fw_model_init(void) { return c07_bottleneck_cnn_w1_relu_aug_o_set_arena(fw_model_arena, sizeof fw_model_arena); }
#else
static inline int fw_model_init(void) { return 0; }
#endif

#endif
