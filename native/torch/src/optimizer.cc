// Update rules as tfjs 4.x writes them (tf.train.adam / momentum / rmsprop with default epsilon
// 1e-7), float32 state, so a model trains alike here and on the tfjs backends.
#include "optimizer.h"

#include <cmath>
#include <stdexcept>

namespace tinyforge {
namespace {
constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kEpsilon = 1e-7, kRmsDecay = 0.9;
}

Optimizer::Optimizer(OptimizerConfig config, const std::vector<at::Tensor>& params) : config_(std::move(config)) {
  if (config_.name != "adam" && config_.name != "sgd" && config_.name != "rmsprop") {
    throw std::invalid_argument("optimizer: expected adam, sgd or rmsprop, found '" + config_.name + "'");
  }
  for (const auto& p : params) {
    first_.push_back(at::zeros_like(p).detach());
    second_.push_back(at::zeros_like(p).detach());
  }
}

void Optimizer::step(const std::vector<at::Tensor>& params, double learningRate) {
  at::NoGradGuard noGrad;
  steps_++;
  // Adam's bias corrections: tfjs keeps beta^t as running products, the same numbers.
  const double correction1 = 1 - std::pow(kBeta1, static_cast<double>(steps_));
  const double correction2 = 1 - std::pow(kBeta2, static_cast<double>(steps_));
  for (size_t i = 0; i < params.size(); i++) {
    at::Tensor value = params[i];
    const at::Tensor& grad = value.grad();
    if (!grad.defined()) continue;
    if (config_.name == "adam") {
      first_[i].mul_(kBeta1).add_(grad, 1 - kBeta1);
      second_[i].mul_(kBeta2).addcmul_(grad, grad, 1 - kBeta2);
      at::Tensor denominator = (second_[i] / correction2).sqrt_().add_(kEpsilon);
      value.addcdiv_(first_[i], denominator, -learningRate / correction1);
    } else if (config_.name == "sgd") {
      // Nesterov: accumulation = momentum * accumulation + g; w -= lr * (g + momentum * accumulation)
      first_[i].mul_(config_.momentum).add_(grad);
      value.add_(grad + first_[i] * config_.momentum, -learningRate);
    } else {
      // rmsprop: ms = decay * ms + (1 - decay) g^2; moments = momentum * moments + lr g / sqrt(ms + eps)
      first_[i].mul_(kRmsDecay).addcmul_(grad, grad, 1 - kRmsDecay);
      second_[i].mul_(config_.momentum).addcdiv_(grad, (first_[i] + kEpsilon).sqrt_(), learningRate);
      value.sub_(second_[i]);
    }
  }
}

}  // namespace tinyforge
