#include "bert.h"
#include "losses.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <dlfcn.h>

#include <cmath>
#include <limits>
#include <mutex>
#include <sstream>
#include <stdexcept>

namespace rankwise {

namespace {

/** splitmix64's output for counter `i` of the stream started at `seed`: cheap, and good enough for dropout. */
inline uint64_t splitmix64(uint64_t seed, uint64_t i) {
  uint64_t z = seed + (i + 1) * 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/** keep / (1 - p) with probability 1 - p, else 0; two 32-bit draws per hash. */
at::Tensor dropoutMask(const at::Tensor& like, double p, uint64_t seed) {
  auto mask = at::empty(like.sizes(), like.options());
  const int64_t n = mask.numel();
  const uint32_t threshold = static_cast<uint32_t>(std::min(4294967295.0, std::round(p * 4294967296.0)));
  AT_DISPATCH_FLOATING_TYPES(mask.scalar_type(), "rankwise_dropout_mask", [&] {
    scalar_t* out = mask.data_ptr<scalar_t>();
    const scalar_t keep = static_cast<scalar_t>(1.0 / (1.0 - p));
    const int64_t pairs = (n + 1) / 2;
    at::parallel_for(0, pairs, 8192, [&](int64_t begin, int64_t end) {
      for (int64_t j = begin; j < end; j++) {
        const uint64_t h = splitmix64(seed, static_cast<uint64_t>(j));
        out[2 * j] = static_cast<uint32_t>(h) >= threshold ? keep : scalar_t(0);
        if (2 * j + 1 < n) out[2 * j + 1] = static_cast<uint32_t>(h >> 32) >= threshold ? keep : scalar_t(0);
      }
    });
  });
  return mask;
}

/**
 * torch.optim.AdamW's single-tensor update, fused into one pass over p, g, m, v (the unfused ops re-read the
 * 30522 x H word embeddings about eight times per step). `gradScale` applies gradient clipping on the fly.
 */
template <typename T>
void adamwUpdate(at::Tensor& param, const at::Tensor& grad, at::Tensor& expAvg, at::Tensor& expAvgSq, double gradScale, double lr,
                 double weightDecay, const OptimizerConfig& c, double bc1, double bc2Sqrt) {
  T* p = param.data_ptr<T>();
  const T* g = grad.data_ptr<T>();
  T* m = expAvg.data_ptr<T>();
  T* v = expAvgSq.data_ptr<T>();
  const T decay = static_cast<T>(1 - lr * weightDecay), scale = static_cast<T>(gradScale), w1 = static_cast<T>(1 - c.beta1),
          b2 = static_cast<T>(c.beta2), w2 = static_cast<T>(1 - c.beta2), step = static_cast<T>(lr / bc1),
          bc2 = static_cast<T>(bc2Sqrt), eps = static_cast<T>(c.eps);
  at::parallel_for(0, param.numel(), 16384, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
      const T gi = g[i] * scale;
      const T mi = m[i] + w1 * (gi - m[i]);
      const T vi = v[i] * b2 + w2 * gi * gi;
      m[i] = mi;
      v[i] = vi;
      p[i] = p[i] * decay - step * (mi / (std::sqrt(vi) / bc2 + eps));
    }
  });
}

std::string shapeString(at::IntArrayRef shape) {
  std::ostringstream s;
  s << "[";
  for (size_t i = 0; i < shape.size(); i++) s << (i ? "," : "") << shape[i];
  s << "]";
  return s.str();
}

const char* kCheckpointFormat = "rankwise-torch-checkpoint-1";


/** OpenBLAS's thread controls when libtorch's BLAS is a pthreads OpenBLAS (Debian's libopenblas0-pthread). */
struct PthreadOpenblas {
  int (*getThreads)() = nullptr;
  void (*setThreads)(int) = nullptr;
};

PthreadOpenblas findPthreadOpenblas() {
  PthreadOpenblas out;
  void* lib = dlopen("libopenblas.so.0", RTLD_LAZY | RTLD_NOLOAD);
  if (!lib) return out;
  auto parallel = reinterpret_cast<int (*)()>(dlsym(lib, "openblas_get_parallel"));
  // 1 = pthreads; 0 (sequential) and 2 (OpenMP, shares libtorch's pool) need nothing special.
  if (parallel && parallel() == 1) {
    out.getThreads = reinterpret_cast<int (*)()>(dlsym(lib, "openblas_get_num_threads"));
    out.setThreads = reinterpret_cast<void (*)(int)>(dlsym(lib, "openblas_set_num_threads"));
    if (!out.getThreads || !out.setThreads) out = PthreadOpenblas{};
  }
  return out;
}

}  // namespace

