// The parts of a GPT block: LayerNorm with an optional bias, causal
// multi-head self-attention, the MLP, and the pre-LayerNorm block that joins
// them to the residual stream. Private to the model library; GptModel
// (include/loom/model/gpt.hpp) stacks the blocks.
#pragma once

#include <cstdint>

#include <torch/torch.h>

#include "loom/config/config.hpp"

namespace loom::model {

// LibTorch's LayerNorm has a weight and a bias or neither; GPT without
// biases wants the weight alone.
class LayerNorm : public torch::nn::Module {
 public:
  LayerNorm(std::int64_t width, bool bias);
  torch::Tensor forward(const torch::Tensor& x) const;

 private:
  torch::Tensor weight_;
  torch::Tensor bias_;  // undefined without bias
};

class CausalSelfAttention : public torch::nn::Module {
 public:
  // Throws loom::UsageError when n_embd is not a multiple of n_head.
  explicit CausalSelfAttention(const config::ModelConfig& config);
  // x: [B, T, n_embd] -> [B, T, n_embd], position t attending to <= t.
  torch::Tensor forward(const torch::Tensor& x);

 private:
  // dropout(softmax(q k^T / sqrt(D) + causal bias)) v, for LibTorch without
  // a fused kernel (torch_compat.hpp).
  torch::Tensor explicit_attention(const torch::Tensor& q, const torch::Tensor& k,
                                   const torch::Tensor& v) const;

  std::int64_t n_head_;
  double dropout_;
  torch::nn::Linear c_attn_{nullptr};  // x -> [q | k | v], one matmul for all heads
  torch::nn::Linear c_proj_{nullptr};
};

class Mlp : public torch::nn::Module {
 public:
  explicit Mlp(const config::ModelConfig& config);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  bool gelu_;
  double dropout_;
  torch::nn::Linear c_fc_{nullptr};  // n_embd -> 4 n_embd
  torch::nn::Linear c_proj_{nullptr};
};

class GptBlock : public torch::nn::Module {
 public:
  explicit GptBlock(const config::ModelConfig& config);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  std::shared_ptr<LayerNorm> ln_1_;
  std::shared_ptr<CausalSelfAttention> attn_;
  std::shared_ptr<LayerNorm> ln_2_;
  std::shared_ptr<Mlp> mlp_;
};

// The std of the projections that write into the residual stream.
double residual_init_std(const config::ModelConfig& config);

}  // namespace loom::model
