// The Node-API surface: `new Network(definition)` and its methods (see src/train/torch/addon.ts
// for the TypeScript view). Errors become JavaScript exceptions carrying libtorch's message.
#include <napi.h>

#include <memory>

#include "allocator.h"
#include "convert.h"
#include "network.h"
#include "train_step.h"

namespace tinyforge {
namespace {

class NetworkWrap : public Napi::ObjectWrap<NetworkWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Network",
                       {InstanceMethod("trainStep", &NetworkWrap::TrainStep),
                        InstanceMethod("evaluate", &NetworkWrap::Evaluate),
                        InstanceMethod("predict", &NetworkWrap::Predict),
                        InstanceMethod("gradients", &NetworkWrap::Gradients),
                        InstanceMethod("weights", &NetworkWrap::Weights)});
  }

  explicit NetworkWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NetworkWrap>(info) {
    Napi::Object def = info[0].As<Napi::Object>();
    Napi::Array inputShape = def.Get("inputShape").As<Napi::Array>();
    for (uint32_t i = 0; i < 3; i++) shape_.push_back(inputShape.Get(i).As<Napi::Number>().Int64Value());
    std::vector<Layer> layers;
    Napi::Array list = def.Get("layers").As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); i++) layers.push_back(layerFromJs(list.Get(i).As<Napi::Object>()));
    int threads = def.Get("threads").As<Napi::Number>().Int32Value();
    uint64_t seed = static_cast<uint64_t>(def.Get("seed").As<Napi::Number>().Int64Value());
    network_ = std::make_shared<Network>(std::move(layers), optimizerFromJs(def.Get("optimizer").As<Napi::Object>()),
                                         threads, seed);
    steps_ = std::make_unique<StepThread>(info.Env(), network_);
  }

 private:
  int64_t count(const Napi::CallbackInfo& info, int index) { return info[index].As<Napi::Number>().Int64Value(); }

  // trainStep(images: Float32Array, labels: Int32Array, count, learningRate): Promise<{loss, correct}>
  Napi::Value TrainStep(const Napi::CallbackInfo& info) {
    int64_t n = count(info, 2);
    return steps_->start(info.Env(), info.This().As<Napi::Object>(), imagesFromJs(info[0], n, shape_),
                         labelsFromJs(info[1], n), info[3].As<Napi::Number>().DoubleValue());
  }

  // evaluate(images, labels, count): {lossSum, correct}
  Napi::Value Evaluate(const Napi::CallbackInfo& info) {
    int64_t n = count(info, 2);
    StepResult r = network_->evaluate(imagesFromJs(info[0], n, shape_), labelsFromJs(info[1], n));
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("lossSum", r.loss);
    out.Set("correct", static_cast<double>(r.correct));
    return out;
  }

  // predict(images, count): Float32Array of count x classes logits
  Napi::Value Predict(const Napi::CallbackInfo& info) {
    return tensorToJs(info.Env(), network_->predict(imagesFromJs(info[0], count(info, 1), shape_)));
  }

  // gradients(images, labels, count): {loss, weights: Float32Array[][], input: Float32Array}
  Napi::Value Gradients(const Napi::CallbackInfo& info) {
    int64_t n = count(info, 2);
    auto g = network_->gradients(imagesFromJs(info[0], n, shape_), labelsFromJs(info[1], n));
    Napi::Object out = Napi::Object::New(info.Env());
    out.Set("loss", g.loss);
    out.Set("weights", tensorListsToJs(info.Env(), g.weights));
    out.Set("input", tensorToJs(info.Env(), g.input));
    return out;
  }

  // weights(): Float32Array[][] per layer, tfjs layout and order
  Napi::Value Weights(const Napi::CallbackInfo& info) { return tensorListsToJs(info.Env(), network_->weights()); }

  std::vector<int64_t> shape_;
  std::shared_ptr<Network> network_;
  std::unique_ptr<StepThread> steps_;
};

}  // namespace
}  // namespace tinyforge

static Napi::Object InitTorchAddon(Napi::Env env, Napi::Object exports) {
  using tinyforge::NetworkWrap;
  tinyforge::keepStepBuffersInHeap();
  exports.Set("Network", NetworkWrap::Define(env));
  exports.Set("torchVersion", Napi::String::New(env, std::to_string(TORCH_VERSION_MAJOR) + "." +
                                                  std::to_string(TORCH_VERSION_MINOR) + "." +
                                                  std::to_string(TORCH_VERSION_PATCH)));
  exports.Set("defaultThreads", Napi::Number::New(env, at::get_num_threads()));
  return exports;
}

NODE_API_MODULE(tinyforge_torch, InitTorchAddon)
