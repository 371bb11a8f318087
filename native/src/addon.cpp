// N-API glue: converts JS values to tensors on the main thread (JS memory may move or change once we return), runs
// the heavy work in AsyncWorkers off the event loop, and turns every C++ exception into a JS Error with its message.
#include <napi.h>

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/version.h>

#include <dlfcn.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "allocator.h"
#include "bert.h"
#include "losses.h"
#include "use_lite.h"

namespace rankwise {
namespace {

template <typename F>
auto guarded(Napi::Env env, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    // what() carries a C++ backtrace that means nothing to a JS caller.
    throw Napi::Error::New(env, e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

Napi::Object requireObject(Napi::Env env, const Napi::Value& v, const std::string& what) {
  if (!v.IsObject()) throw Napi::TypeError::New(env, what + ": expected an object");
  return v.As<Napi::Object>();
}

double getNumber(const Napi::Object& o, const char* key, const std::string& what) {
  auto v = o.Get(key);
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), what + "." + key + ": expected a number");
  return v.As<Napi::Number>().DoubleValue();
}

int64_t getInt(const Napi::Object& o, const char* key, const std::string& what) {
  const double d = getNumber(o, key, what);
  if (!std::isfinite(d) || d != std::floor(d)) throw Napi::TypeError::New(o.Env(), what + "." + key + ": expected an integer");
  return static_cast<int64_t>(d);
}

std::string getString(const Napi::Object& o, const char* key, const std::string& what) {
  auto v = o.Get(key);
  if (!v.IsString()) throw Napi::TypeError::New(o.Env(), what + "." + key + ": expected a string");
  return v.As<Napi::String>().Utf8Value();
}

/** A copy of a Float32Array / Float64Array as a float64 or float32 tensor (its own type). */
at::Tensor floatTensor(Napi::Env env, const Napi::Value& v, const std::string& what) {
  if (!v.IsTypedArray()) throw Napi::TypeError::New(env, what + ": expected a Float32Array or Float64Array");
  auto ta = v.As<Napi::TypedArray>();
  const auto n = static_cast<int64_t>(ta.ElementLength());
  if (ta.TypedArrayType() == napi_float32_array) {
    auto a = v.As<Napi::Float32Array>();
    return at::from_blob(a.Data(), {n}, at::kFloat).clone();
  }
  if (ta.TypedArrayType() == napi_float64_array) {
    auto a = v.As<Napi::Float64Array>();
    return at::from_blob(a.Data(), {n}, at::kDouble).clone();
  }
  throw Napi::TypeError::New(env, what + ": expected a Float32Array or Float64Array");
}

at::Tensor int64Field(const Napi::Object& o, const char* key, int64_t expected, const std::string& what) {
  auto v = o.Get(key);
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_bigint64_array) {
    throw Napi::TypeError::New(o.Env(), what + "." + key + ": expected a BigInt64Array");
  }
  auto a = v.As<Napi::TypedArrayOf<int64_t>>();
  if (static_cast<int64_t>(a.ElementLength()) != expected) {
    throw Napi::Error::New(o.Env(), what + "." + key + ": holds " + std::to_string(a.ElementLength()) + " values, batchSize x sequenceLength is " +
                                        std::to_string(expected));
  }
  return at::from_blob(a.Data(), {expected}, at::kLong).clone();
}

void checkRange(Napi::Env env, const at::Tensor& t, int64_t lo, int64_t hi, const std::string& what, const std::string& limit) {
  const int64_t* p = t.data_ptr<int64_t>();
  for (int64_t i = 0; i < t.numel(); i++) {
    if (p[i] < lo || p[i] >= hi) {
      throw Napi::RangeError::New(env, what + "[" + std::to_string(i) + "] = " + std::to_string(p[i]) + " is outside [" + std::to_string(lo) + ", " +
                                           std::to_string(hi) + ") (" + limit + ")");
    }
  }
}

Batch readBatch(Napi::Env env, const Napi::Value& v, const BatchLimits& spec, const std::string& what) {
  auto o = requireObject(env, v, what);
  Batch b;
  b.batchSize = getInt(o, "batchSize", what);
  b.sequenceLength = getInt(o, "sequenceLength", what);
  if (b.batchSize < 1 || b.sequenceLength < 1) throw Napi::RangeError::New(env, what + ": batchSize and sequenceLength must be at least 1");
  if (b.sequenceLength > spec.maxLength) {
    throw Napi::RangeError::New(env, what + ": sequenceLength " + std::to_string(b.sequenceLength) + " exceeds " + spec.maxLengthName + " " +
                                         std::to_string(spec.maxLength));
  }
  const int64_t n = b.batchSize * b.sequenceLength;
  b.inputIds = int64Field(o, "inputIds", n, what);
  b.tokenTypeIds = int64Field(o, "tokenTypeIds", n, what);
  b.attentionMask = int64Field(o, "attentionMask", n, what);
  checkRange(env, b.inputIds, 0, spec.vocabSize, what + ".inputIds", "vocab_size");
  checkRange(env, b.tokenTypeIds, 0, spec.typeVocabSize, what + ".tokenTypeIds", "type_vocab_size");
  checkRange(env, b.attentionMask, 0, 2, what + ".attentionMask", "0 or 1");
  const std::vector<int64_t> shape{b.batchSize, b.sequenceLength};
  b.inputIds = b.inputIds.view(shape);
  b.tokenTypeIds = b.tokenTypeIds.view(shape);
  b.attentionMask = b.attentionMask.view(shape);
  return b;
}

/** The normalised request the TS layer sends: { loss, batches: [..], values?, sigmoid?, scale? }. */
Request readRequest(Napi::Env env, const Napi::Value& v, const BatchLimits& spec) {
  auto o = requireObject(env, v, "request");
  Request r;
  r.kind = parseLossKind(getString(o, "loss", "request"));
  auto batches = o.Get("batches");
  if (!batches.IsArray()) throw Napi::TypeError::New(env, "request.batches: expected an array");
  auto arr = batches.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) r.batches.push_back(readBatch(env, arr.Get(i), spec, "request.batches[" + std::to_string(i) + "]"));
  auto values = o.Get("values");
  if (!values.IsUndefined()) r.values = floatTensor(env, values, "request.values").to(at::kDouble);
  r.sigmoid = o.Get("sigmoid").ToBoolean().Value();
  if (o.Has("scale") && !o.Get("scale").IsUndefined()) r.scale = getNumber(o, "scale", "request");
  return r;
}

