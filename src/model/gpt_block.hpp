// The parts of a GPT block: LayerNorm with an optional bias or RMSNorm,
// causal multi-head self-attention (optionally with normalised queries and
// keys, and rotary positions), the MLP (GPT-2's or SwiGLU), and the pre-norm
// block that joins them to the residual stream, each as a training forward and as an
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
struct RotaryAngles;  // rotary.hpp

// Which of a decode step's new ids go on past attention: all of them, or
// only each row's last (the top layer: the others matter to later ids only
// through the keys and values they leave in the cache).
enum class DecodeOutputs { all_ids, last_ids };

// Normalisation over the last dimension with a learned scale ("weight"):
// LayerNorm, with a "bias" when asked (LibTorch's LayerNorm has a weight and
// a bias or neither; GPT without biases wants the weight alone), or RMSNorm
// (x / rms(x), never a bias), computed in float32 as Llama does. The result
// has x's dtype or float32, whichever is wider.
class Normalization : public torch::nn::Module {
 public:
  Normalization(std::int64_t width, config::Norm kind, bool bias);
  torch::Tensor forward(const torch::Tensor& x) const;

 private:
  config::Norm kind_;
  torch::Tensor weight_;
  torch::Tensor bias_;  // undefined without bias, and for RMSNorm
};

class CausalSelfAttention : public torch::nn::Module {
 public:
  // Throws loom::UsageError when n_embd is not a multiple of n_head, or
  // for rotary positions when the head width is odd.
  explicit CausalSelfAttention(const config::ModelConfig& config);
  // x: [B, T, n_embd] -> [B, T, n_embd], position t attending to the
  // `band` positions up to t (all of them when band >= T, as in training).
  // `rotary`: the angles of positions 0..T-1 with positions: rope, else null.
  torch::Tensor forward(const torch::Tensor& x, const RotaryAngles* rotary, std::int64_t band);

  // Inference only (no dropout). x: [rows, width, n_embd], the feed's new
  // ids; their keys and values join `cache`, and each attends to its row's
  // cached positions through `bias` (DecodeFeed::attention_bias() for
  // `outputs`). Returns [rows, width, n_embd], or [rows, 1, n_embd] for
  // DecodeOutputs::last_ids. `rotary`: the angles of the new ids' positions
  // (with positions: rope), so cached keys are kept rotated.
  torch::Tensor decode(const torch::Tensor& x, LayerKvCache& cache, const DecodeFeed& feed,
                       const torch::Tensor& bias, DecodeOutputs outputs,
                       const RotaryAngles* rotary);

 private:
  // q, k, v [B, H, T, D]: q and k normalised (qk_norm) and rotated (rotary)
  // when the model says so, else views of the one c_attn matmul's output;
  // all three in v's dtype.
  std::array<torch::Tensor, 3> project_heads(const torch::Tensor& x, const RotaryAngles* rotary);
  // Attention output [B, H, T, D] -> c_proj([B, T, C]).
  torch::Tensor merge_heads(const torch::Tensor& y);
  // q k^T / sqrt(D): [B, H, Tq, D] x [B, H, Tk, D] -> [B, H, Tq, Tk].
  static torch::Tensor attention_scores(const torch::Tensor& q, const torch::Tensor& k);
  // dropout(softmax(q k^T / sqrt(D) + causal bias)) v, for LibTorch without
  // a fused kernel (torch_compat.hpp) and for a band narrower than T.
  torch::Tensor explicit_attention(const torch::Tensor& q, const torch::Tensor& k,
                                   const torch::Tensor& v, std::int64_t band) const;

  std::int64_t n_head_;
  double dropout_;
  torch::nn::Linear c_attn_{nullptr};  // x -> [q | k | v], one matmul for all heads
  torch::nn::Linear c_proj_{nullptr};
  std::shared_ptr<Normalization> q_norm_;  // over each head's channels; with qk_norm only
  std::shared_ptr<Normalization> k_norm_;
};

// GPT-2's MLP, c_proj(act(c_fc(x))), or SwiGLU, c_proj(silu(gate) * up)
// with [gate | up] = c_fc(x) (one matmul, as c_attn is for q, k, v).
class Mlp : public torch::nn::Module {
 public:
  // Throws loom::UsageError for mlp: swiglu with activation: relu (SwiGLU's
  // gate is SiLU).
  explicit Mlp(const config::ModelConfig& config);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  config::MlpKind kind_;
  bool gelu_;
  double dropout_;
  torch::nn::Linear c_fc_{nullptr};  // n_embd -> hidden (standard) or 2 x hidden (swiglu)
  torch::nn::Linear c_proj_{nullptr};
};

// The MLP's hidden width: model.mlp_hidden, or when 0 GPT-2's 4 n_embd, and
// for SwiGLU the width whose three matrices hold as many weights as GPT-2's
// two, round(8 n_embd / 3).
std::int64_t mlp_hidden_width(const config::ModelConfig& config);

class GptBlock : public torch::nn::Module {
 public:
  explicit GptBlock(const config::ModelConfig& config);
  torch::Tensor forward(const torch::Tensor& x, const RotaryAngles* rotary, std::int64_t band);
  // forward() for the feed's new ids, attention through the layer's cache
  // (CausalSelfAttention::decode), for the ids `outputs` names.
  torch::Tensor decode(const torch::Tensor& x, LayerKvCache& cache, const DecodeFeed& feed,
                       const torch::Tensor& bias, DecodeOutputs outputs,
                       const RotaryAngles* rotary);

 private:
  std::shared_ptr<Normalization> ln_1_;
  std::shared_ptr<CausalSelfAttention> attn_;
  std::shared_ptr<Normalization> ln_2_;
  std::shared_ptr<Mlp> mlp_;
};

// The std of the projections that write into the residual stream.
double residual_init_std(const config::ModelConfig& config);

}  // namespace loom::model