void useThreads(int threads) {
  if (threads < 1) return;
  // With the OpenMP backend the count is per calling thread, so each libuv worker sets it for itself.
  if (at::get_num_threads() != threads) at::set_num_threads(threads);
  // A pthreads OpenBLAS runs the GEMMs (most of the work) on its own pool, sized by OPENBLAS_NUM_THREADS or the
  // machine's core count, not by libtorch; without this, `threads: 2` on a 64-core box would still start 64.
  static const PthreadOpenblas blas = findPthreadOpenblas();
  if (blas.setThreads && blas.getThreads() != threads) blas.setThreads(threads);
}

std::vector<std::pair<std::string, std::vector<int64_t>>> Bert::parameterLayout(const BertSpec& s) {
  const int64_t H = s.hiddenSize, I = s.intermediateSize;
  std::vector<std::pair<std::string, std::vector<int64_t>>> out = {
      {"embeddings.word_embeddings.weight", {s.vocabSize, H}},
      {"embeddings.position_embeddings.weight", {s.maxPositions, H}},
      {"embeddings.token_type_embeddings.weight", {s.typeVocabSize, H}},
      {"embeddings.LayerNorm.weight", {H}},
      {"embeddings.LayerNorm.bias", {H}},
  };
  for (int64_t l = 0; l < s.numLayers; l++) {
    const std::string p = "encoder.layer." + std::to_string(l) + ".";
    for (const char* qkv : {"query", "key", "value"}) {
      out.push_back({p + "attention.self." + qkv + ".weight", {H, H}});
      out.push_back({p + "attention.self." + qkv + ".bias", {H}});
    }
    out.push_back({p + "attention.output.dense.weight", {H, H}});
    out.push_back({p + "attention.output.dense.bias", {H}});
    out.push_back({p + "attention.output.LayerNorm.weight", {H}});
    out.push_back({p + "attention.output.LayerNorm.bias", {H}});
    out.push_back({p + "intermediate.dense.weight", {I, H}});
    out.push_back({p + "intermediate.dense.bias", {I}});
    out.push_back({p + "output.dense.weight", {H, I}});
    out.push_back({p + "output.dense.bias", {H}});
    out.push_back({p + "output.LayerNorm.weight", {H}});
    out.push_back({p + "output.LayerNorm.bias", {H}});
  }
  if (s.classification) {
    out.push_back({"pooler.dense.weight", {H, H}});
    out.push_back({"pooler.dense.bias", {H}});
    out.push_back({"classifier.weight", {s.numLabels, H}});
    out.push_back({"classifier.bias", {s.numLabels}});
  }
  return out;
}

bool Bert::decays(const std::string& name) {
  return name.find("bias") == std::string::npos && name.find("LayerNorm.weight") == std::string::npos;
}

double Trainable::scheduledLr(const OptimizerConfig& c, int64_t k) {
  // HF's LambdaLR starts at lambda(0), so with warm-up the first update runs at lr 0, exactly as in Python.
  if (k < c.warmupSteps) return c.lr * static_cast<double>(k) / static_cast<double>(std::max<int64_t>(1, c.warmupSteps));
  const double left = static_cast<double>(c.totalSteps - k) / static_cast<double>(std::max<int64_t>(1, c.totalSteps - c.warmupSteps));
  return c.lr * std::max(0.0, left);
}

