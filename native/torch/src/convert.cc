#include "convert.h"

#include <cstring>
#include <stdexcept>

#include "weights.h"

namespace tinyforge {
namespace {

template <typename Typed>
Typed typedArray(const Napi::Value& value, size_t minLength, const char* what) {
  if (!value.IsTypedArray()) throw std::invalid_argument(std::string(what) + ": expected a typed array");
  Typed array = value.As<Typed>();
  if (array.ElementLength() < minLength) {
    throw std::invalid_argument(std::string(what) + ": expected at least " + std::to_string(minLength) +
                                " values, found " + std::to_string(array.ElementLength()));
  }
  return array;
}

double numberOr(const Napi::Object& o, const char* key, double fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
}

std::vector<int64_t> shapeFromJs(const Napi::Value& value) {
  std::vector<int64_t> shape;
  Napi::Array array = value.As<Napi::Array>();
  for (uint32_t i = 0; i < array.Length(); i++) shape.push_back(array.Get(i).As<Napi::Number>().Int64Value());
  return shape;
}

at::Tensor floatTensor(const Napi::Value& data, const std::vector<int64_t>& shape, const char* what) {
  int64_t size = 1;
  for (int64_t d : shape) size *= d;
  auto array = typedArray<Napi::Float32Array>(data, static_cast<size_t>(size), what);
  return torch::from_blob(array.Data(), shape, torch::kFloat32).clone();
}

}  // namespace

at::Tensor imagesFromJs(const Napi::Value& value, int64_t count, const std::vector<int64_t>& shape) {
  return floatTensor(value, {count, shape[0], shape[1], shape[2]}, "images");
}

at::Tensor labelsFromJs(const Napi::Value& value, int64_t count) {
  auto array = typedArray<Napi::Int32Array>(value, static_cast<size_t>(count), "labels");
  return torch::from_blob(array.Data(), {count}, torch::kInt32).to(torch::kInt64);
}

Napi::Float32Array tensorToJs(Napi::Env env, const at::Tensor& tensor) {
  at::Tensor t = tensor.contiguous().to(torch::kFloat32);
  auto out = Napi::Float32Array::New(env, static_cast<size_t>(t.numel()));
  std::memcpy(out.Data(), t.data_ptr<float>(), t.numel() * sizeof(float));
  return out;
}

Napi::Array tensorListsToJs(Napi::Env env, const std::vector<std::vector<at::Tensor>>& lists) {
  Napi::Array out = Napi::Array::New(env, lists.size());
  for (size_t i = 0; i < lists.size(); i++) {
    Napi::Array inner = Napi::Array::New(env, lists[i].size());
    for (size_t j = 0; j < lists[i].size(); j++) inner.Set(j, tensorToJs(env, lists[i][j]));
    out.Set(i, inner);
  }
  return out;
}

Layer layerFromJs(const Napi::Object& o) {
  Layer layer;
  LayerDesc& d = layer.desc;
  d.name = o.Get("name").As<Napi::String>().Utf8Value();
  d.kind = layerKindFromName(o.Get("type").As<Napi::String>().Utf8Value());
  d.kernel = static_cast<int64_t>(numberOr(o, "kernel", 1));
  d.stride = static_cast<int64_t>(numberOr(o, "stride", 1));
  Napi::Value padding = o.Get("padding");
  d.samePadding = padding.IsString() && padding.As<Napi::String>().Utf8Value() == "same";
  d.depthMultiplier = static_cast<int64_t>(numberOr(o, "depthMultiplier", 1));
  d.maxValue = numberOr(o, "maxValue", 0);
  d.rate = numberOr(o, "rate", 0);
  d.epsilon = numberOr(o, "epsilon", 1e-3);
  d.momentum = numberOr(o, "momentum", 0.99);
  Napi::Value weights = o.Get("weights");
  if (!weights.IsArray()) return layer;
  Napi::Array list = weights.As<Napi::Array>();
  // Batch norm: gamma, beta are trained; moving mean and variance are statistics.
  const size_t trainable = d.kind == LayerKind::BatchNorm ? 2 : list.Length();
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Object w = list.Get(i).As<Napi::Object>();
    at::Tensor tfjs = floatTensor(w.Get("data"), shapeFromJs(w.Get("shape")), d.name.c_str());
    at::Tensor t = toTorchLayout(d, i, tfjs).detach().clone();
    (i < trainable ? layer.params : layer.buffers).push_back(t);
  }
  if (d.kind == LayerKind::BatchNorm && (layer.params.size() != 2 || layer.buffers.size() != 2)) {
    throw std::invalid_argument("layer " + d.name + ": batch norm needs gamma, beta, moving mean and variance");
  }
  return layer;
}

OptimizerConfig optimizerFromJs(const Napi::Object& o) {
  OptimizerConfig config;
  config.name = o.Get("name").As<Napi::String>().Utf8Value();
  config.momentum = numberOr(o, "momentum", 0);
  return config;
}

}  // namespace tinyforge
