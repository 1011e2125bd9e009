// FlatAdamW: AdamW over one flat buffer, one of loom-bench-step's variants.
// torch::optim::AdamW steps each parameter tensor on its own: for a small
// GPT that is a few dozen tiny ops per parameter per step, each paying
// LibTorch's dispatch overhead. Here every parameter is moved into one flat
// buffer (the weight-decay group first, so decay is one op on a prefix) and
// every gradient is a view of a second one, so a step is a handful of vector
// ops: torch::optim::AdamW's arithmetic, op for op, on one tensor. The
// benchmark weighs what that saves; Loom's trainer does not use it.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "loom/config/config.hpp"

namespace loom::bench {

class FlatAdamW {
 public:
  // Moves `module`'s trainable parameters into the flat buffer (their
  // values are kept) and points their .grad at views of the flat gradient.
  // lr, betas, eps and weight decay come from `optim`.
  FlatAdamW(torch::nn::Module& module, const config::OptimConfig& optim);

  // Autograd adds into a defined .grad in place; this checks it still did
  // after a backward pass (else the flat buffer would be stale). Throws
  // loom::Error when a gradient left the buffer.
  void check_grads_in_place() const;

  // The parameters, decay group first, then no-decay, and their gradients'
  // views into the flat buffer, in the same order.
  const std::vector<torch::Tensor>& params() const { return params_; }
  const std::vector<torch::Tensor>& grads() const { return grads_; }
  void zero_grad() { flat_grad_.zero_(); }

  // loom::train::clip_grad_norm's rule on the flat gradient; returns the
  // norm before clipping.
  double clip_grad_norm(double max_norm);

  void step();

 private:
  config::OptimConfig optim_;
  std::vector<torch::Tensor> params_, grads_;
  torch::Tensor flat_param_, flat_grad_, exp_avg_, exp_avg_sq_, denom_;
  std::int64_t decay_numel_ = 0;
  std::int64_t step_ = 0;
};

}  // namespace loom::bench
