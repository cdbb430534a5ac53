#include "network.h"

#include "weights.h"

namespace tinyforge {

Network::Network(std::vector<Layer> layers, OptimizerConfig optimizer, int threads, uint64_t seed)
    : layers_(std::move(layers)), threads_(threads) {
  for (auto& layer : layers_) {
    for (auto& p : layer.params) {
      p.requires_grad_(true);
      params_.push_back(p);
    }
  }
  optimizer_ = std::make_unique<Optimizer>(std::move(optimizer), params_);
  // Dropout masks come from libtorch's default generator: seeded, they repeat run to run.
  at::manual_seed(seed);
}

void Network::useThreads() const {
  if (at::get_num_threads() != threads_) at::set_num_threads(threads_);
}

at::Tensor Network::forward(const at::Tensor& nhwc, bool training) {
  at::Tensor x = nhwc.permute({0, 3, 1, 2}).contiguous();
  for (auto& layer : layers_) x = forwardLayer(layer, x, training);
  return x;
}

void Network::zeroGradients() {
  // In place, as PyTorch's zero_grad() does by default: no fresh gradient buffers every step.
  for (auto& p : params_) {
    if (p.grad().defined()) p.mutable_grad().zero_();
  }
}

StepResult Network::trainStep(const at::Tensor& images, const at::Tensor& labels, double learningRate) {
  useThreads();
  zeroGradients();
  at::Tensor logits = forward(images, true);
  at::Tensor loss = at::cross_entropy_loss(logits, labels);
  loss.backward();
  optimizer_->step(params_, learningRate);
  at::NoGradGuard noGrad;
  return {loss.item<double>(), logits.argmax(1).eq(labels).sum().item<int64_t>()};
}

StepResult Network::evaluate(const at::Tensor& images, const at::Tensor& labels) {
  useThreads();
  at::NoGradGuard noGrad;
  at::Tensor logits = forward(images, false);
  double lossSum = at::cross_entropy_loss(logits, labels, {}, at::Reduction::Sum).item<double>();
  return {lossSum, logits.argmax(1).eq(labels).sum().item<int64_t>()};
}

at::Tensor Network::predict(const at::Tensor& images) {
  useThreads();
  at::NoGradGuard noGrad;
  return forward(images, false).contiguous();
}

Gradients Network::gradients(const at::Tensor& images, const at::Tensor& labels) {
  useThreads();
  zeroGradients();
  at::Tensor input = images.detach().clone().requires_grad_(true);
  at::Tensor loss = at::cross_entropy_loss(forward(input, true), labels);
  loss.backward();
  Gradients out;
  out.loss = loss.item<double>();
  for (const auto& layer : layers_) {
    std::vector<at::Tensor> grads;
    for (size_t i = 0; i < layer.params.size(); i++) {
      const at::Tensor& g = layer.params[i].grad();
      grads.push_back(toTfjsLayout(layer.desc, i, g.defined() ? g : at::zeros_like(layer.params[i])));
    }
    out.weights.push_back(std::move(grads));
  }
  out.input = input.grad().contiguous();
  return out;
}

std::vector<std::vector<at::Tensor>> Network::weights() const {
  at::NoGradGuard noGrad;
  std::vector<std::vector<at::Tensor>> out;
  for (const auto& layer : layers_) {
    std::vector<at::Tensor> tensors;
    for (size_t i = 0; i < layer.params.size(); i++) tensors.push_back(toTfjsLayout(layer.desc, i, layer.params[i].detach()));
    for (const auto& b : layer.buffers) tensors.push_back(b.contiguous());
    out.push_back(std::move(tensors));
  }
  return out;
}

}  // namespace tinyforge
