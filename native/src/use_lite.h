// Universal Sentence Encoder Lite (../shared/notes/use-lite-architecture.md) as a trainable encoder: pre-LN
// transformer whose first layer widens embedding_size -> hidden_size, pooled by masked mean -> tanh dense -> L2.
// The bi-encoder is the same function as the ONNX graph src/models/use-lite/graph.ts writes from these weights.
#pragma once

#include "bert.h"

#include <limits>

namespace rankwise {

struct UseLiteSpec {
  int64_t vocabSize = 8002;
  int64_t embeddingSize = 256;
  int64_t hiddenSize = 512;
  int64_t numLayers = 2;
  int64_t numHeads = 4;
  int64_t intermediateSize = 1536;
  int64_t maxPositions = 128;
  double layerNormEps = 1e-6;
  double embeddingMultiplier = 2;
  /**
   * Cross-encoder: a learned segment embedding [typeVocabSize, E] joins x0 (zeros keep the pretrained function), and
   * `classifier` [numLabels, H] reads the tanh-pooled vector (before the L2 norm) instead of the bi-encoder output.
   */
  bool classification = false;
  int64_t typeVocabSize = 2;
  int64_t numLabels = 1;
  uint64_t seed = 0;
  int threads = 1;
  bool float64 = false;
};

class UseLite : public Trainable {
 public:
  static constexpr const char* kTimingName = "embeddings.timing_inv_timescales";

  /** `given` holds every tensor of `parameterLayout` plus the fixed `kTimingName` inverse timescales [E / 2]. */
  UseLite(const UseLiteSpec& spec, const std::vector<std::pair<std::string, at::Tensor>>& given);

  /** The trainable tensors (torch Linear layout [out, in]), in a fixed order; the timescales are not among them. */
  static std::vector<std::pair<std::string, std::vector<int64_t>>> parameterLayout(const UseLiteSpec& spec);

  // Longer batches are accepted and clipped to maxPositions, as the original graph drops later tokens.
  BatchLimits limits() const override {
    return {spec_.vocabSize, spec_.classification ? spec_.typeVocabSize : 1, std::numeric_limits<int32_t>::max(), "int32"};
  }

  /** The L2-normalised sentence embedding [B, H], or a cross-encoder's logits [B, L]. */
  at::Tensor output(const Batch& batch) override;
  /** Final per-token states, padded rows zeroed, [B, min(T, maxPositions), H]. */
  at::Tensor hiddenStates(const Batch& batch) override;

 protected:
  at::Tensor run(const Batch& batch, bool train) override { return pool(encode(batch), batch); }
  bool classification() const override { return spec_.classification; }
  int64_t numLabels() const override { return spec_.numLabels; }
  /** As the BERT rule: no decay on biases and LayerNorm scales. */
  bool decaysParameter(const std::string& name) const override;

 private:
  struct Layer {
    at::Tensor attnLnW, attnLnB, qkvW, qkvB, outW, outB, resW, resB, ffnLnW, ffnLnB, w1, b1, w2, b2;
  };

  /** Per-token states [B, T', H] (T' = min(T, maxPositions)), padded rows zeroed. */
  at::Tensor encode(const Batch& batch);
  at::Tensor pool(const at::Tensor& tokens, const Batch& batch);
  at::Tensor attention(const at::Tensor& x, const Layer& L, const at::Tensor& maskAdd, int64_t width) const;

  UseLiteSpec spec_;
  at::Tensor wordEmb_, typeEmb_, timing_, poolW_, poolB_, clsW_, clsB_;
  std::vector<Layer> layers_;
};

}  // namespace rankwise
