#include "train_step.h"

namespace tinyforge {

// Why one thread of our own rather than libuv's pool (Napi::AsyncWorker): the pool has four
// threads and hands consecutive steps to whichever is free, so a step often ran on another thread
// than the last one (likely costs, not separately measured: another glibc arena for its buffers,
// caches to warm again). `npm run bench:train` on the default model (2-core
// machine): 0.86-0.89x PyTorch's samples/s on the pool, 1.07x (1 libtorch thread) on our own.
struct StepThread::Step {
  Napi::ObjectReference network;  // the JavaScript object: not collected while its step runs
  Napi::Promise::Deferred deferred;
  at::Tensor images, labels;
  double learningRate;
  StepResult result;
  std::string error;
};

StepThread::StepThread(Napi::Env env, std::shared_ptr<Network> network) : network_(std::move(network)) {
  done_ = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}),
                                        "tinyforge-train-step", 0, 1);
  done_.Unref(env);  // an idle network must not keep Node running
  thread_ = std::thread([this] { run(); });
}

StepThread::~StepThread() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
  done_.Release();
}

Napi::Promise StepThread::start(Napi::Env env, Napi::Object network, at::Tensor images, at::Tensor labels,
                                double learningRate) {
  auto* step = new Step{Napi::Persistent(network), Napi::Promise::Deferred::New(env), std::move(images),
                        std::move(labels), learningRate, {}, {}};
  Napi::Promise promise = step->deferred.Promise();
  if (inFlight_++ == 0) done_.Ref(env);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(step);
  }
  wake_.notify_one();
  return promise;
}

// On the step thread: nothing here touches JavaScript values.
void StepThread::run() {
  for (;;) {
    Step* step;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      step = queue_.front();
      queue_.pop_front();
    }
    try {
      step->result = network_->trainStep(step->images, step->labels, step->learningRate);
    } catch (const std::exception& e) {
      step->error = e.what();
      if (step->error.empty()) step->error = "training step failed";
    }
    step->images.reset();
    step->labels.reset();
    done_.BlockingCall(step, [this](Napi::Env env, Napi::Function, Step* s) { finish(env, s); });
  }
}

// On the JavaScript thread.
void StepThread::finish(Napi::Env env, Step* step) {
  std::unique_ptr<Step> owned(step);
  if (--inFlight_ == 0) done_.Unref(env);
  if (!step->error.empty()) {
    step->deferred.Reject(Napi::Error::New(env, step->error).Value());
    return;
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("loss", step->result.loss);
  out.Set("correct", static_cast<double>(step->result.correct));
  step->deferred.Resolve(out);
}

}  // namespace tinyforge