Trainable::Trainable(at::ScalarType dtype, uint64_t seed) : dtype_(dtype), generator_(at::make_generator<at::CPUGeneratorImpl>(seed)) {}

void Trainable::registerParameters(const std::vector<std::pair<std::string, std::vector<int64_t>>>& layout,
                                   const std::vector<std::pair<std::string, at::Tensor>>& given) {
  std::unordered_map<std::string, const at::Tensor*> byName;
  for (const auto& [name, t] : given) byName[name] = &t;
  for (const auto& [name, shape] : layout) {
    auto it = byName.find(name);
    if (it == byName.end()) throw std::invalid_argument("weights: missing tensor \"" + name + "\"");
    const at::Tensor& t = *it->second;
    int64_t expected = 1;
    for (auto d : shape) expected *= d;
    if (t.numel() != expected) {
      throw std::invalid_argument("weights: tensor \"" + name + "\" holds " + std::to_string(t.numel()) + " values, expected shape " +
                                  shapeString(shape));
    }
    index_[name] = names_.size();
    names_.push_back(name);
    params_.push_back(t.reshape(shape).to(dtype_).clone().set_requires_grad(true));
  }
}

Bert::Bert(const BertSpec& spec, const std::vector<std::pair<std::string, at::Tensor>>& given)
    : Trainable(spec.float64 ? at::kDouble : at::kFloat, spec.seed), spec_(spec) {
  if (spec.hiddenSize % spec.numHeads != 0) throw std::invalid_argument("config: hidden_size is not divisible by num_attention_heads");
  registerParameters(parameterLayout(spec), given);
  wordEmb_ = param("embeddings.word_embeddings.weight");
  posEmb_ = param("embeddings.position_embeddings.weight");
  typeEmb_ = param("embeddings.token_type_embeddings.weight");
  embLnW_ = param("embeddings.LayerNorm.weight");
  embLnB_ = param("embeddings.LayerNorm.bias");
  for (int64_t l = 0; l < spec.numLayers; l++) {
    const std::string p = "encoder.layer." + std::to_string(l) + ".";
    layers_.push_back(Layer{
        param(p + "attention.self.query.weight"), param(p + "attention.self.query.bias"),
        param(p + "attention.self.key.weight"), param(p + "attention.self.key.bias"),
        param(p + "attention.self.value.weight"), param(p + "attention.self.value.bias"),
        param(p + "attention.output.dense.weight"), param(p + "attention.output.dense.bias"),
        param(p + "attention.output.LayerNorm.weight"), param(p + "attention.output.LayerNorm.bias"),
        param(p + "intermediate.dense.weight"), param(p + "intermediate.dense.bias"),
        param(p + "output.dense.weight"), param(p + "output.dense.bias"),
        param(p + "output.LayerNorm.weight"), param(p + "output.LayerNorm.bias"),
    });
  }
  if (spec.classification) {
    poolW_ = param("pooler.dense.weight");
    poolB_ = param("pooler.dense.bias");
    clsW_ = param("classifier.weight");
    clsB_ = param("classifier.bias");
  }
}

size_t Trainable::indexOf(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) throw std::invalid_argument("unknown parameter \"" + name + "\"");
  return it->second;
}

void Trainable::setParameter(size_t index, const at::Tensor& values) {
  auto& p = params_.at(index);
  if (values.numel() != p.numel()) {
    throw std::invalid_argument("setParameter: \"" + names_[index] + "\" has " + std::to_string(p.numel()) + " values " +
                                shapeString(p.sizes()) + ", got " + std::to_string(values.numel()));
  }
  at::NoGradGuard noGrad;
  p.copy_(values.reshape(p.sizes()));
}

at::Tensor Bert::dropout(const at::Tensor& x, double p, bool train) {
  if (!train || p <= 0) return x;
  if (p >= 1) return x * 0;
  // One draw from this model's generator seeds a counter-based stream for the whole mask: torch's bernoulli_ draws
  // element by element on one thread (~18 ms per attention map of MiniLM at batch 16), this is parallel and
  // does not depend on the thread count, so runs stay repeatable.
  uint64_t seed;
  {
    std::lock_guard<std::mutex> lock(generator_.mutex());
    seed = at::check_generator<at::CPUGeneratorImpl>(generator_)->random64();
  }
  return x * dropoutMask(x, p, seed);
}

