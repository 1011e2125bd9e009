// FlatAdamW (flat_adamw.hpp): building the flat buffers and the update.
#include "flat_adamw.hpp"

#include <cmath>

#include <fmt/format.h>

#include "loom/core/error.hpp"
#include "loom/train/optimizer.hpp"

namespace loom::bench {

FlatAdamW::FlatAdamW(torch::nn::Module& module, const config::OptimConfig& optim) : optim_(optim) {
  train::ParameterGroups groups = train::split_by_weight_decay(module);
  params_ = groups.decay;
  params_.insert(params_.end(), groups.no_decay.begin(), groups.no_decay.end());
  std::int64_t total = 0;
  for (const torch::Tensor& p : params_)
    total += p.numel();
  for (const torch::Tensor& p : groups.decay)
    decay_numel_ += p.numel();
  flat_param_ = torch::empty({total});
  flat_grad_ = torch::zeros({total});
  exp_avg_ = torch::zeros({total});
  exp_avg_sq_ = torch::zeros({total});
  denom_ = torch::empty({total});
  torch::NoGradGuard no_grad;
  std::int64_t offset = 0;
  for (torch::Tensor& p : params_) {
    torch::Tensor view = flat_param_.narrow(0, offset, p.numel()).view(p.sizes());
    view.copy_(p);
    p.set_data(view);
    grads_.push_back(flat_grad_.narrow(0, offset, p.numel()).view(p.sizes()));
    p.mutable_grad() = grads_.back();
    offset += p.numel();
  }
}

void FlatAdamW::check_grads_in_place() const {
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (params_[i].grad().data_ptr() != grads_[i].data_ptr()) {
      throw Error(fmt::format(
          "flat AdamW: parameter {}'s gradient left the flat buffer after backward", i));
    }
  }
}

double FlatAdamW::clip_grad_norm(double max_norm) {
  const double norm = flat_grad_.norm().item<double>();
  if (max_norm > 0 && std::isfinite(norm) && norm > max_norm)
    flat_grad_.mul_(max_norm / (norm + 1e-6));
  return norm;
}

void FlatAdamW::step() {
  torch::NoGradGuard no_grad;
  ++step_;
  const double beta1 = optim_.beta1, beta2 = optim_.beta2, lr = optim_.lr;
  if (optim_.weight_decay != 0)
    flat_param_.narrow(0, 0, decay_numel_).mul_(1 - lr * optim_.weight_decay);
  const double correction1 = 1 - std::pow(beta1, step_);
  const double correction2 = 1 - std::pow(beta2, step_);
  exp_avg_.mul_(beta1).add_(flat_grad_, 1 - beta1);
  exp_avg_sq_.mul_(beta2).addcmul_(flat_grad_, flat_grad_, 1 - beta2);
  torch::sqrt_out(denom_, exp_avg_sq_).div_(std::sqrt(correction2)).add_(optim_.eps);
  flat_param_.addcdiv_(exp_avg_, denom_, -lr / correction1);
}

}  // namespace loom::bench