Napi::Float32Array toFloat32Array(Napi::Env env, const at::Tensor& t) {
  const auto c = t.to(at::kFloat).contiguous();
  auto out = Napi::Float32Array::New(env, static_cast<size_t>(c.numel()));
  std::memcpy(out.Data(), c.data_ptr<float>(), sizeof(float) * static_cast<size_t>(c.numel()));
  return out;
}

Napi::Float64Array toFloat64Array(Napi::Env env, const at::Tensor& t) {
  const auto c = t.to(at::kDouble).contiguous();
  auto out = Napi::Float64Array::New(env, static_cast<size_t>(c.numel()));
  std::memcpy(out.Data(), c.data_ptr<double>(), sizeof(double) * static_cast<size_t>(c.numel()));
  return out;
}

class Model;

/** Runs `work` on a libuv worker thread and settles a promise with `resolve`'s value (built on the main thread). */
class PromiseWorker : public Napi::AsyncWorker {
 public:
  using Work = std::function<void()>;
  using Resolve = std::function<Napi::Value(Napi::Env)>;

  PromiseWorker(Napi::Env env, Napi::Object owner, bool* busy, int threads, Work work, Resolve resolve)
      : Napi::AsyncWorker(env, "rankwise_torch"),
        deferred_(Napi::Promise::Deferred::New(env)),
        owner_(Napi::Persistent(owner)),
        busy_(busy),
        threads_(threads),
        work_(std::move(work)),
        resolve_(std::move(resolve)) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    try {
      useThreads(threads_);
      work_();
    } catch (const c10::Error& e) {
      SetError(e.what_without_backtrace());
    } catch (const std::exception& e) {
      SetError(e.what());
    } catch (...) {
      SetError("unknown native error");
    }
  }

  void OnOK() override {
    *busy_ = false;
    try {
      deferred_.Resolve(guarded(Env(), [&] { return resolve_(Env()); }));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }

  void OnError(const Napi::Error& e) override {
    *busy_ = false;
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  // Keeps the JS wrapper, and so the model, alive while a worker uses it.
  Napi::ObjectReference owner_;
  bool* busy_;
  int threads_;
  Work work_;
  Resolve resolve_;
};

class Model : public Napi::ObjectWrap<Model> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "TorchBertNative",
                       {
                           InstanceMethod("state", &Model::State),
                           InstanceMethod("setParameter", &Model::SetParameter),
                           InstanceMethod("forward", &Model::Forward),
                           InstanceMethod("hiddenStates", &Model::HiddenStates),
                           InstanceMethod("configureOptimizer", &Model::ConfigureOptimizer),
                           InstanceMethod("trainStep", &Model::TrainStep),
                           InstanceMethod("lossAndGradients", &Model::LossAndGradients),
                           InstanceMethod("saveCheckpoint", &Model::SaveCheckpoint),
                           InstanceMethod("loadCheckpoint", &Model::LoadCheckpoint),
                           InstanceMethod("dispose", &Model::Dispose),
                       });
  }

  /** new TorchBertNative(spec, names: string[], data: (Float32Array|Float64Array)[]); spec.architecture 'use-lite' or BERT. */
  explicit Model(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Model>(info) {
    auto env = info.Env();
    guarded(env, [&] {
      auto s = requireObject(env, info[0], "spec");
      if (!info[1].IsArray() || !info[2].IsArray()) throw Napi::TypeError::New(env, "weights: expected names and data arrays");
      auto names = info[1].As<Napi::Array>();
      auto data = info[2].As<Napi::Array>();
      std::vector<std::pair<std::string, at::Tensor>> params;
      for (uint32_t i = 0; i < names.Length(); i++) {
        const std::string name = names.Get(i).As<Napi::String>().Utf8Value();
        params.emplace_back(name, floatTensor(env, data.Get(i), "weights \"" + name + "\""));
      }
      threads_ = static_cast<int>(getInt(s, "threads", "spec"));
      if (s.Get("architecture").IsString() && getString(s, "architecture", "spec") == "use-lite") {
        UseLiteSpec spec;
        spec.vocabSize = getInt(s, "vocabSize", "spec");
        spec.embeddingSize = getInt(s, "embeddingSize", "spec");
        spec.hiddenSize = getInt(s, "hiddenSize", "spec");
        spec.numLayers = getInt(s, "numLayers", "spec");
        spec.numHeads = getInt(s, "numHeads", "spec");
        spec.intermediateSize = getInt(s, "intermediateSize", "spec");
        spec.maxPositions = getInt(s, "maxPositions", "spec");
        spec.layerNormEps = getNumber(s, "layerNormEps", "spec");
        spec.embeddingMultiplier = getNumber(s, "embeddingMultiplier", "spec");
        spec.classification = getString(s, "head", "spec") == "sequence-classification";
        spec.typeVocabSize = getInt(s, "typeVocabSize", "spec");
        spec.numLabels = getInt(s, "numLabels", "spec");
        spec.seed = static_cast<uint64_t>(getInt(s, "seed", "spec"));
        spec.threads = threads_;
        spec.float64 = getString(s, "dtype", "spec") == "float64";
        bert_ = std::make_unique<UseLite>(spec, params);
        return;
      }
      BertSpec spec;
      spec.vocabSize = getInt(s, "vocabSize", "spec");
      spec.hiddenSize = getInt(s, "hiddenSize", "spec");
      spec.numLayers = getInt(s, "numLayers", "spec");
      spec.numHeads = getInt(s, "numHeads", "spec");
      spec.intermediateSize = getInt(s, "intermediateSize", "spec");
      spec.maxPositions = getInt(s, "maxPositions", "spec");
      spec.typeVocabSize = getInt(s, "typeVocabSize", "spec");
      spec.numLabels = getInt(s, "numLabels", "spec");
      spec.padTokenId = getInt(s, "padTokenId", "spec");
      spec.layerNormEps = getNumber(s, "layerNormEps", "spec");
      spec.activation = getString(s, "activation", "spec");
      spec.hiddenDropout = getNumber(s, "hiddenDropout", "spec");
      spec.attentionDropout = getNumber(s, "attentionDropout", "spec");
      spec.classifierDropout = getNumber(s, "classifierDropout", "spec");
      spec.classification = getString(s, "head", "spec") == "sequence-classification";
      spec.meanPooling = getString(s, "pooling", "spec") == "mean";
      spec.seed = static_cast<uint64_t>(getInt(s, "seed", "spec"));
      spec.threads = static_cast<int>(getInt(s, "threads", "spec"));
      spec.float64 = getString(s, "dtype", "spec") == "float64";
      bert_ = std::make_unique<Bert>(spec, params);
    });
  }

 private:
  Trainable& bert(Napi::Env env, const char* method) {
    if (!bert_) throw Napi::Error::New(env, std::string("TorchBert.") + method + ": the model has been disposed");
    if (busy_) {
      throw Napi::Error::New(env, std::string("TorchBert.") + method + ": another call on this model is still running; await it first");
    }
    return *bert_;
  }

  Napi::Value Start(const Napi::CallbackInfo& info, PromiseWorker::Work work, PromiseWorker::Resolve resolve) {
    auto* worker = new PromiseWorker(info.Env(), info.This().As<Napi::Object>(), &busy_, threads_, std::move(work), std::move(resolve));
    busy_ = true;
    auto promise = worker->Promise();
    worker->Queue();
    return promise;
  }

  Napi::Value State(const Napi::CallbackInfo& info) {
    auto env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      auto& m = bert(env, "state");
      auto out = Napi::Array::New(env, m.names().size());
      for (size_t i = 0; i < m.names().size(); i++) {
        const auto& p = m.parameter(i);
        auto entry = Napi::Object::New(env);
        entry.Set("name", m.names()[i]);
        auto shape = Napi::Array::New(env, p.dim());
        for (int64_t d = 0; d < p.dim(); d++) shape.Set(static_cast<uint32_t>(d), Napi::Number::New(env, static_cast<double>(p.size(d))));
        entry.Set("shape", shape);
        entry.Set("data", toFloat32Array(env, p.detach()));
        out.Set(static_cast<uint32_t>(i), entry);
      }
      return out;
    });
  }

  Napi::Value SetParameter(const Napi::CallbackInfo& info) {
    auto env = info.Env();
    guarded(env, [&] {
      auto& m = bert(env, "setParameter");
      if (!info[0].IsString()) throw Napi::TypeError::New(env, "setParameter: expected a parameter name");
      const std::string name = info[0].As<Napi::String>().Utf8Value();
      m.setParameter(m.indexOf(name), floatTensor(env, info[1], "setParameter(\"" + name + "\")"));
    });
    return env.Undefined();
  }

  Napi::Value RunForward(const Napi::CallbackInfo& info, bool hidden) {
    auto env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      auto& m = bert(env, hidden ? "hiddenStates" : "forward");
      auto batch = std::make_shared<Batch>(readBatch(env, info[0], m.limits(), "batch"));
      auto result = std::make_shared<at::Tensor>();
      Trainable* model = &m;
      return Start(
          info, [=] { *result = hidden ? model->hiddenStates(*batch) : model->output(*batch); },
          [=](Napi::Env e) -> Napi::Value { return toFloat32Array(e, *result); });
    });
  }

  Napi::Value Forward(const Napi::CallbackInfo& info) { return RunForward(info, false); }
  Napi::Value HiddenStates(const Napi::CallbackInfo& info) { return RunForward(info, true); }

  Napi::Value ConfigureOptimizer(const Napi::CallbackInfo& info) {
    auto env = info.Env();
    guarded(env, [&] {
      auto& m = bert(env, "configureOptimizer");
      auto o = requireObject(env, info[0], "optimizer");
      OptimizerConfig c;
      c.lr = getNumber(o, "lr", "optimizer");
      c.weightDecay = getNumber(o, "weightDecay", "optimizer");
      c.warmupSteps = getInt(o, "warmupSteps", "optimizer");
      c.totalSteps = getInt(o, "totalSteps", "optimizer");
      c.maxGradNorm = getNumber(o, "maxGradNorm", "optimizer");
      c.beta1 = getNumber(o, "beta1", "optimizer");
      c.beta2 = getNumber(o, "beta2", "optimizer");
      c.eps = getNumber(o, "eps", "optimizer");
      m.configureOptimizer(c);
    });
    return env.Undefined();
  }

  Napi::Value TrainStep(const Napi::CallbackInfo& info) {
    auto env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      auto& m = bert(env, "trainStep");
      auto request = std::make_shared<Request>(readRequest(env, info[0], m.limits()));
      auto result = std::make_shared<StepResult>();
      Trainable* model = &m;
      return Start(
          info, [=] { *result = model->trainStep(*request); },
          [=](Napi::Env e) -> Napi::Value {
            auto o = Napi::Object::New(e);
            o.Set("loss", result->loss);
            o.Set("gradNorm", result->gradNorm);
            o.Set("lr", result->lr);
            o.Set("step", Napi::Number::New(e, static_cast<double>(result->step)));
            return o;
          });
    });
  }

  Napi::Value LossAndGradients(const Napi::CallbackInfo& info) {
    auto env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      auto& m = bert(env, "lossAndGradients");
      auto request = std::make_shared<Request>(readRequest(env, info[0], m.limits()));
      if (!info[1].IsArray()) throw Napi::TypeError::New(env, "lossAndGradients: expected an array of parameter names");
      auto names = info[1].As<Napi::Array>();
      std::vector<size_t> indices;
      for (uint32_t i = 0; i < names.Length(); i++) indices.push_back(m.indexOf(names.Get(i).As<Napi::String>().Utf8Value()));
      auto result = std::make_shared<std::pair<double, std::vector<at::Tensor>>>();
      Trainable* model = &m;
      return Start(
          info, [=] { *result = model->lossAndGradients(*request, indices); },
          [=](Napi::Env e) -> Napi::Value {
            auto o = Napi::Object::New(e);
            o.Set("loss", result->first);
            auto grads = Napi::Array::New(e, result->second.size());
            for (size_t i = 0; i < result->second.size(); i++) grads.Set(static_cast<uint32_t>(i), toFloat64Array(e, result->second[i]));
            o.Set("gradients", grads);
            return o;
          });
    });
  }

  Napi::Value Checkpoint(const Napi::CallbackInfo& info, bool save) {
    auto env = info.Env();
    return guarded(env, [&]() -> Napi::Value {
      auto& m = bert(env, save ? "saveCheckpoint" : "loadCheckpoint");
      if (!info[0].IsString()) throw Napi::TypeError::New(env, "checkpoint: expected a path");
      const std::string path = info[0].As<Napi::String>().Utf8Value();
      Trainable* model = &m;
      return Start(
          info, [=] { save ? model->saveCheckpoint(path) : model->loadCheckpoint(path); },
          [](Napi::Env e) -> Napi::Value { return e.Undefined(); });
    });
  }

  Napi::Value SaveCheckpoint(const Napi::CallbackInfo& info) { return Checkpoint(info, true); }
  Napi::Value LoadCheckpoint(const Napi::CallbackInfo& info) { return Checkpoint(info, false); }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    auto env = info.Env();
    if (busy_) throw Napi::Error::New(env, "TorchBert.dispose: a call on this model is still running; await it first");
    bert_.reset();
    return env.Undefined();
  }

  std::unique_ptr<Trainable> bert_;
  bool busy_ = false;
  int threads_ = 1;
};

