// AdamW as GPT training uses it: decoupled weight decay on the matrices
// (linear and embedding weights, anything of 2+ dimensions) and none on
// biases and LayerNorm gains, whose decay toward 0 only hurts. Two parameter
// groups in a fixed order, so a saved optimizer state loads back into the
// optimizer built for the same model.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include <torch/nn/module.h>
#include <torch/optim/adamw.h>

#include "loom/config/config.hpp"

namespace loom::train {

// The optimizer's group indices.
inline constexpr std::size_t kDecayGroup = 0;
inline constexpr std::size_t kNoDecayGroup = 1;

struct ParameterGroups {
  std::vector<torch::Tensor> decay;     // 2+ dimensions, in module order
  std::vector<torch::Tensor> no_decay;  // 0 or 1 dimension, in module order
};

// Splits the module's trainable parameters by dimension. A tensor that is
// registered twice (a tied embedding and output projection) is listed once,
// where it first appears: listed twice, the optimizer would step it twice.
ParameterGroups split_by_weight_decay(torch::nn::Module& module);

// AdamW over split_by_weight_decay's two groups (kDecayGroup with
// optim.weight_decay, kNoDecayGroup with 0; either may be empty), betas and
// eps from `optim`, and optim.lr as the learning rate until
// set_learning_rate changes it.
std::unique_ptr<torch::optim::AdamW> make_adamw(torch::nn::Module& module,
                                                const config::OptimConfig& optim);

// Sets the learning rate of every parameter group (the schedule's value for
// this step).
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

}  // namespace loom::train
