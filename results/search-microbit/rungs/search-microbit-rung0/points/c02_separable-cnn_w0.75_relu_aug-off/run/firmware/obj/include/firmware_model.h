/* Written by tinyforge for each firmware build: the model library 'c02_separable_cnn_w0_75_relu_aug' under fixed names. */
#ifndef FIRMWARE_MODEL_H
#define FIRMWARE_MODEL_H

#include "c02_separable_cnn_w0_75_relu_aug.h"

#define FW_MODEL_INPUT_SIZE C02_SEPARABLE_CNN_W0_75_RELU_AUG_INPUT_SIZE
#define FW_MODEL_INPUT_BYTES C02_SEPARABLE_CNN_W0_75_RELU_AUG_INPUT_BYTES
#define FW_MODEL_OUTPUT_SIZE C02_SEPARABLE_CNN_W0_75_RELU_AUG_OUTPUT_SIZE
#define FW_MODEL_OUTPUT_BYTES C02_SEPARABLE_CNN_W0_75_RELU_AUG_OUTPUT_BYTES
#define FW_MODEL_NUM_CLASSES C02_SEPARABLE_CNN_W0_75_RELU_AUG_NUM_CLASSES
typedef c02_separable_cnn_w0_75_relu_aug_input_t fw_model_input_t;
typedef c02_separable_cnn_w0_75_relu_aug_output_t fw_model_output_t;
#define fw_model_predict c02_separable_cnn_w0_75_relu_aug_predict
/* Image models only: the pixel entry point. */
#if defined(C02_SEPARABLE_CNN_W0_75_RELU_AUG_HAS_PREDICT_U8)
#define FW_MODEL_HAS_PREDICT_U8 1
#define fw_model_predict_u8 c02_separable_cnn_w0_75_relu_aug_predict_u8
#endif
#if defined(C02_SEPARABLE_CNN_W0_75_RELU_AUG_OUTPUT_FLOAT32)
#define FW_MODEL_OUTPUT_FLOAT32 1
#endif

/* A library generated with an external arena gets a static one here. */
#if defined(C02_SEPARABLE_CNN_W0_75_RELU_AUG_ARENA_EXTERNAL)
static int32_t fw_model_arena[C02_SEPARABLE_CNN_W0_75_RELU_AUG_ARENA_SIZE / 4];
static inline int fw_model_init(void) { return c02_separable_cnn_w0_75_relu_aug_set_arena(fw_model_arena, sizeof fw_model_arena); }
#else
static inline int fw_model_init(void) { return 0; }
#endif

#endif
