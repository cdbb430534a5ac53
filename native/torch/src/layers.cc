// Forward passes of the zoo's layers. Each matches tfjs-layers' semantics (checked against
// tfjs's cpu backend in test/torch.test.ts); libtorch's autograd supplies the backward passes.
#include "layers.h"

#include <stdexcept>

namespace tinyforge {
namespace {

/** tfjs 'same' padding for one spatial axis: (before, after); the extra row goes after. */
std::pair<int64_t, int64_t> samePads(int64_t in, int64_t kernel, int64_t stride) {
  int64_t out = (in + stride - 1) / stride;
  int64_t total = std::max<int64_t>((out - 1) * stride + kernel - in, 0);
  return {total / 2, total - total / 2};
}

/** A convolution with tfjs padding: symmetric padding goes to conv2d, asymmetric is explicit. */
at::Tensor convolve(const Layer& layer, const at::Tensor& x, int64_t groups) {
  const LayerDesc& d = layer.desc;
  at::Tensor bias = layer.params.size() > 1 ? layer.params[1] : at::Tensor();
  at::Tensor input = x;
  int64_t pad = 0;
  if (d.samePadding) {
    auto [top, bottom] = samePads(x.size(2), d.kernel, d.stride);
    auto [left, right] = samePads(x.size(3), d.kernel, d.stride);
    if (top == bottom && left == right && top == left) {
      pad = top;
    } else {
      input = at::constant_pad_nd(x, {left, right, top, bottom}, 0);
    }
  }
  return at::conv2d(input, layer.params[0], bias, {d.stride, d.stride}, {pad, pad}, {1, 1}, groups);
}

at::Tensor batchNorm(Layer& layer, const at::Tensor& x, bool training) {
  const LayerDesc& d = layer.desc;
  at::Tensor& movingMean = layer.buffers[0];
  at::Tensor& movingVariance = layer.buffers[1];
  if (!training) {
    return at::batch_norm(x, layer.params[0], layer.params[1], movingMean, movingVariance, false, 0.0,
                          d.epsilon, false);
  }
  // Batch statistics, and no running statistics passed in: libtorch would update them with the
  // unbiased variance, tfjs-layers uses the biased one. native_batch_norm returns the batch mean
  // and 1/sqrt(biased variance + eps), from which the moving averages are updated as tfjs does.
  auto [y, mean, invStd] = at::native_batch_norm(x, layer.params[0], layer.params[1], at::Tensor(),
                                                 at::Tensor(), true, 0.0, d.epsilon);
  at::NoGradGuard noGrad;
  at::Tensor variance = invStd.pow(-2) - d.epsilon;
  movingMean.mul_(d.momentum).add_(mean, 1 - d.momentum);
  movingVariance.mul_(d.momentum).add_(variance, 1 - d.momentum);
  return y;
}

at::Tensor pool(const LayerDesc& d, const at::Tensor& x) {
  if (d.samePadding) throw std::invalid_argument("layer " + d.name + ": 'same' pooling is not supported (only 'valid')");
  if (d.kind == LayerKind::MaxPool2D) return at::max_pool2d(x, {d.kernel, d.kernel}, {d.stride, d.stride});
  return at::avg_pool2d(x, {d.kernel, d.kernel}, {d.stride, d.stride});
}

}  // namespace

at::Tensor forwardLayer(Layer& layer, const at::Tensor& x, bool training) {
  const LayerDesc& d = layer.desc;
  switch (d.kind) {
    case LayerKind::Conv2D:
      return convolve(layer, x, 1);
    case LayerKind::DepthwiseConv2D:
      return convolve(layer, x, x.size(1));
    case LayerKind::Dense:
      return at::linear(x, layer.params[0], layer.params.size() > 1 ? layer.params[1] : at::Tensor());
    case LayerKind::BatchNorm:
      return batchNorm(layer, x, training);
    case LayerKind::ReLU:
      return d.maxValue > 0 ? at::clamp(x, 0.0, d.maxValue) : at::relu(x);
    case LayerKind::MaxPool2D:
    case LayerKind::AvgPool2D:
      return pool(d, x);
    case LayerKind::GlobalAvgPool:
      return x.mean({2, 3});
    case LayerKind::Flatten:
      // tfjs flattens NHWC: features in H, W, C order, which the dense kernel after it expects.
      return x.dim() == 4 ? x.permute({0, 2, 3, 1}).flatten(1) : x.flatten(1);
    case LayerKind::Dropout:
      return at::dropout(x, d.rate, training);
  }
  throw std::logic_error("unknown layer kind");
}

LayerKind layerKindFromName(const std::string& type) {
  static const std::pair<const char*, LayerKind> names[] = {
      {"conv2d", LayerKind::Conv2D},         {"depthwise_conv2d", LayerKind::DepthwiseConv2D},
      {"dense", LayerKind::Dense},           {"batch_norm", LayerKind::BatchNorm},
      {"relu", LayerKind::ReLU},             {"max_pool2d", LayerKind::MaxPool2D},
      {"avg_pool2d", LayerKind::AvgPool2D},  {"global_avg_pool", LayerKind::GlobalAvgPool},
      {"flatten", LayerKind::Flatten},       {"dropout", LayerKind::Dropout},
  };
  for (const auto& [name, kind] : names) {
    if (type == name) return kind;
  }
  throw std::invalid_argument("unknown layer type '" + type + "'");
}

}  // namespace tinyforge
