/* Written by tinyforge for each firmware build: the model library 'c05_tiny_cnn_w1_25_relu6_aug_on' under fixed names. */
#ifndef FIRMWARE_MODEL_H
#define FIRMWARE_MODEL_H

#include "c05_tiny_cnn_w1_25_relu6_aug_on.h"

#define FW_MODEL_INPUT_SIZE C05_TINY_CNN_W1_25_RELU6_AUG_ON_INPUT_SIZE
#define FW_MODEL_INPUT_BYTES C05_TINY_CNN_W1_25_RELU6_AUG_ON_INPUT_BYTES
#define FW_MODEL_OUTPUT_SIZE C05_TINY_CNN_W1_25_RELU6_AUG_ON_OUTPUT_SIZE
#define FW_MODEL_OUTPUT_BYTES C05_TINY_CNN_W1_25_RELU6_AUG_ON_OUTPUT_BYTES
#define FW_MODEL_NUM_CLASSES C05_TINY_CNN_W1_25_RELU6_AUG_ON_NUM_CLASSES
typedef c05_tiny_cnn_w1_25_relu6_aug_on_input_t fw_model_input_t;
typedef c05_tiny_cnn_w1_25_relu6_aug_on_output_t fw_model_output_t;
#define fw_model_predict c05_tiny_cnn_w1_25_relu6_aug_on_predict
/* Image models only: the pixel entry point. */
#if defined(C05_TINY_CNN_W1_25_RELU6_AUG_ON_HAS_PREDICT_U8)
#define FW_MODEL_HAS_PREDICT_U8 1
#define fw_model_predict_u8 c05_tiny_cnn_w1_25_relu6_aug_on_predict_u8
#endif
#if defined(C05_TINY_CNN_W1_25_RELU6_AUG_ON_OUTPUT_FLOAT32)
#define FW_MODEL_OUTPUT_FLOAT32 1
#endif

/* A library generated with an external arena gets a static one here. */
#if defined(C05_TINY_CNN_W1_25_RELU6_AUG_ON_ARENA_EXTERNAL)
static int32_t fw_model_arena[C05_TINY_CNN_W1_25_RELU6_AUG_ON_ARENA_SIZE / 4];
static inline int fw_model_init(void) { return c05_tiny_cnn_w1_25_relu6_aug_on_set_arena(fw_model_arena, sizeof fw_model_arena); }
#else
static inline int fw_model_init(void) { return 0; }
#endif

#endif
