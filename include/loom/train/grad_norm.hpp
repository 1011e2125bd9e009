// The global gradient norm, and clipping to it. The trainer logs the norm at
// every step, clipped or not, because a norm that creeps up is the first
// sign of a run about to diverge. With fp16, call these after the loss
// scaler has unscaled the gradients, or the norm is the scaled one.
#pragma once

#include <vector>

#include <torch/types.h>

namespace loom::train {

// The L2 norm of all gradients together, as if concatenated into one vector,
// computed in float32 at least. Parameters without a gradient are skipped;
// none at all gives 0.
double global_grad_norm(const std::vector<torch::Tensor>& parameters);

// Returns global_grad_norm, the norm before clipping. When max_norm > 0 and
// the norm exceeds it, scales every gradient by max_norm / (norm + 1e-6)
// (torch's clip_grad_norm_ rule). max_norm 0 (optim.grad_clip's "no
// clipping") only measures. A non-finite norm leaves the gradients as they
// are: scaling would turn an inf into nan and hide which one the step saw.
double clip_grad_norm(const std::vector<torch::Tensor>& parameters, double max_norm);

}  // namespace loom::train
