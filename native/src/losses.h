// The training losses, shared by the model's train step and by `evaluateLoss`, so that the per-loss gradient checks
// exercise exactly the code that training runs. Every function returns a scalar (mean over the batch).
#pragma once

#include <ATen/ATen.h>

#include <string>
#include <vector>

namespace rankwise {

enum class LossKind { Bce, Mse, MarginMse, Cosine, Mnrl };

/** The loss ids the TS layer sends (src/train/losses/registry.ts); a test asserts both tables hold the same names. */
struct LossId {
  LossKind kind;
  const char* name;
};
extern const LossId kLossIds[];
extern const size_t kLossCount;

LossKind parseLossKind(const std::string& name);
const char* lossName(LossKind kind);
std::vector<std::string> lossNames();

/** BCEWithLogits(score, label), mean. */
at::Tensor bceLoss(const at::Tensor& scores, const at::Tensor& labels);
/** MSE(act(score), target), act = identity or sigmoid. */
at::Tensor mseLoss(const at::Tensor& scores, const at::Tensor& targets, bool sigmoid);
/** MSE(s_pos - s_neg, margin), as sentence-transformers' MarginMSELoss. */
at::Tensor marginMseLoss(const at::Tensor& positives, const at::Tensor& negatives, const at::Tensor& margins);
/** MSE(cos(u_i, v_i), target_i) over [B, D] embeddings, as CosineSimilarityLoss. */
at::Tensor cosineLoss(const at::Tensor& u, const at::Tensor& v, const at::Tensor& targets);
/** Cross-entropy over scale * cos(anchor_i, positive_j) with label i, as MultipleNegativesRankingLoss. */
at::Tensor mnrlLoss(const at::Tensor& anchors, const at::Tensor& positives, double scale);

}  // namespace rankwise