/** evaluateLoss(kind, { name: Float64Array | number | string }) -> { loss, gradients: { name: Float64Array } } */
Napi::Value EvaluateLoss(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    if (!info[0].IsString()) throw Napi::TypeError::New(env, "evaluateLoss: expected a loss kind");
    const auto kind = parseLossKind(info[0].As<Napi::String>().Utf8Value());
    auto o = requireObject(env, info[1], "evaluateLoss inputs");
    std::vector<std::string> names;
    std::vector<at::Tensor> inputs;
    auto input = [&](const char* name) -> at::Tensor {
      auto v = o.Get(name);
      if (v.IsUndefined()) throw Napi::TypeError::New(env, std::string("evaluateLoss(") + lossName(kind) + "): missing input \"" + name + "\"");
      auto t = floatTensor(env, v, std::string("evaluateLoss input \"") + name + "\"").to(at::kDouble).set_requires_grad(true);
      names.push_back(name);
      inputs.push_back(t);
      return t;
    };
    auto rows = [&](const at::Tensor& t, const char* name) {
      const int64_t dim = getInt(o, "dim", "evaluateLoss inputs");
      if (dim < 1 || t.numel() % dim != 0) throw Napi::RangeError::New(env, std::string("evaluateLoss: \"") + name + "\" length is not a multiple of dim");
      return t.view({-1, dim});
    };
    auto sameLength = [&](const at::Tensor& a, const at::Tensor& b, const char* an, const char* bn) {
      if (a.size(0) != b.size(0)) {
        throw Napi::RangeError::New(env, std::string("evaluateLoss: \"") + an + "\" has " + std::to_string(a.size(0)) + " rows, \"" + bn + "\" has " +
                                             std::to_string(b.size(0)));
      }
    };
    at::Tensor loss;
    switch (kind) {
      case LossKind::Bce:
      case LossKind::Mse: {
        auto s = input("scores"), t = input("targets");
        sameLength(s, t, "scores", "targets");
        const auto act = o.Get("activation");
        const bool sigmoid = act.IsString() && act.As<Napi::String>().Utf8Value() == "sigmoid";
        loss = kind == LossKind::Bce ? bceLoss(s, t) : mseLoss(s, t, sigmoid);
        break;
      }
      case LossKind::MarginMse: {
        auto p = input("positives"), n = input("negatives"), t = input("targets");
        sameLength(p, n, "positives", "negatives");
        sameLength(p, t, "positives", "targets");
        loss = marginMseLoss(p, n, t);
        break;
      }
      case LossKind::Cosine: {
        auto a = input("a"), b = input("b"), t = input("targets");
        const auto u = rows(a, "a"), v = rows(b, "b");
        sameLength(u, v, "a", "b");
        sameLength(u, t, "a", "targets");
        loss = cosineLoss(u, v, t);
        break;
      }
      case LossKind::Mnrl: {
        auto a = input("a"), b = input("b");
        const auto u = rows(a, "a"), v = rows(b, "b");
        sameLength(u, v, "a", "b");
        loss = mnrlLoss(u, v, getNumber(o, "scale", "evaluateLoss inputs"));
        break;
      }
    }
    auto grads = torch::autograd::grad({loss}, inputs, {}, false, false, /*allow_unused=*/true);
    auto out = Napi::Object::New(env);
    out.Set("loss", loss.item<double>());
    auto g = Napi::Object::New(env);
    for (size_t i = 0; i < inputs.size(); i++) {
      g.Set(names[i], toFloat64Array(env, grads[i].defined() ? grads[i] : at::zeros_like(inputs[i])));
    }
    out.Set("gradients", g);
    return out;
  });
}

