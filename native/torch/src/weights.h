// tfjs keeps weights in its own layouts; libtorch wants others. The only place that knows both.
#pragma once
#include "layers.h"

namespace tinyforge {

/** The `index`-th tfjs weight of a layer (tfjs layout) in libtorch layout. */
at::Tensor toTorchLayout(const LayerDesc& layer, size_t index, const at::Tensor& tfjs);

/** The inverse: a libtorch-layout weight (or its gradient) back in tfjs layout, contiguous. */
at::Tensor toTfjsLayout(const LayerDesc& layer, size_t index, const at::Tensor& torch);

}  // namespace tinyforge