at::Tensor Bert::activate(const at::Tensor& x) const {
  const auto& a = spec_.activation;
  if (a == "gelu") return at::gelu(x);
  if (a == "gelu_new" || a == "gelu_pytorch_tanh") return at::gelu(x, "tanh");
  if (a == "relu") return at::relu(x);
  throw std::invalid_argument("config: unsupported hidden_act \"" + a + "\"");
}

at::Tensor Bert::encode(const Batch& batch, bool train, bool clsOnly) {
  const int64_t B = batch.batchSize, T = batch.sequenceLength, H = spec_.hiddenSize, N = spec_.numHeads, d = H / N;
  const auto positions = at::arange(T, at::TensorOptions().dtype(at::kLong));
  // padding_idx as HF's nn.Embedding(padding_idx=pad_token_id): the pad row never receives a gradient.
  auto x = at::embedding(wordEmb_, batch.inputIds, spec_.padTokenId) + at::embedding(typeEmb_, batch.tokenTypeIds);
  x = x + at::embedding(posEmb_, positions);
  x = dropout(at::layer_norm(x, {H}, embLnW_, embLnB_, spec_.layerNormEps), spec_.hiddenDropout, train);

  // HF: (1 - mask) * finfo(dtype).min added to the scaled scores; exp() of it underflows to exactly 0.
  const double lowest = spec_.float64 ? std::numeric_limits<double>::lowest() : static_cast<double>(std::numeric_limits<float>::lowest());
  const auto maskAdd = (1 - batch.attentionMask.to(dtype_)).mul_(lowest).view({B, 1, 1, T});
  const double invSqrtD = 1.0 / std::sqrt(static_cast<double>(d));
  // Expanded once per batch: baddbmm then adds the mask and applies the 1/sqrt(d) scale inside the score GEMM.
  const auto maskFull = maskAdd.expand({B, N, T, T}).reshape({B * N, T, T});
  const auto heads = [&](const at::Tensor& t, int64_t rows) { return t.view({B, rows, N, d}).transpose(1, 2).reshape({B * N, rows, d}); };
  for (size_t l = 0; l < layers_.size(); l++) {
    const auto& L = layers_[l];
    // A CLS head reads token 0 of the last layer only, and after attention tokens no longer mix: that layer needs
    // keys and values for every token but queries, FFN and norms for token 0 alone (about 14% of a MiniLM step).
    const bool narrow = clsOnly && l + 1 == layers_.size();
    const int64_t rows = narrow ? 1 : T;
    at::Tensor q, k, v;
    if (narrow) {
      const auto kv = at::linear(x, at::cat({L.kW, L.vW}), at::cat({L.kB, L.vB})).view({B, T, 2, H});
      k = heads(kv.select(2, 0), T);
      v = heads(kv.select(2, 1), T);
      q = heads(at::linear(x.narrow(1, 0, 1), L.qW, L.qB), 1);
    } else {
      // One [3H, H] projection instead of three [H, H] ones: a wider GEMM, same math.
      const auto qkv = at::linear(x, at::cat({L.qW, L.kW, L.vW}), at::cat({L.qB, L.kB, L.vB})).view({B, T, 3, H});
      q = heads(qkv.select(2, 0), T);
      k = heads(qkv.select(2, 1), T);
      v = heads(qkv.select(2, 2), T);
    }
    const auto scores = at::baddbmm(narrow ? maskFull.narrow(1, 0, 1) : maskFull, q, k.transpose(1, 2), 1.0, invSqrtD);
    const auto probs = dropout(at::softmax(scores, -1), spec_.attentionDropout, train);
    const auto context = at::bmm(probs, v).view({B, N, rows, d}).transpose(1, 2).reshape({B, rows, H});
    const auto residual = narrow ? x.narrow(1, 0, 1) : x;
    const auto attn = dropout(at::linear(context, L.aoW, L.aoB), spec_.hiddenDropout, train);
    const auto h1 = at::layer_norm(attn + residual, {H}, L.aoLnW, L.aoLnB, spec_.layerNormEps);
    const auto inter = activate(at::linear(h1, L.iW, L.iB));
    const auto out = dropout(at::linear(inter, L.oW, L.oB), spec_.hiddenDropout, train);
    x = at::layer_norm(out + h1, {H}, L.oLnW, L.oLnB, spec_.layerNormEps);
  }
  return x;
}

