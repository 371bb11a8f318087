#include "losses.h"

#include <stdexcept>

namespace rankwise {

const LossId kLossIds[] = {
    {LossKind::Bce, "bce"}, {LossKind::Mse, "mse"}, {LossKind::MarginMse, "margin-mse"}, {LossKind::Cosine, "cosine"}, {LossKind::Mnrl, "mnrl"},
};
const size_t kLossCount = sizeof(kLossIds) / sizeof(kLossIds[0]);

LossKind parseLossKind(const std::string& name) {
  for (size_t i = 0; i < kLossCount; i++) {
    if (name == kLossIds[i].name) return kLossIds[i].kind;
  }
  std::string expected;
  for (size_t i = 0; i < kLossCount; i++) expected += (i ? ", " : "") + std::string(kLossIds[i].name);
  throw std::invalid_argument("loss: expected one of " + expected + ", got \"" + name + "\"");
}

const char* lossName(LossKind kind) {
  for (size_t i = 0; i < kLossCount; i++) {
    if (kLossIds[i].kind == kind) return kLossIds[i].name;
  }
  return "?";
}

std::vector<std::string> lossNames() {
  std::vector<std::string> names;
  for (size_t i = 0; i < kLossCount; i++) names.emplace_back(kLossIds[i].name);
  return names;
}

at::Tensor bceLoss(const at::Tensor& scores, const at::Tensor& labels) {
  return at::binary_cross_entropy_with_logits(scores, labels);
}

at::Tensor mseLoss(const at::Tensor& scores, const at::Tensor& targets, bool sigmoid) {
  return at::mse_loss(sigmoid ? at::sigmoid(scores) : scores, targets);
}

at::Tensor marginMseLoss(const at::Tensor& positives, const at::Tensor& negatives, const at::Tensor& margins) {
  return at::mse_loss(positives - negatives, margins);
}

at::Tensor cosineLoss(const at::Tensor& u, const at::Tensor& v, const at::Tensor& targets) {
  // eps 1e-8 is torch.cosine_similarity's default, which sentence-transformers relies on.
  return at::mse_loss(at::cosine_similarity(u, v, 1, 1e-8), targets);
}

namespace {
// F.normalize(x, p=2, dim=1): the norm is clamped, not the denominator smoothed, so unit vectors pass unchanged.
at::Tensor normalizeRows(const at::Tensor& x) {
  return x / x.norm(2, {1}, true).clamp_min(1e-12);
}
}  // namespace

at::Tensor mnrlLoss(const at::Tensor& anchors, const at::Tensor& positives, double scale) {
  const auto scores = at::matmul(normalizeRows(anchors), normalizeRows(positives).t()) * scale;
  const auto labels = at::arange(anchors.size(0), at::TensorOptions().dtype(at::kLong));
  return at::cross_entropy_loss(scores, labels);
}

}  // namespace rankwise
