/* Written by tinyforge for each firmware build: the model library 'c01_separable_cnn_w1_5_relu6_aug' under fixed names. */
#ifndef FIRMWARE_MODEL_H
#define FIRMWARE_MODEL_H

#include "c01_separable_cnn_w1_5_relu6_aug.h"

#define FW_MODEL_INPUT_SIZE C01_SEPARABLE_CNN_W1_5_RELU6_AUG_INPUT_SIZE
#define FW_MODEL_INPUT_BYTES C01_SEPARABLE_CNN_W1_5_RELU6_AUG_INPUT_BYTES
#define FW_MODEL_OUTPUT_SIZE C01_SEPARABLE_CNN_W1_5_RELU6_AUG_OUTPUT_SIZE
#define FW_MODEL_OUTPUT_BYTES C01_SEPARABLE_CNN_W1_5_RELU6_AUG_OUTPUT_BYTES
#define FW_MODEL_NUM_CLASSES C01_SEPARABLE_CNN_W1_5_RELU6_AUG_NUM_CLASSES
typedef c01_separable_cnn_w1_5_relu6_aug_input_t fw_model_input_t;
typedef c01_separable_cnn_w1_5_relu6_aug_output_t fw_model_output_t;
#define fw_model_predict c01_separable_cnn_w1_5_relu6_aug_predict
/* Image models only: the pixel entry point. */
#if defined(C01_SEPARABLE_CNN_W1_5_RELU6_AUG_HAS_PREDICT_U8)
#define FW_MODEL_HAS_PREDICT_U8 1
#define fw_model_predict_u8 c01_separable_cnn_w1_5_relu6_aug_predict_u8
#endif
#if defined(C01_SEPARABLE_CNN_W1_5_RELU6_AUG_OUTPUT_FLOAT32)
#define FW_MODEL_OUTPUT_FLOAT32 1
#endif

/* A library generated with an external arena gets a static one here. */
#if defined(C01_SEPARABLE_CNN_W1_5_RELU6_AUG_ARENA_EXTERNAL)
static int32_t fw_model_arena[C01_SEPARABLE_CNN_W1_5_RELU6_AUG_ARENA_SIZE / 4];
static inline int fw_model_init(void) { return c01_separable_cnn_w1_5_relu6_aug_set_arena(fw_model_arena, sizeof fw_model_arena); }
#else
static inline int fw_model_init(void) { return 0; }
#endif

#endif
