/* Written by tinyforge for each firmware build: the model library 'c06_bottleneck_cnn_w1_25_relu_au' under fixed names. */
#ifndef FIRMWARE_MODEL_H
#define FIRMWARE_MODEL_H

#include "c06_bottleneck_cnn_w1_25_relu_au.h"

#define FW_MODEL_INPUT_SIZE C06_BOTTLENECK_CNN_W1_25_RELU_AU_INPUT_SIZE
#define FW_MODEL_INPUT_BYTES C06_BOTTLENECK_CNN_W1_25_RELU_AU_INPUT_BYTES
#define FW_MODEL_OUTPUT_SIZE C06_BOTTLENECK_CNN_W1_25_RELU_AU_OUTPUT_SIZE
#define FW_MODEL_OUTPUT_BYTES C06_BOTTLENECK_CNN_W1_25_RELU_AU_OUTPUT_BYTES
#define FW_MODEL_NUM_CLASSES C06_BOTTLENECK_CNN_W1_25_RELU_AU_NUM_CLASSES
typedef c06_bottleneck_cnn_w1_25_relu_au_input_t fw_model_input_t;
typedef c06_bottleneck_cnn_w1_25_relu_au_output_t fw_model_output_t;
#define fw_model_predict c06_bottleneck_cnn_w1_25_relu_au_predict
/* Image models only: the pixel entry point. */
#if defined(C06_BOTTLENECK_CNN_W1_25_RELU_AU_HAS_PREDICT_U8)
#define FW_MODEL_HAS_PREDICT_U8 1
#define fw_model_predict_u8 c06_bottleneck_cnn_w1_25_relu_au_predict_u8
#endif
#if defined(C06_BOTTLENECK_CNN_W1_25_RELU_AU_OUTPUT_FLOAT32)
#define FW_MODEL_OUTPUT_FLOAT32 1
#endif

/* A library generated with an external arena gets a static one here. */
#if defined(C06_BOTTLENECK_CNN_W1_25_RELU_AU_ARENA_EXTERNAL)
static int32_t fw_model_arena[C06_BOTTLENECK_CNN_W1_25_RELU_AU_ARENA_SIZE / 4];
static inline int fw_model_init(void) { return c06_bottleneck_cnn_w1_25_relu_au_set_arena(fw_model_arena, sizeof fw_model_arena); }
#else
static inline int fw_model_init(void) { return 0; }
#endif

#endif
