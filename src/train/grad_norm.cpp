// Global gradient norm and clipping; see grad_norm.hpp.
#include "loom/train/grad_norm.hpp"

#include <cmath>

#include <torch/torch.h>

namespace loom::train {
namespace {

std::vector<torch::Tensor> defined_grads(const std::vector<torch::Tensor>& parameters) {
  std::vector<torch::Tensor> grads;
  for (const torch::Tensor& parameter : parameters) {
    if (parameter.grad().defined()) grads.push_back(parameter.grad());
  }
  return grads;
}

double norm_of(const std::vector<torch::Tensor>& grads) {
  if (grads.empty()) return 0.0;
  std::vector<torch::Tensor> norms;
  norms.reserve(grads.size());
  for (const torch::Tensor& grad : grads) {
    // Half-precision gradients are reduced in float32 so that the sum of
    // squares cannot overflow at 65504.
    norms.push_back(at::linalg_vector_norm(
        grad, 2, c10::nullopt, false, torch::promote_types(grad.scalar_type(), torch::kFloat)));
  }
  return at::linalg_vector_norm(torch::stack(norms), 2, c10::nullopt, false, c10::nullopt)
      .item<double>();
}

}  // namespace

double global_grad_norm(const std::vector<torch::Tensor>& parameters) {
  return norm_of(defined_grads(parameters));
}

double clip_grad_norm(const std::vector<torch::Tensor>& parameters, double max_norm) {
  const std::vector<torch::Tensor> grads = defined_grads(parameters);
  const double norm = norm_of(grads);
  if (max_norm > 0 && std::isfinite(norm) && norm > max_norm) {
    const double scale = max_norm / (norm + 1e-6);
    torch::NoGradGuard no_grad;
    for (const torch::Tensor& grad : grads)
      grad.mul_(scale);
  }
  return norm;
}

}  // namespace loom::train
