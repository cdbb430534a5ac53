// The optimizers tinyforge configures, with tfjs's update rules and defaults (src/train/train.ts
// makeOptimizer), so that a config trains the same way on every backend.
#pragma once
#include <torch/torch.h>

#include <string>
#include <vector>

namespace tinyforge {

struct OptimizerConfig {
  std::string name = "adam";  // "adam" | "sgd" (Nesterov momentum) | "rmsprop"
  double momentum = 0;        // sgd, rmsprop
};

class Optimizer {
 public:
  Optimizer(OptimizerConfig config, const std::vector<at::Tensor>& params);
  /** One update of every parameter from its .grad() at this learning rate. */
  void step(const std::vector<at::Tensor>& params, double learningRate);

 private:
  OptimizerConfig config_;
  std::vector<at::Tensor> first_;   // adam: m; sgd: accumulation; rmsprop: mean square
  std::vector<at::Tensor> second_;  // adam: v; rmsprop: moments
  int64_t steps_ = 0;
};

}  // namespace tinyforge
