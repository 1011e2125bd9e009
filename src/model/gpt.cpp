// GptModel: embeddings, positions, the stack of blocks, the final LayerNorm
// and the (possibly tied) output projection, for training and for cached
// decoding.
#include "loom/model/gpt.hpp"

#include <cmath>
#include <limits>

#include "decode_feed.hpp"
#include "gpt_block.hpp"
#include "gpt_kv_cache.hpp"
#include "layer_utils.hpp"
#include "rotary.hpp"
#include <fmt/format.h>

#include "loom/core/error.hpp"

namespace loom::model {
namespace {

// "Attention is all you need", section 3.5: channel 2i holds
// sin(t / 10000^(2i / C)) and channel 2i + 1 the cosine at the same
// frequency. An odd width ends with a sine.
torch::Tensor sinusoid_table(std::int64_t positions, std::int64_t width) {
  const torch::Tensor t = torch::arange(positions, torch::kDouble).unsqueeze(1);
  const torch::Tensor pair_start =
      torch::arange(width, torch::kLong).div(2, /*rounding_mode=*/"floor").mul(2);
  const torch::Tensor inverse_frequency =
      torch::pow(10000.0, pair_start.to(torch::kDouble) / static_cast<double>(width)).reciprocal();
  const torch::Tensor angle = t * inverse_frequency;  // [positions, width]
  const torch::Tensor is_even = torch::arange(width, torch::kLong).remainder(2) == 0;
  return torch::where(is_even, angle.sin(), angle.cos()).to(torch::kFloat);
}

}  // namespace

GptModel::GptModel(const config::ModelConfig& config, std::int64_t vocab_size)
    : LanguageModel(config, vocab_size) {
  switch (config.positions) {
    case config::Positions::learned:
      wpe_ = register_module("wpe", torch::nn::Embedding(config.block_size, config.n_embd));
      init_normal(wpe_->weight, kInitStd);
      break;
    case config::Positions::sinusoidal:
      sinusoids_ = register_buffer("sinusoids", sinusoid_table(config.block_size, config.n_embd));
      break;
    case config::Positions::none:
    case config::Positions::rope:  // in the attention
      break;
  }
  torch::nn::ModuleList h;
  for (std::int64_t i = 0; i < config.n_layer; ++i) {
    blocks_.push_back(std::make_shared<GptBlock>(config));
    h->push_back(blocks_.back());
  }
  register_module("h", h);
  ln_f_ = register_module("ln_f",
                          std::make_shared<Normalization>(config.n_embd, config.norm, config.bias));
}

torch::Tensor GptModel::forward(const torch::Tensor& idx) {
  const std::int64_t time = check_input(idx);
  return forward_band(idx, time);
}

std::int64_t GptModel::context_length() const {
  if (!cache_slides()) return block_size();
  return config().n_layer * (block_size() - 1) + 1;
}

torch::Tensor GptModel::forward_context(const torch::Tensor& idx) {
  if (!cache_slides()) return forward(idx);
  if (idx.dim() != 2 || idx.size(1) < 1 || idx.size(1) > context_length()) {
    throw Error(fmt::format("model input: {} positions, expected 1 to the context length {}",
                            idx.dim() == 2 ? idx.size(1) : 0, context_length()));
  }
  return forward_band(idx, block_size());
}

torch::Tensor GptModel::forward_band(const torch::Tensor& idx, std::int64_t band) {
  const std::int64_t time = idx.size(1);
  // The embedding's backward needs only idx, so its output may take the
  // positions in place; rows 0..T-1 of wpe are what an arange lookup reads.
  torch::Tensor x = embed_tokens(idx);
  if (wpe_) x.add_(wpe_->weight.narrow(0, 0, time));
  if (sinusoids_.defined()) x.add_(sinusoids_.narrow(0, 0, time));
  x = maybe_dropout(x, config().dropout, is_training());
  const std::optional<RotaryAngles> rotary = rotary_angles_at(
      torch::arange(time, torch::TensorOptions(torch::kLong).device(idx.device())));
  for (const auto& block : blocks_)
    x = block->forward(x, rotary ? &*rotary : nullptr, band);
  return output_logits(ln_f_->forward(x));
}

std::unique_ptr<DecodeCache> GptModel::make_decode_cache() const {
  return std::make_unique<GptKvCache>(config().n_layer, config().block_size);
}

torch::Tensor GptModel::position_vectors(const DecodeFeed& feed) const {
  const torch::Tensor& table = wpe_ ? wpe_->weight : sinusoids_;
  if (!table.defined()) return {};
  // Rows in lockstep share their positions: a slice, as forward() takes.
  if (feed.uniform()) return table.narrow(0, feed.starts().front(), feed.width());
  return torch::embedding(table, feed.positions(config().block_size - 1));
}

torch::Tensor GptModel::decode_cached(DecodeCache& cache, const DecodeFeed& feed) {
  auto& kv = dynamic_cast<GptKvCache&>(cache);
  torch::Tensor x = embed_tokens(feed.tokens());
  // Each row's new ids sit at their own positions, start onwards.
  const torch::Tensor positions = position_vectors(feed);
  if (positions.defined()) x.add_(positions);
  const std::optional<RotaryAngles> rotary =
      rotary_angles_at(feed.uniform() ? feed.positions(std::numeric_limits<std::int64_t>::max())[0]
                                      : feed.positions(std::numeric_limits<std::int64_t>::max()));
  const torch::Tensor bias = feed.attention_bias(x.options(), /*last_ids_only=*/false);
  const torch::Tensor last_id_bias = feed.attention_bias(x.options(), /*last_ids_only=*/true);
  for (std::size_t layer = 0; layer < blocks_.size(); ++layer) {
    // Only each row's last new id needs the top layer's MLP, the final
    // LayerNorm and the head; the others are there for their keys and values.
    const bool top = layer + 1 == blocks_.size();
    x = blocks_[layer]->decode(x, kv.layer(layer), feed, top ? last_id_bias : bias,
                               top ? DecodeOutputs::last_ids : DecodeOutputs::all_ids,
                               rotary ? &*rotary : nullptr);
  }
  return output_logits(ln_f_->forward(x.squeeze(1)));
}

std::optional<RotaryAngles> GptModel::rotary_angles_at(const torch::Tensor& positions) const {
  if (config().positions != config::Positions::rope) return std::nullopt;
  return rotary_angles(positions, config().n_embd / config().n_head, config().rope_base);
}

std::int64_t GptModel::parameter_count() const {
  return LanguageModel::parameter_count() - (wpe_ ? wpe_->weight.numel() : 0);
}

double GptModel::flops_per_token(std::int64_t sequence_length) const {
  const auto& c = config();
  return 6.0 * static_cast<double>(parameter_count()) + 12.0 * static_cast<double>(c.n_layer) *
                                                            static_cast<double>(sequence_length) *
                                                            static_cast<double>(c.n_embd);
}

}  // namespace loom::model