/** The loss ids the addon accepts, for the test that holds the TS registry and this table together. */
Napi::Value LossNames(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const auto names = lossNames();
  auto out = Napi::Array::New(env, names.size());
  for (size_t i = 0; i < names.size(); i++) out.Set(static_cast<uint32_t>(i), names[i]);
  return out;
}

Napi::Value EngineInfo(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto out = Napi::Object::New(env);
  out.Set("torchVersion", TORCH_VERSION);
  out.Set("threads", at::get_num_threads());
  // Looked up at run time so the addon does not depend on which BLAS Debian's alternatives point libblas at.
  using ConfigFn = char* (*)();
  if (auto config = reinterpret_cast<ConfigFn>(dlsym(RTLD_DEFAULT, "openblas_get_config"))) {
    std::string blas = config();
    if (auto core = reinterpret_cast<ConfigFn>(dlsym(RTLD_DEFAULT, "openblas_get_corename"))) blas += " core=" + std::string(core());
    using ThreadsFn = int (*)();
    if (auto nt = reinterpret_cast<ThreadsFn>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"))) blas += " threads=" + std::to_string(nt());
    out.Set("blas", blas);
  }
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  installCachingAllocator();
  exports.Set("TorchBertNative", Model::Define(env));
  exports.Set("evaluateLoss", Napi::Function::New(env, EvaluateLoss));
  exports.Set("engineInfo", Napi::Function::New(env, EngineInfo));
  exports.Set("lossNames", Napi::Function::New(env, LossNames));
  return exports;
}

}  // namespace
}  // namespace rankwise

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return rankwise::Init(env, exports); }

NODE_API_MODULE(rankwise_torch, InitModule)
