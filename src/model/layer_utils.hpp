// Small pieces both model families build from: GPT-2's weight init, and
// dropout (dropout_generator.hpp) that costs nothing when it is off.
#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "loom/model/dropout_generator.hpp"

namespace loom::model {

// GPT-2's init: weights from N(0, 0.02); the two projections into the
// residual stream use 0.02 / sqrt(2 n_layer) instead.
inline constexpr double kInitStd = 0.02;

inline void init_normal(const torch::Tensor& weight, double std) {
  torch::NoGradGuard no_grad;
  weight.normal_(0.0, std);
}

// A Linear with GPT-2's init: weight N(0, std), bias (when present) zero.
inline torch::nn::Linear make_linear(std::int64_t in, std::int64_t out, bool bias, double std) {
  torch::nn::Linear linear(torch::nn::LinearOptions(in, out).bias(bias));
  init_normal(linear->weight, std);
  if (bias) {
    torch::NoGradGuard no_grad;
    linear->bias.zero_();
  }
  return linear;
}

}  // namespace loom::model
