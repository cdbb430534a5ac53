// A sequential network of zoo layers with its optimizer: what one tfjs LayersModel trains as.
#pragma once
#include "layers.h"
#include "optimizer.h"

#include <memory>
#include <vector>

namespace tinyforge {

struct StepResult {
  double loss = 0;      // mean softmax cross-entropy over the batch
  int64_t correct = 0;  // arg-max hits in the batch
};

struct Gradients {
  double loss = 0;
  std::vector<std::vector<at::Tensor>> weights;  // per layer, tfjs layout, tfjs weight order
  at::Tensor input;                              // d loss / d input, NHWC
};

class Network {
 public:
  /** `layers` hold their initial weights in libtorch layout. */
  Network(std::vector<Layer> layers, OptimizerConfig optimizer, int threads, uint64_t seed);

  /** One training step on a batch: NHWC images, int64 labels. */
  StepResult trainStep(const at::Tensor& images, const at::Tensor& labels, double learningRate);
  /** Summed loss and hits in inference mode (moving batch-norm statistics, no dropout). */
  StepResult evaluate(const at::Tensor& images, const at::Tensor& labels);
  /** Logits in inference mode. */
  at::Tensor predict(const at::Tensor& images);
  /** Training-mode loss gradients without an update (tests compare them with tfjs). */
  Gradients gradients(const at::Tensor& images, const at::Tensor& labels);
  /** Every layer's weights in tfjs layout and order (trainable, then moving statistics). */
  std::vector<std::vector<at::Tensor>> weights() const;

  int threads() const { return threads_; }

 private:
  at::Tensor forward(const at::Tensor& nhwc, bool training);
  /** Intra-op thread count is per calling thread (OpenMP), so every entry point sets it. */
  void useThreads() const;
  void zeroGradients();

  std::vector<Layer> layers_;
  std::vector<at::Tensor> params_;
  std::unique_ptr<Optimizer> optimizer_;
  int threads_;
};

}  // namespace tinyforge
