// Moving data between JavaScript values and libtorch tensors (always copies: a tensor never
// aliases memory the JavaScript garbage collector owns).
#pragma once
#include <napi.h>
#include <torch/torch.h>

#include <vector>

#include "layers.h"
#include "optimizer.h"

namespace tinyforge {

/** A batch of `count` NHWC images of `shape` [H, W, C] from a Float32Array. */
at::Tensor imagesFromJs(const Napi::Value& value, int64_t count, const std::vector<int64_t>& shape);
/** `count` class labels (Int32Array) as int64. */
at::Tensor labelsFromJs(const Napi::Value& value, int64_t count);
/** A float tensor as a new Float32Array. */
Napi::Float32Array tensorToJs(Napi::Env env, const at::Tensor& tensor);
/** [[tensor]] per layer as [[Float32Array]]. */
Napi::Array tensorListsToJs(Napi::Env env, const std::vector<std::vector<at::Tensor>>& lists);

/** A layer description with its initial weights ({shape, data} in tfjs layout). */
Layer layerFromJs(const Napi::Object& object);
OptimizerConfig optimizerFromJs(const Napi::Object& object);

}  // namespace tinyforge
