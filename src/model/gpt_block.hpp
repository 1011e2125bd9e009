// The parts of a GPT block: LayerNorm with an optional bias, causal
// multi-head self-attention, the MLP, and the pre-LayerNorm block that joins
// them to the residual stream, each as a training forward and as an
// incremental decode step against a key/value cache. Private to the model
// library; GptModel (include/loom/model/gpt.hpp) stacks the blocks.
#pragma once

#include <array>
#include <cstdint>

#include <torch/torch.h>

#include "loom/config/config.hpp"

namespace loom::model {

class DecodeFeed;
class LayerKvCache;

// Which of a decode step's new ids go on past attention: all of them, or
// only each row's last (the top layer: the others matter to later ids only
// through the keys and values they leave in the cache).
enum class DecodeOutputs { all_ids, last_ids };

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

  // Inference only (no dropout). x: [rows, width, n_embd], the feed's new
  // ids; their keys and values join `cache`, and each attends to its row's
  // cached positions through `bias` (DecodeFeed::attention_bias() for
  // `outputs`). Returns [rows, width, n_embd], or [rows, 1, n_embd] for
  // DecodeOutputs::last_ids.
  torch::Tensor decode(const torch::Tensor& x, LayerKvCache& cache, const DecodeFeed& feed,
                       const torch::Tensor& bias, DecodeOutputs outputs);

 private:
  // q, k, v [B, H, T, D]: views of the one c_attn matmul's output.
  std::array<torch::Tensor, 3> project_heads(const torch::Tensor& x);
  // Attention output [B, H, T, D] -> c_proj([B, T, C]).
  torch::Tensor merge_heads(const torch::Tensor& y);
  // q k^T / sqrt(D): [B, H, Tq, D] x [B, H, Tk, D] -> [B, H, Tq, Tk].
  static torch::Tensor attention_scores(const torch::Tensor& q, const torch::Tensor& k);
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
  // forward() for the feed's new ids, attention through the layer's cache
  // (CausalSelfAttention::decode), for the ids `outputs` names.
  torch::Tensor decode(const torch::Tensor& x, LayerKvCache& cache, const DecodeFeed& feed,
                       const torch::Tensor& bias, DecodeOutputs outputs);

 private:
  std::shared_ptr<LayerNorm> ln_1_;
  std::shared_ptr<CausalSelfAttention> attn_;
  std::shared_ptr<LayerNorm> ln_2_;
  std::shared_ptr<Mlp> mlp_;
};

// The std of the projections that write into the residual stream.
double residual_init_std(const config::ModelConfig& config);

}  // namespace loom::model
