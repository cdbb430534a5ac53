// The zoo's layer types as libtorch functions. Activations flow NCHW (libtorch's native layout);
// the network converts its NHWC input once and Flatten restores tfjs's H, W, C feature order.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

namespace tinyforge {

enum class LayerKind {
  Conv2D,           // tf.layers.conv2d
  DepthwiseConv2D,  // tf.layers.depthwiseConv2d
  Dense,            // tf.layers.dense
  BatchNorm,        // tf.layers.batchNormalization (per channel, batch statistics in training)
  ReLU,             // tf.layers.reLU (maxValue 6: ReLU6)
  MaxPool2D,
  AvgPool2D,
  GlobalAvgPool,
  Flatten,
  Dropout,
};

/** What a layer computes, read from the tfjs layer's config (see src/train/torch/describe.ts). */
struct LayerDesc {
  std::string name;  // the tfjs layer's name, e.g. "03_conv2d_bn"
  LayerKind kind = LayerKind::Flatten;
  int64_t kernel = 1;           // conv / pool window (square)
  int64_t stride = 1;
  bool samePadding = false;     // tfjs 'same' (else 'valid')
  int64_t depthMultiplier = 1;  // depthwise only
  double maxValue = 0;          // ReLU cap; 0 = none
  double rate = 0;              // dropout
  double epsilon = 1e-3;        // batch norm
  double momentum = 0.99;       // batch norm, Keras convention: moving = m * moving + (1 - m) * batch
};

struct Layer {
  LayerDesc desc;
  /** Trainable tensors in libtorch layout, in tfjs weight order (kernel, bias / gamma, beta). */
  std::vector<at::Tensor> params;
  /** Batch norm's moving mean and variance (not trained by gradients). */
  std::vector<at::Tensor> buffers;
};

/** One layer's forward pass; records autograd history when its parameters require gradients. */
at::Tensor forwardLayer(Layer& layer, const at::Tensor& x, bool training);

LayerKind layerKindFromName(const std::string& type);

}  // namespace tinyforge
