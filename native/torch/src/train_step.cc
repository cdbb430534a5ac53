#include "train_step.h"

namespace tinyforge {
namespace {

class TrainStepWorker : public Napi::AsyncWorker {
 public:
  TrainStepWorker(Napi::Env env, std::shared_ptr<Network> network, at::Tensor images, at::Tensor labels,
                  double learningRate)
      : Napi::AsyncWorker(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        network_(std::move(network)),
        images_(std::move(images)),
        labels_(std::move(labels)),
        learningRate_(learningRate) {}

  Napi::Promise promise() { return deferred_.Promise(); }

  // On a libuv pool thread: the tensors are this worker's own copies, nothing here touches JS.
  void Execute() override {
    try {
      result_ = network_->trainStep(images_, labels_, learningRate_);
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }

  void OnOK() override {
    Napi::Object out = Napi::Object::New(Env());
    out.Set("loss", result_.loss);
    out.Set("correct", static_cast<double>(result_.correct));
    deferred_.Resolve(out);
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<Network> network_;
  at::Tensor images_, labels_;
  double learningRate_;
  StepResult result_;
};

}  // namespace

Napi::Promise startTrainStep(Napi::Env env, std::shared_ptr<Network> network, at::Tensor images,
                             at::Tensor labels, double learningRate) {
  auto* worker = new TrainStepWorker(env, std::move(network), std::move(images), std::move(labels), learningRate);
  Napi::Promise promise = worker->promise();
  worker->Queue();  // deletes itself after OnOK/OnError
  return promise;
}

}  // namespace tinyforge
