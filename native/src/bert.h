// BERT (post-LayerNorm, as Hugging Face's BertModel / BertForSequenceClassification) on libtorch, with the losses,
// AdamW and linear warm-up/decay schedule that rankwise's fine-tuning uses. Knows nothing about N-API: addon.cpp
// converts JS values to these types and runs the heavy calls on worker threads.
#pragma once

#include <ATen/ATen.h>
#include <ATen/core/Generator.h>

#include "losses.h"

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace rankwise {

struct BertSpec {
  int64_t vocabSize = 0;
  int64_t hiddenSize = 0;
  int64_t numLayers = 0;
  int64_t numHeads = 0;
  int64_t intermediateSize = 0;
  int64_t maxPositions = 0;
  int64_t typeVocabSize = 0;
  int64_t numLabels = 1;
  int64_t padTokenId = -1;  // -1: none
  double layerNormEps = 1e-12;
  std::string activation = "gelu";  // gelu | gelu_new | gelu_pytorch_tanh | relu
  double hiddenDropout = 0.1;
  double attentionDropout = 0.1;
  double classifierDropout = 0.1;
  bool classification = true;  // false: plain encoder, no pooler/classifier
  bool meanPooling = true;     // encoders only; false = CLS token
  uint64_t seed = 0;
  int threads = 1;
  bool float64 = false;
};

/** A right-padded batch; int64 tensors [B, T], already range-checked. */
struct Batch {
  at::Tensor inputIds;
  at::Tensor tokenTypeIds;
  at::Tensor attentionMask;
  int64_t batchSize = 0;
  int64_t sequenceLength = 0;
};

/** A training request: `batches` are [batch] for bce/mse, [positives, negatives] / [a, b] / [anchors, positives]. */
struct Request {
  LossKind kind = LossKind::Bce;
  std::vector<Batch> batches;
  at::Tensor values;  // labels / targets / margins, float64 [B]; undefined for mnrl
  bool sigmoid = false;
  double scale = 20.0;
};

struct OptimizerConfig {
  double lr = 2e-5;
  double weightDecay = 0.01;
  int64_t warmupSteps = 0;
  int64_t totalSteps = 1;
  double maxGradNorm = 1.0;  // <= 0 or non-finite: report the norm, never clip
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
};

struct StepResult {
  double loss = 0;
  double gradNorm = 0;
  double lr = 0;
  int64_t step = 0;
};

/** What readBatch accepts for a model: token ids below vocabSize, type ids below typeVocabSize, at most maxLength. */
struct BatchLimits {
  int64_t vocabSize = 0;
  int64_t typeVocabSize = 0;
  int64_t maxLength = 0;
  const char* maxLengthName = "max_position_embeddings";
};

/**
 * What every trainable architecture shares: named parameters, the losses on top of the model's output, AdamW with
 * HF's schedule, gradients for checks, and checkpoints. A subclass registers its parameters and defines `run`.
 */
class Trainable {
 public:
  virtual ~Trainable() = default;

  const std::vector<std::string>& names() const { return names_; }
  const at::Tensor& parameter(size_t i) const { return params_[i]; }
  size_t indexOf(const std::string& name) const;
  void setParameter(size_t index, const at::Tensor& values);

  virtual BatchLimits limits() const = 0;
  /** Eval mode, no grad: logits [B, L] (classification) or pooled embeddings [B, H] (encoder). */
  virtual at::Tensor output(const Batch& batch) = 0;
  /** Eval mode, no grad: per-token states [B, T, H]. */
  virtual at::Tensor hiddenStates(const Batch& batch) = 0;

  void configureOptimizer(const OptimizerConfig& config);
  StepResult trainStep(const Request& request);
  /** Eval mode; gradients (float64, flattened) for the requested parameter indices. */
  std::pair<double, std::vector<at::Tensor>> lossAndGradients(const Request& request, const std::vector<size_t>& indices);

  void saveCheckpoint(const std::string& path) const;
  void loadCheckpoint(const std::string& path);

  /** The learning rate used by the step with this 0-based index, as HF's get_linear_schedule_with_warmup. */
  static double scheduledLr(const OptimizerConfig& config, int64_t stepIndex);

 protected:
  Trainable(at::ScalarType dtype, uint64_t seed);

  /** Copies `given` into trainable tensors in `layout` order, checking that each exists with the right size. */
  void registerParameters(const std::vector<std::pair<std::string, std::vector<int64_t>>>& layout,
                          const std::vector<std::pair<std::string, at::Tensor>>& given);
  at::Tensor param(const std::string& name) const { return params_[indexOf(name)]; }

  /** The model's output for the losses: logits [B, L] when `classification()`, else sentence vectors [B, H]. */
  virtual at::Tensor run(const Batch& batch, bool train) = 0;
  virtual bool classification() const = 0;
  virtual int64_t numLabels() const = 0;
  /** Whether AdamW's weight decay applies to this parameter. */
  virtual bool decaysParameter(const std::string& name) const = 0;

  at::ScalarType dtype_;
  mutable at::Generator generator_;  // mutable: reading its state for a checkpoint takes its mutex

 private:
  at::Tensor loss(const Request& request, bool train);
  void checkRequest(const Request& request) const;

  std::vector<std::string> names_;
  std::vector<at::Tensor> params_;
  std::unordered_map<std::string, size_t> index_;

  bool optimizerConfigured_ = false;
  OptimizerConfig optim_;
  int64_t step_ = 0;
  std::vector<at::Tensor> expAvg_, expAvgSq_;
};

class Bert : public Trainable {
 public:
  /** `params` by canonical name (no `bert.` prefix; `classifier.*` for the head), in `parameterNames(spec)` order. */
  Bert(const BertSpec& spec, const std::vector<std::pair<std::string, at::Tensor>>& params);

  /** Every trainable tensor the architecture has, with its shape, in a fixed order. */
  static std::vector<std::pair<std::string, std::vector<int64_t>>> parameterLayout(const BertSpec& spec);

  const BertSpec& spec() const { return spec_; }
  BatchLimits limits() const override { return {spec_.vocabSize, spec_.typeVocabSize, spec_.maxPositions}; }

  at::Tensor output(const Batch& batch) override;
  at::Tensor hiddenStates(const Batch& batch) override;

  /** HF's no_decay rule: any bias, and LayerNorm weights. */
  static bool decays(const std::string& name);

 protected:
  at::Tensor run(const Batch& batch, bool train) override { return head(encode(batch, train, readsClsOnly()), batch, train); }
  bool classification() const override { return spec_.classification; }
  int64_t numLabels() const override { return spec_.numLabels; }
  bool decaysParameter(const std::string& name) const override { return decays(name); }

 private:
  struct Layer {
    at::Tensor qW, qB, kW, kB, vW, vB, aoW, aoB, aoLnW, aoLnB, iW, iB, oW, oB, oLnW, oLnB;
  };

  at::Tensor dropout(const at::Tensor& x, double p, bool train);
  at::Tensor activate(const at::Tensor& x) const;
  /** last_hidden_state [B, T, H]; with `clsOnly`, [B, 1, H] for token 0 alone (same values, less work). */
  at::Tensor encode(const Batch& batch, bool train, bool clsOnly);
  bool readsClsOnly() const { return spec_.classification || !spec_.meanPooling; }
  at::Tensor head(const at::Tensor& hidden, const Batch& batch, bool train);

  BertSpec spec_;
  at::Tensor wordEmb_, posEmb_, typeEmb_, embLnW_, embLnB_, poolW_, poolB_, clsW_, clsB_;
  std::vector<Layer> layers_;
};

/** Runs `fn` with this model's intra-op thread count on the calling (worker) thread. */
void useThreads(int threads);

}  // namespace rankwise
