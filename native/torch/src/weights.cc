// Layouts (only the first weight, the kernel, differs; biases and batch-norm vectors are 1-D):
//   conv2d            tfjs [KH, KW, Cin, Cout]   libtorch [Cout, Cin, KH, KW]
//   depthwise_conv2d  tfjs [KH, KW, C, M]        libtorch [C * M, 1, KH, KW] (output c * M + m, as tfjs)
//   dense             tfjs [in, out]             libtorch [out, in]
#include "weights.h"

namespace tinyforge {

at::Tensor toTorchLayout(const LayerDesc& layer, size_t index, const at::Tensor& tfjs) {
  if (index != 0) return tfjs.contiguous();
  switch (layer.kind) {
    case LayerKind::Conv2D:
      return tfjs.permute({3, 2, 0, 1}).contiguous();
    case LayerKind::DepthwiseConv2D: {
      int64_t kh = tfjs.size(0), kw = tfjs.size(1), c = tfjs.size(2), m = tfjs.size(3);
      return tfjs.permute({2, 3, 0, 1}).reshape({c * m, 1, kh, kw}).contiguous();
    }
    case LayerKind::Dense:
      return tfjs.t().contiguous();
    default:
      return tfjs.contiguous();
  }
}

at::Tensor toTfjsLayout(const LayerDesc& layer, size_t index, const at::Tensor& torch) {
  if (index != 0) return torch.contiguous();
  switch (layer.kind) {
    case LayerKind::Conv2D:
      return torch.permute({2, 3, 1, 0}).contiguous();
    case LayerKind::DepthwiseConv2D: {
      int64_t m = layer.depthMultiplier, c = torch.size(0) / m, kh = torch.size(2), kw = torch.size(3);
      return torch.reshape({c, m, kh, kw}).permute({2, 3, 0, 1}).contiguous();
    }
    case LayerKind::Dense:
      return torch.t().contiguous();
    default:
      return torch.contiguous();
  }
}

}  // namespace tinyforge