at::Tensor Bert::head(const at::Tensor& hidden, const Batch& batch, bool train) {
  if (spec_.classification) {
    const auto pooled = at::tanh(at::linear(hidden.select(1, 0), poolW_, poolB_));
    return at::linear(dropout(pooled, spec_.classifierDropout, train), clsW_, clsB_);
  }
  if (!spec_.meanPooling) return hidden.select(1, 0);
  // sentence-transformers' mean pooling: the clamp only matters for an all-padding row.
  const auto m = batch.attentionMask.to(dtype_).unsqueeze(-1);
  return (hidden * m).sum(1) / m.sum(1).clamp_min(1e-9);
}

at::Tensor Bert::output(const Batch& batch) {
  at::NoGradGuard noGrad;
  return head(encode(batch, false, readsClsOnly()), batch, false);
}

at::Tensor Bert::hiddenStates(const Batch& batch) {
  at::NoGradGuard noGrad;
  return encode(batch, false, false);
}

void Trainable::checkRequest(const Request& r) const {
  const std::string kind = lossName(r.kind);
  const bool scoreLoss = r.kind == LossKind::Bce || r.kind == LossKind::Mse || r.kind == LossKind::MarginMse;
  if (scoreLoss && !classification()) throw std::invalid_argument("loss \"" + kind + "\" needs a cross-encoder (head 'sequence-classification')");
  if (!scoreLoss && classification()) throw std::invalid_argument("loss \"" + kind + "\" needs a bi-encoder (head 'none')");
  if (scoreLoss && numLabels() != 1) {
    throw std::invalid_argument("loss \"" + kind + "\" needs a one-logit model, this one has " + std::to_string(numLabels()) + " labels");
  }
  const size_t wanted = (r.kind == LossKind::Bce || r.kind == LossKind::Mse) ? 1 : 2;
  if (r.batches.size() != wanted) throw std::invalid_argument("loss \"" + kind + "\": expected " + std::to_string(wanted) + " batches");
  const int64_t B = r.batches[0].batchSize;
  for (const auto& b : r.batches) {
    if (b.batchSize != B) throw std::invalid_argument("loss \"" + kind + "\": both batches must hold the same number of rows");
  }
  if (r.kind != LossKind::Mnrl && (!r.values.defined() || r.values.numel() != B)) {
    throw std::invalid_argument("loss \"" + kind + "\": expected " + std::to_string(B) + " targets, one per row");
  }
}

at::Tensor Trainable::loss(const Request& r, bool train) {
  checkRequest(r);
  auto run = [&](const Batch& b) { return this->run(b, train); };
  const auto values = r.values.defined() ? r.values.to(dtype_) : at::Tensor();
  switch (r.kind) {
    case LossKind::Bce: return bceLoss(run(r.batches[0]).select(1, 0), values);
    case LossKind::Mse: return mseLoss(run(r.batches[0]).select(1, 0), values, r.sigmoid);
    case LossKind::MarginMse: {
      const auto pos = run(r.batches[0]).select(1, 0);
      return marginMseLoss(pos, run(r.batches[1]).select(1, 0), values);
    }
    case LossKind::Cosine: {
      const auto u = run(r.batches[0]);
      return cosineLoss(u, run(r.batches[1]), values);
    }
    case LossKind::Mnrl: {
      const auto a = run(r.batches[0]);
      return mnrlLoss(a, run(r.batches[1]), r.scale);
    }
  }
  throw std::logic_error("unreachable loss kind");
}

