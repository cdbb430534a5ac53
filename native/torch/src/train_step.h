// Training steps off the JavaScript thread: the caller prepares (augments) the next batch while
// libtorch computes this one. Every step of a network runs on the same dedicated thread.
#pragma once
#include <napi.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "network.h"

namespace tinyforge {

class StepThread {
 public:
  StepThread(Napi::Env env, std::shared_ptr<Network> network);
  /** Stops the thread. Runs when the JavaScript network object is collected, which a queued
   *  step prevents (it holds a reference to it), so no completion is left to deliver. */
  ~StepThread();

  /** Queues one step of `network` (the JavaScript object, kept alive until the step is done); the
   *  promise resolves to {loss, correct} on the JavaScript thread. */
  Napi::Promise start(Napi::Env env, Napi::Object network, at::Tensor images, at::Tensor labels,
                      double learningRate);

 private:
  struct Step;
  void run();
  void finish(Napi::Env env, Step* step);

  std::shared_ptr<Network> network_;
  Napi::ThreadSafeFunction done_;  // hands finished steps back to the JavaScript thread
  int inFlight_ = 0;               // JavaScript thread only: keeps the event loop alive while > 0
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Step*> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tinyforge
