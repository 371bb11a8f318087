#include "losses.h"

namespace rankwise {

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