void Trainable::configureOptimizer(const OptimizerConfig& c) {
  optim_ = c;
  optimizerConfigured_ = true;
  step_ = 0;
  expAvg_.clear();
  expAvgSq_.clear();
  for (const auto& p : params_) {
    expAvg_.push_back(at::zeros_like(p).set_requires_grad(false));
    expAvgSq_.push_back(at::zeros_like(p).set_requires_grad(false));
  }
}

StepResult Trainable::trainStep(const Request& r) {
  if (!optimizerConfigured_) throw std::logic_error("trainStep: call configureOptimizer() first");
  const auto lossT = loss(r, true);
  const double lossV = lossT.item<double>();

  if (!std::isfinite(lossV)) throw std::runtime_error("trainStep: the loss is not finite (" + std::to_string(lossV) + "); weights left unchanged");
  auto grads = torch::autograd::grad({lossT}, params_, {}, false, false, /*allow_unused=*/true);

  // clip_grad_norm_ as torch does it: the 2-norm of the per-tensor 2-norms, one shared scale factor.
  std::vector<at::Tensor> norms;
  for (const auto& g : grads) if (g.defined()) norms.push_back(g.norm(2));
  const double total = norms.empty() ? 0.0 : at::stack(norms).norm(2).item<double>();
  if (!std::isfinite(total)) throw std::runtime_error("trainStep: the gradient norm is not finite; weights left unchanged");
  at::NoGradGuard noGrad;
  double gradScale = 1;
  if (optim_.maxGradNorm > 0 && std::isfinite(optim_.maxGradNorm)) {
    const double coef = optim_.maxGradNorm / (total + 1e-6);
    if (coef < 1) gradScale = coef;
  }

  const double lr = scheduledLr(optim_, step_);
  step_ += 1;
  const double bc1 = 1 - std::pow(optim_.beta1, static_cast<double>(step_));
  const double bc2Sqrt = std::sqrt(1 - std::pow(optim_.beta2, static_cast<double>(step_)));
  for (size_t i = 0; i < params_.size(); i++) {
    if (!grads[i].defined()) continue;
    const auto g = grads[i].contiguous();
    const double wd = decaysParameter(names_[i]) ? optim_.weightDecay : 0.0;
    if (dtype_ == at::kDouble) adamwUpdate<double>(params_[i], g, expAvg_[i], expAvgSq_[i], gradScale, lr, wd, optim_, bc1, bc2Sqrt);
    else adamwUpdate<float>(params_[i], g, expAvg_[i], expAvgSq_[i], gradScale, lr, wd, optim_, bc1, bc2Sqrt);
  }
  return StepResult{lossV, total, lr, step_};
}

std::pair<double, std::vector<at::Tensor>> Trainable::lossAndGradients(const Request& r, const std::vector<size_t>& indices) {
  if (indices.empty()) {
    at::NoGradGuard noGrad;
    return {loss(r, false).item<double>(), {}};
  }
  const auto lossT = loss(r, false);
  std::vector<at::Tensor> inputs;
  for (auto i : indices) inputs.push_back(params_.at(i));
  auto grads = torch::autograd::grad({lossT}, inputs, {}, false, false, /*allow_unused=*/true);
  std::vector<at::Tensor> out;
  for (size_t k = 0; k < grads.size(); k++) {
    out.push_back(grads[k].defined() ? grads[k].to(at::kDouble).contiguous().reshape({-1}) : at::zeros({inputs[k].numel()}, at::kDouble));
  }
  return {lossT.item<double>(), out};
}

