// A training step off the JavaScript thread: the caller prepares (augments) the next batch
// while libtorch computes this one. The promise resolves to {loss, correct}.
#pragma once
#include <napi.h>

#include <memory>

#include "network.h"

namespace tinyforge {

Napi::Promise startTrainStep(Napi::Env env, std::shared_ptr<Network> network, at::Tensor images,
                             at::Tensor labels, double learningRate);

}  // namespace tinyforge
