// The GPT block's parts. Speed matters here (the CPU trainer's step time is
// mostly these few functions), so the attention takes its heads as views of
// one qkv matmul's output, and steps whose input autograd does not keep run
// in place.
#include "gpt_block.hpp"

#include <cmath>
#include <limits>
#include <vector>

#include "decode_feed.hpp"
#include "gpt_kv_cache.hpp"
#include "layer_utils.hpp"
#include "rotary.hpp"
#include <fmt/format.h>

#include "loom/core/error.hpp"
#include "loom/core/torch_compat.hpp"

namespace loom::model {

double residual_init_std(const config::ModelConfig& config) {
  return kInitStd / std::sqrt(2.0 * static_cast<double>(config.n_layer));
}

Normalization::Normalization(std::int64_t width, config::Norm kind, bool bias) : kind_(kind) {
  weight_ = register_parameter("weight", torch::ones({width}));
  if (bias && kind == config::Norm::layernorm) {
    bias_ = register_parameter("bias", torch::zeros({width}));
  }
}

torch::Tensor Normalization::forward(const torch::Tensor& x) const {
  constexpr double kEps = 1e-5;
  // Statistics of bf16 values lose what the mean needs (and LibTorch 1.13's
  // CPU layer_norm refuses bf16 input with float weights), so the norms
  // read float32: a no-op for the residual stream, which is float32 anyway;
  // it matters for the queries and keys (qk_norm).
  const torch::Tensor wide = x.scalar_type() == torch::kDouble ? x : x.to(torch::kFloat);
  if (kind_ == config::Norm::layernorm) {
    return torch::layer_norm(wide, {weight_.size(0)}, weight_, bias_, kEps);
  }
  // LibTorch 1.13 has no rms_norm.
  return wide * torch::rsqrt(wide.pow(2).mean(-1, /*keepdim=*/true) + kEps) * weight_;
}

CausalSelfAttention::CausalSelfAttention(const config::ModelConfig& config)
    : n_head_(config.n_head), dropout_(config.dropout) {
  if (config.n_head < 1 || config.n_embd % config.n_head != 0) {
    throw UsageError(fmt::format(
        "model.n_embd ({}) must be a multiple of model.n_head ({}): each head gets n_embd / "
        "n_head channels",
        config.n_embd, config.n_head));
  }
  const std::int64_t width = config.n_embd, head_width = width / config.n_head;
  if (config.positions == config::Positions::rope && head_width % 2 != 0) {
    throw UsageError(fmt::format(
        "model.positions: rope turns channel pairs, so the head width n_embd / n_head must be "
        "even (got {} / {} = {})",
        config.n_embd, config.n_head, head_width));
  }
  c_attn_ = register_module("c_attn", make_linear(width, 3 * width, config.bias, kInitStd));
  c_proj_ =
      register_module("c_proj", make_linear(width, width, config.bias, residual_init_std(config)));
  if (config.qk_norm) {
    q_norm_ = register_module(
        "q_norm", std::make_shared<Normalization>(head_width, config.norm, config.bias));
    k_norm_ = register_module(
        "k_norm", std::make_shared<Normalization>(head_width, config.norm, config.bias));
  }
}

std::array<torch::Tensor, 3> CausalSelfAttention::project_heads(const torch::Tensor& x,
                                                                const RotaryAngles* rotary) {
  const std::int64_t batch = x.size(0), time = x.size(1), width = x.size(2);
  // [B, T, 3C] -> three [B, H, T, D] views of the one qkv matmul's output.
  // split's backward is one concatenation; indexing a [3, ...] view would
  // cost a zero-filled [3, B, T, C] gradient per index.
  const auto to_heads = [&](const torch::Tensor& part) {
    return part.view({batch, time, n_head_, width / n_head_}).transpose(1, 2);
  };
  const std::vector<torch::Tensor> qkv = c_attn_->forward(x).split(width, /*dim=*/2);
  torch::Tensor q = to_heads(qkv[0]), k = to_heads(qkv[1]);
  const torch::Tensor v = to_heads(qkv[2]);
  if (q_norm_) {
    q = q_norm_->forward(q);
    k = k_norm_->forward(k);
  }
  if (rotary != nullptr) {
    q = apply_rotary(q, *rotary);
    k = apply_rotary(k, *rotary);
  }
  // Normalising and rotating work in float32; attention wants one dtype
  // (bf16 under autocast). A no-op without either.
  return {q.to(v.scalar_type()), k.to(v.scalar_type()), v};
}

torch::Tensor CausalSelfAttention::merge_heads(const torch::Tensor& y) {
  // Heads back side by side: [B, H, T, D] -> [B, T, C].
  const std::int64_t batch = y.size(0), time = y.size(2);
  return c_proj_->forward(y.transpose(1, 2).reshape({batch, time, y.size(1) * y.size(3)}));
}

torch::Tensor CausalSelfAttention::forward(const torch::Tensor& x, const RotaryAngles* rotary,
                                           std::int64_t band) {
  // Named references, not structured bindings: C++17 lambdas cannot capture those.
  const std::array<torch::Tensor, 3> qkv = project_heads(x, rotary);
  const torch::Tensor &q = qkv[0], &k = qkv[1], &v = qkv[2];
  const double dropout_p = is_training() ? dropout_ : 0.0;
  // A fused kernel draws its dropout from torch's global generator; when
  // the caller chose one (dropout_generator.hpp), the explicit path honours
  // it. The fused kernel knows no band either.
  const torch::Tensor y = (dropout_p > 0 && dropout_generator() != nullptr) || band < x.size(1)
                              ? explicit_attention(q, k, v, band)
                              : torch_compat::causal_attention(q, k, v, dropout_p, [&] {
                                  return explicit_attention(q, k, v, band);
                                });
  return maybe_dropout(merge_heads(y), dropout_, is_training());
}

torch::Tensor CausalSelfAttention::decode(const torch::Tensor& x, LayerKvCache& cache,
                                          const DecodeFeed& feed, const torch::Tensor& bias,
                                          DecodeOutputs outputs, const RotaryAngles* rotary) {
  const std::array<torch::Tensor, 3> qkv = project_heads(x, rotary);
  const auto [keys, values] = cache.append(qkv[1], qkv[2], feed);
  // Only the last id's query [rows, H, 1, D] for DecodeOutputs::last_ids.
  const torch::Tensor q = outputs == DecodeOutputs::last_ids
                              ? feed.at_last_ids(qkv[0].transpose(1, 2)).unsqueeze(2)
                              : qkv[0];
  torch::Tensor scores = attention_scores(q, keys);
  scores.add_(bias);
  return merge_heads(torch::matmul(torch::softmax(scores, -1), values));
}

torch::Tensor CausalSelfAttention::attention_scores(const torch::Tensor& q,
                                                    const torch::Tensor& k) {
  // Scaling q rather than the scores touches T x D instead of T x T values
  // per head, and gives matmul the contiguous operand it would copy q into
  // anyway.
  return torch::matmul(q * (1.0 / std::sqrt(static_cast<double>(q.size(-1)))), k.transpose(-2, -1));
}

torch::Tensor CausalSelfAttention::explicit_attention(const torch::Tensor& q,
                                                      const torch::Tensor& k,
                                                      const torch::Tensor& v,
                                                      std::int64_t band) const {
  const std::int64_t time = q.size(2);
  // Adding a -inf bias above the diagonal (made here: T^2 values, next to
  // T^2 x D for the scores) is cheaper than masked_fill, forward and
  // backward; matmul's backward needs only q and k, so it may go in place.
  const double hidden = -std::numeric_limits<double>::infinity();
  torch::Tensor scores = attention_scores(q, k);
  torch::Tensor bias = torch::full({time, time}, hidden, scores.options()).triu_(/*diagonal=*/1);
  // Keys `band` or more positions back are out of the band too.
  if (band < time) bias.add_(torch::full({time, time}, hidden, scores.options()).tril_(-band));
  scores.add_(bias);
  return torch::matmul(maybe_dropout(torch::softmax(scores, -1), dropout_, is_training()), v);
}

std::int64_t mlp_hidden_width(const config::ModelConfig& config) {
  if (config.mlp_hidden > 0) return config.mlp_hidden;
  if (config.mlp == config::MlpKind::standard) return 4 * config.n_embd;
  return (8 * config.n_embd + 1) / 3;  // round(8 n_embd / 3): a third rounds down, two up
}

Mlp::Mlp(const config::ModelConfig& config)
    : kind_(config.mlp),
      gelu_(config.activation == config::Activation::gelu),
      dropout_(config.dropout) {
  if (kind_ == config::MlpKind::swiglu && !gelu_) {
    throw UsageError(
        "model.activation: relu belongs to mlp: standard; mlp: swiglu gates with SiLU (leave "
        "activation at gelu, or choose mlp: standard)");
  }
  const std::int64_t width = config.n_embd, hidden = mlp_hidden_width(config);
  const std::int64_t fc_width = kind_ == config::MlpKind::swiglu ? 2 * hidden : hidden;
  c_fc_ = register_module("c_fc", make_linear(width, fc_width, config.bias, kInitStd));
  c_proj_ =
      register_module("c_proj", make_linear(hidden, width, config.bias, residual_init_std(config)));
}

torch::Tensor Mlp::forward(const torch::Tensor& x) {
  torch::Tensor hidden = c_fc_->forward(x);
  if (kind_ == config::MlpKind::swiglu) {
    const std::vector<torch::Tensor> gate_up = hidden.chunk(2, /*dim=*/-1);
    hidden = torch::silu(gate_up[0]) * gate_up[1];
  } else {
    // relu's backward reads its output, so it may overwrite its input; gelu's
    // reads its input, so it may not.
    hidden = gelu_ ? torch::gelu(hidden) : torch::relu_(hidden);
  }
  return maybe_dropout(c_proj_->forward(hidden), dropout_, is_training());
}

GptBlock::GptBlock(const config::ModelConfig& config) {
  ln_1_ = register_module("ln_1",
                          std::make_shared<Normalization>(config.n_embd, config.norm, config.bias));
  attn_ = register_module("attn", std::make_shared<CausalSelfAttention>(config));
  ln_2_ = register_module("ln_2",
                          std::make_shared<Normalization>(config.n_embd, config.norm, config.bias));
  mlp_ = register_module("mlp", std::make_shared<Mlp>(config));
}

torch::Tensor GptBlock::forward(const torch::Tensor& x, const RotaryAngles* rotary,
                                std::int64_t band) {
  // Out of place: the norms' backward needs each x they read.
  const torch::Tensor after_attention = x + attn_->forward(ln_1_->forward(x), rotary, band);
  return after_attention + mlp_->forward(ln_2_->forward(after_attention));
}

torch::Tensor GptBlock::decode(const torch::Tensor& x, LayerKvCache& cache, const DecodeFeed& feed,
                               const torch::Tensor& bias, DecodeOutputs outputs,
                               const RotaryAngles* rotary) {
  const torch::Tensor attended =
      attn_->decode(ln_1_->forward(x), cache, feed, bias, outputs, rotary);
  const torch::Tensor residual =
      outputs == DecodeOutputs::last_ids ? feed.at_last_ids(x).unsqueeze(1) : x;
  const torch::Tensor after_attention = residual + attended;
  return after_attention + mlp_->forward(ln_2_->forward(after_attention));
}

}  // namespace loom::model
