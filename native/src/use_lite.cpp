#include "use_lite.h"


#include <cmath>
#include <stdexcept>

namespace rankwise {

std::vector<std::pair<std::string, std::vector<int64_t>>> UseLite::parameterLayout(const UseLiteSpec& s) {
  const int64_t E = s.embeddingSize, H = s.hiddenSize, I = s.intermediateSize;
  std::vector<std::pair<std::string, std::vector<int64_t>>> out = {
      {"embeddings.word_embeddings.weight", {s.vocabSize, E}},
      {"pooler.dense.weight", {H, H}},
      {"pooler.dense.bias", {H}},
      {"encoder.layer.0.residual_projection.weight", {H, E}},
      {"encoder.layer.0.residual_projection.bias", {H}},
  };
  for (int64_t l = 0; l < s.numLayers; l++) {
    const std::string p = "encoder.layer." + std::to_string(l) + ".";
    const int64_t in = l == 0 ? E : H;
    out.push_back({p + "attention.norm.weight", {in}});
    out.push_back({p + "attention.norm.bias", {in}});
    out.push_back({p + "attention.qkv.weight", {3 * in, in}});
    out.push_back({p + "attention.qkv.bias", {3 * in}});
    out.push_back({p + "attention.output.weight", {H, in}});
    out.push_back({p + "attention.output.bias", {H}});
    out.push_back({p + "ffn.norm.weight", {H}});
    out.push_back({p + "ffn.norm.bias", {H}});
    out.push_back({p + "ffn.dense1.weight", {I, H}});
    out.push_back({p + "ffn.dense1.bias", {I}});
    out.push_back({p + "ffn.dense2.weight", {H, I}});
    out.push_back({p + "ffn.dense2.bias", {H}});
  }
  if (s.classification) {
    out.push_back({"embeddings.token_type_embeddings.weight", {s.typeVocabSize, E}});
    out.push_back({"classifier.weight", {s.numLabels, H}});
    out.push_back({"classifier.bias", {s.numLabels}});
  }
  return out;
}

UseLite::UseLite(const UseLiteSpec& spec, const std::vector<std::pair<std::string, at::Tensor>>& given)
    : Trainable(spec.float64 ? at::kDouble : at::kFloat, spec.seed), spec_(spec) {
  if (spec.numLayers < 1) throw std::invalid_argument("config: use-lite needs at least one layer");
  if (spec.embeddingSize % spec.numHeads != 0 || spec.hiddenSize % spec.numHeads != 0) {
    throw std::invalid_argument("config: embedding_size and hidden_size must be divisible by num_attention_heads");
  }
  if (spec.classification && (spec.typeVocabSize < 1 || spec.numLabels < 1)) {
    throw std::invalid_argument("config: a use-lite cross-encoder needs type_vocab_size and num_labels of at least 1");
  }
  if (spec.embeddingSize % 2 != 0) throw std::invalid_argument("config: embedding_size must be even (sin and cos halves)");
  registerParameters(parameterLayout(spec), given);

  const at::Tensor* inv = nullptr;
  for (const auto& [name, t] : given) {
    if (name == kTimingName) inv = &t;
  }
  if (!inv) throw std::invalid_argument(std::string("weights: missing tensor \"") + kTimingName + "\"");
  if (inv->numel() != spec.embeddingSize / 2) {
    throw std::invalid_argument(std::string("weights: tensor \"") + kTimingName + "\" holds " + std::to_string(inv->numel()) + " values, expected " +
                                std::to_string(spec.embeddingSize / 2));
  }
  // The graph's constant, not a parameter: TF multiplies position by the float32 timescale (rounded to float32) and
  // takes sin/cos of that, which is what the ONNX writer reproduces too.
  const auto angle = (at::arange(spec.maxPositions, at::kDouble).unsqueeze(1) * inv->to(at::kFloat).to(at::kDouble).reshape({1, -1}))
                         .to(at::kFloat)
                         .to(at::kDouble);
  timing_ = at::cat({at::sin(angle), at::cos(angle)}, 1).to(dtype_);

  wordEmb_ = param("embeddings.word_embeddings.weight");
  poolW_ = param("pooler.dense.weight");
  poolB_ = param("pooler.dense.bias");
  if (spec.classification) {
    typeEmb_ = param("embeddings.token_type_embeddings.weight");
    clsW_ = param("classifier.weight");
    clsB_ = param("classifier.bias");
  }
  for (int64_t l = 0; l < spec.numLayers; l++) {
    const std::string p = "encoder.layer." + std::to_string(l) + ".";
    Layer L{param(p + "attention.norm.weight"), param(p + "attention.norm.bias"), param(p + "attention.qkv.weight"),
            param(p + "attention.qkv.bias"),   param(p + "attention.output.weight"), param(p + "attention.output.bias"),
            at::Tensor(),                       at::Tensor(),                          param(p + "ffn.norm.weight"),
            param(p + "ffn.norm.bias"),         param(p + "ffn.dense1.weight"),        param(p + "ffn.dense1.bias"),
            param(p + "ffn.dense2.weight"),     param(p + "ffn.dense2.bias")};
    if (l == 0) {
      L.resW = param("encoder.layer.0.residual_projection.weight");
      L.resB = param("encoder.layer.0.residual_projection.bias");
    }
    layers_.push_back(L);
  }
}

bool UseLite::decaysParameter(const std::string& name) const {
  const auto ends = [&](const std::string& suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return !ends(".bias") && !ends(".norm.weight");
}

at::Tensor UseLite::attention(const at::Tensor& x, const Layer& L, const at::Tensor& maskAdd, int64_t width) const {
  const int64_t B = x.size(0), T = x.size(1), N = spec_.numHeads, d = width / N;
  // q | k | v column blocks, each with its heads side by side: exactly a [B, T, 3, N, d] view.
  const auto qkv = at::linear(x, L.qkvW, L.qkvB).view({B, T, 3, N, d}).permute({2, 0, 3, 1, 4});
  const auto scores = at::matmul(qkv[0] * (1.0 / std::sqrt(static_cast<double>(d))), qkv[1].transpose(-1, -2)) + maskAdd;
  const auto context = at::matmul(at::softmax(scores, -1), qkv[2]).transpose(1, 2).reshape({B, T, width});
  return at::linear(context, L.outW, L.outB);
}

at::Tensor UseLite::encode(const Batch& batch) {
  const int64_t B = batch.batchSize, T = std::min(batch.sequenceLength, spec_.maxPositions);
  const int64_t E = spec_.embeddingSize, H = spec_.hiddenSize;
  const auto ids = batch.inputIds.narrow(1, 0, T);
  const auto mask = batch.attentionMask.narrow(1, 0, T).to(dtype_);
  // TF's -1e9, not the dtype's lowest: a row with no valid key (an empty text) must stay finite, as in the graph.
  const auto maskAdd = (1 - mask).mul_(-1e9).view({B, 1, 1, T});

  auto x = at::embedding(wordEmb_, ids) * spec_.embeddingMultiplier + timing_.narrow(0, 0, T);
  if (typeEmb_.defined()) x = x + at::embedding(typeEmb_, batch.tokenTypeIds.narrow(1, 0, T));
  for (size_t l = 0; l < layers_.size(); l++) {
    const auto& L = layers_[l];
    const int64_t in = l == 0 ? E : H;
    const auto attn = attention(at::layer_norm(x, {in}, L.attnLnW, L.attnLnB, spec_.layerNormEps), L, maskAdd, in);
    // Layer 0 widens E -> H, so its residual is a projection of the raw input.
    auto y = (L.resW.defined() ? at::linear(x, L.resW, L.resB) : x) + attn;
    const auto f = at::linear(at::relu(at::linear(at::layer_norm(y, {H}, L.ffnLnW, L.ffnLnB, spec_.layerNormEps), L.w1, L.b1)), L.w2, L.b2);
    x = y + f;
  }
  // Padded rows never reach a valid one (their keys are masked), so zeroing them here is all the FFN masking needs.
  return x * mask.unsqueeze(-1);
}

at::Tensor UseLite::pool(const at::Tensor& tokens, const Batch& batch) {
  const int64_t T = tokens.size(1);
  const auto len = batch.attentionMask.narrow(1, 0, T).to(dtype_).sum(1, true).clamp_min(1);
  const auto z = at::tanh(at::linear(tokens.sum(1) / len, poolW_, poolB_));
  if (spec_.classification) return at::linear(z, clsW_, clsB_);
  return z / (z * z).sum(1, true).clamp_min(1e-12).sqrt();
}

at::Tensor UseLite::output(const Batch& batch) {
  at::NoGradGuard noGrad;
  return pool(encode(batch), batch);
}

at::Tensor UseLite::hiddenStates(const Batch& batch) {
  at::NoGradGuard noGrad;
  return encode(batch);
}

}  // namespace rankwise
