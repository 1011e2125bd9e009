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
#include <fmt/format.h>

#include "loom/core/error.hpp"
#include "loom/core/torch_compat.hpp"

namespace loom::model {

double residual_init_std(const config::ModelConfig& config) {
  return kInitStd / std::sqrt(2.0 * static_cast<double>(config.n_layer));
}

LayerNorm::LayerNorm(std::int64_t width, bool bias) {
  weight_ = register_parameter("weight", torch::ones({width}));
  if (bias) bias_ = register_parameter("bias", torch::zeros({width}));
}

torch::Tensor LayerNorm::forward(const torch::Tensor& x) const {
  return torch::layer_norm(x, {weight_.size(0)}, weight_, bias_, /*eps=*/1e-5);
}

CausalSelfAttention::CausalSelfAttention(const config::ModelConfig& config)
    : n_head_(config.n_head), dropout_(config.dropout) {
  if (config.n_head < 1 || config.n_embd % config.n_head != 0) {
    throw UsageError(fmt::format(
        "model.n_embd ({}) must be a multiple of model.n_head ({}): each head gets n_embd / "
        "n_head channels",
        config.n_embd, config.n_head));
  }
  const std::int64_t width = config.n_embd;
  c_attn_ = register_module("c_attn", make_linear(width, 3 * width, config.bias, kInitStd));
  c_proj_ =
      register_module("c_proj", make_linear(width, width, config.bias, residual_init_std(config)));
}

std::array<torch::Tensor, 3> CausalSelfAttention::project_heads(const torch::Tensor& x) {
  const std::int64_t batch = x.size(0), time = x.size(1), width = x.size(2);
  // [B, T, 3C] -> three [B, H, T, D] views of the one qkv matmul's output.
  // split's backward is one concatenation; indexing a [3, ...] view would
  // cost a zero-filled [3, B, T, C] gradient per index.
  const auto to_heads = [&](const torch::Tensor& part) {
    return part.view({batch, time, n_head_, width / n_head_}).transpose(1, 2);
  };
  const std::vector<torch::Tensor> qkv = c_attn_->forward(x).split(width, /*dim=*/2);
  return {to_heads(qkv[0]), to_heads(qkv[1]), to_heads(qkv[2])};
}

torch::Tensor CausalSelfAttention::merge_heads(const torch::Tensor& y) {
  // Heads back side by side: [B, H, T, D] -> [B, T, C].
  const std::int64_t batch = y.size(0), time = y.size(2);
  return c_proj_->forward(y.transpose(1, 2).reshape({batch, time, y.size(1) * y.size(3)}));
}

torch::Tensor CausalSelfAttention::forward(const torch::Tensor& x) {
  // Named references, not structured bindings: C++17 lambdas cannot capture those.
  const std::array<torch::Tensor, 3> qkv = project_heads(x);
  const torch::Tensor &q = qkv[0], &k = qkv[1], &v = qkv[2];
  const double dropout_p = is_training() ? dropout_ : 0.0;
  // A fused kernel draws its dropout from torch's global generator; when
  // the caller chose one (dropout_generator.hpp), the explicit path honours it.
  const torch::Tensor y = dropout_p > 0 && dropout_generator() != nullptr
                              ? explicit_attention(q, k, v)
                              : torch_compat::causal_attention(q, k, v, dropout_p, [&] {
                                  return explicit_attention(q, k, v);
                                });
  return maybe_dropout(merge_heads(y), dropout_, is_training());
}

torch::Tensor CausalSelfAttention::decode(const torch::Tensor& x, LayerKvCache& cache,
                                          const DecodeFeed& feed, const torch::Tensor& bias,
                                          DecodeOutputs outputs) {
  const std::array<torch::Tensor, 3> qkv = project_heads(x);
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
                                                      const torch::Tensor& v) const {
  const std::int64_t time = q.size(2);
  // Adding a -inf bias above the diagonal (made here: T^2 values, next to
  // T^2 x D for the scores) is cheaper than masked_fill, forward and
  // backward; matmul's backward needs only q and k, so it may go in place.
  torch::Tensor scores = attention_scores(q, k);
  scores.add_(torch::full({time, time}, -std::numeric_limits<double>::infinity(), scores.options())
                  .triu_(/*diagonal=*/1));
  return torch::matmul(maybe_dropout(torch::softmax(scores, -1), dropout_, is_training()), v);
}

Mlp::Mlp(const config::ModelConfig& config)
    : gelu_(config.activation == config::Activation::gelu), dropout_(config.dropout) {
  const std::int64_t width = config.n_embd;
  c_fc_ = register_module("c_fc", make_linear(width, 4 * width, config.bias, kInitStd));
  c_proj_ = register_module("c_proj",
                            make_linear(4 * width, width, config.bias, residual_init_std(config)));
}

torch::Tensor Mlp::forward(const torch::Tensor& x) {
  torch::Tensor hidden = c_fc_->forward(x);
  // relu's backward reads its output, so it may overwrite its input; gelu's
  // reads its input, so it may not.
  hidden = gelu_ ? torch::gelu(hidden) : torch::relu_(hidden);
  return maybe_dropout(c_proj_->forward(hidden), dropout_, is_training());
}

GptBlock::GptBlock(const config::ModelConfig& config) {
  ln_1_ = register_module("ln_1", std::make_shared<LayerNorm>(config.n_embd, config.bias));
  attn_ = register_module("attn", std::make_shared<CausalSelfAttention>(config));
  ln_2_ = register_module("ln_2", std::make_shared<LayerNorm>(config.n_embd, config.bias));
  mlp_ = register_module("mlp", std::make_shared<Mlp>(config));
}

torch::Tensor GptBlock::forward(const torch::Tensor& x) {
  // Out of place: layer_norm's backward needs each x it read.
  const torch::Tensor after_attention = x + attn_->forward(ln_1_->forward(x));
  return after_attention + mlp_->forward(ln_2_->forward(after_attention));
}

torch::Tensor GptBlock::decode(const torch::Tensor& x, LayerKvCache& cache, const DecodeFeed& feed,
                               const torch::Tensor& bias, DecodeOutputs outputs) {
  const torch::Tensor attended = attn_->decode(ln_1_->forward(x), cache, feed, bias, outputs);
  const torch::Tensor residual =
      outputs == DecodeOutputs::last_ids ? feed.at_last_ids(x).unsqueeze(1) : x;
  const torch::Tensor after_attention = residual + attended;
  return after_attention + mlp_->forward(ln_2_->forward(after_attention));
}

}  // namespace loom::model