void Trainable::saveCheckpoint(const std::string& path) const {
  torch::serialize::OutputArchive ar;
  std::string joined;
  for (const auto& n : names_) joined += n + "\n";
  ar.write("format", c10::IValue(std::string(kCheckpointFormat)));
  ar.write("names", c10::IValue(joined));
  // Tensor keys are plain indices: the archive is a TorchScript module underneath and dotted keys are not safe there.
  for (size_t i = 0; i < params_.size(); i++) ar.write("param_" + std::to_string(i), params_[i].detach().clone());
  ar.write("optimizer_configured", c10::IValue(optimizerConfigured_));
  if (optimizerConfigured_) {
    ar.write("optimizer", at::tensor(std::vector<double>{optim_.lr, optim_.weightDecay, static_cast<double>(optim_.warmupSteps),
                                                         static_cast<double>(optim_.totalSteps), optim_.maxGradNorm, optim_.beta1,
                                                         optim_.beta2, optim_.eps},
                                     at::kDouble));
    ar.write("step", c10::IValue(step_));
    for (size_t i = 0; i < params_.size(); i++) {
      ar.write("exp_avg_" + std::to_string(i), expAvg_[i].clone());
      ar.write("exp_avg_sq_" + std::to_string(i), expAvgSq_[i].clone());
    }
  }
  at::Tensor rng;
  {
    std::lock_guard<std::mutex> lock(generator_.mutex());
    rng = generator_.get_state();
  }
  ar.write("rng", rng);
  try {
    ar.save_to(path);
  } catch (const c10::Error& e) {
    throw std::runtime_error("saveCheckpoint: " + path + ": " + e.what_without_backtrace());
  }
}

void Trainable::loadCheckpoint(const std::string& path) {
  torch::serialize::InputArchive ar;
  try {
    ar.load_from(path);
  } catch (const c10::Error& e) {
    throw std::runtime_error("loadCheckpoint: " + path + ": " + e.what_without_backtrace());
  }
  c10::IValue v;
  if (!ar.try_read("format", v) || !v.isString() || v.toStringRef() != kCheckpointFormat) {
    throw std::runtime_error("loadCheckpoint: " + path + " is not a rankwise torch checkpoint");
  }
  ar.read("names", v);
  std::string joined;
  for (const auto& n : names_) joined += n + "\n";
  if (v.toStringRef() != joined) throw std::runtime_error("loadCheckpoint: " + path + " holds a model with different parameters");

  auto readTensor = [&](const std::string& key, size_t i) {
    at::Tensor t;
    ar.read(key, t);
    const auto& like = params_[i];
    if (!t.sizes().equals(like.sizes())) {
      throw std::runtime_error("loadCheckpoint: " + path + ": \"" + names_[i] + "\" has shape " + shapeString(t.sizes()) + ", this model's has " +
                               shapeString(like.sizes()));
    }
    return t.to(like.scalar_type()).contiguous();
  };
  // Everything is read and checked before anything is changed, so a bad file leaves the model as it was.
  std::vector<at::Tensor> params, m, s;
  for (size_t i = 0; i < params_.size(); i++) params.push_back(readTensor("param_" + std::to_string(i), i));
  ar.read("optimizer_configured", v);
  const bool configured = v.toBool();
  OptimizerConfig config;
  int64_t step = 0;
  if (configured) {
    at::Tensor o;
    ar.read("optimizer", o);
    auto a = o.accessor<double, 1>();
    config = OptimizerConfig{a[0], a[1], static_cast<int64_t>(a[2]), static_cast<int64_t>(a[3]), a[4], a[5], a[6], a[7]};
    ar.read("step", v);
    step = v.toInt();
    for (size_t i = 0; i < params_.size(); i++) {
      m.push_back(readTensor("exp_avg_" + std::to_string(i), i));
      s.push_back(readTensor("exp_avg_sq_" + std::to_string(i), i));
    }
  }
  at::Tensor rng;
  ar.read("rng", rng);

  at::NoGradGuard noGrad;
  for (size_t i = 0; i < params_.size(); i++) params_[i].copy_(params[i]);
  optimizerConfigured_ = configured;
  optim_ = config;
  step_ = step;
  expAvg_ = m;
  expAvgSq_ = s;
  std::lock_guard<std::mutex> lock(generator_.mutex());
  generator_.set_state(rng);
}

}  // namespace rankwise
