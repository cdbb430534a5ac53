/* Written by tinyforge for each firmware build: the model library 'c04_tiny_cnn_w1_25_relu_aug_off' under fixed names. */
#ifndef FIRMWARE_MODEL_H
#define FIRMWARE_MODEL_H

#include "c04_tiny_cnn_w1_25_relu_aug_off.h"

#define FW_MODEL_INPUT_SIZE C04_TINY_CNN_W1_25_RELU_AUG_OFF_INPUT_SIZE
#define FW_MODEL_INPUT_BYTES C04_TINY_CNN_W1_25_RELU_AUG_OFF_INPUT_BYTES
#define FW_MODEL_OUTPUT_SIZE C04_TINY_CNN_W1_25_RELU_AUG_OFF_OUTPUT_SIZE
#define FW_MODEL_OUTPUT_BYTES C04_TINY_CNN_W1_25_RELU_AUG_OFF_OUTPUT_BYTES
#define FW_MODEL_NUM_CLASSES C04_TINY_CNN_W1_25_RELU_AUG_OFF_NUM_CLASSES
typedef c04_tiny_cnn_w1_25_relu_aug_off_input_t fw_model_input_t;
typedef c04_tiny_cnn_w1_25_relu_aug_off_output_t fw_model_output_t;
#define fw_model_predict c04_tiny_cnn_w1_25_relu_aug_off_predict
/* Image models only: the pixel entry point. */
#if defined(C04_TINY_CNN_W1_25_RELU_AUG_OFF_HAS_PREDICT_U8)
#define FW_MODEL_HAS_PREDICT_U8 1
#define fw_model_predict_u8 c04_tiny_cnn_w1_25_relu_aug_off_predict_u8
#endif
#if defined(C04_TINY_CNN_W1_25_RELU_AUG_OFF_OUTPUT_FLOAT32)
#define FW_MODEL_OUTPUT_FLOAT32 1
#endif

/* A library generated with an external arena gets a static one here. */
#if defined(C04_TINY_CNN_W1_25_RELU_AUG_OFF_ARENA_EXTERNAL)
static int32_t fw_model_arena[C04_TINY_CNN_W1_25_RELU_AUG_OFF_ARENA_SIZE / 4];
static inline int fw_model_init(void) { return c04_tiny_cnn_w1_25_relu_aug_off_set_arena(fw_model_arena, sizeof fw_model_arena); }
#else
static inline int fw_model_init(void) { return 0; }
#endif

#endif
