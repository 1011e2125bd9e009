// What every model family shares: the argument checks, the token embedding
// and output projection (tied or not), input validation, the loss, and the
// factory that picks the family model.arch names.
#include "loom/model/language_model.hpp"

#include "layer_utils.hpp"
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "loom/core/error.hpp"
#include "loom/model/gpt.hpp"
#include "loom/model/lstm.hpp"

namespace loom::model {
namespace {

void check_at_least_one(const char* key, std::int64_t value) {
  if (value < 1) throw UsageError(fmt::format("{} must be at least 1 (got {})", key, value));
}

void check_config(const config::ModelConfig& config, std::int64_t vocab_size) {
  if (vocab_size < 1) {
    throw UsageError(
        fmt::format("the model's vocabulary must hold at least 1 token (the token store gives {})",
                    vocab_size));
  }
  check_at_least_one("model.block_size", config.block_size);
  check_at_least_one("model.n_layer", config.n_layer);
  check_at_least_one("model.n_embd", config.n_embd);
  if (!(config.dropout >= 0.0 && config.dropout < 1.0)) {
    throw UsageError(fmt::format("model.dropout must be in [0, 1) (got {})", config.dropout));
  }
}

}  // namespace

LanguageModel::LanguageModel(const config::ModelConfig& config, std::int64_t vocab_size)
    : config_(config), vocab_size_(vocab_size) {
  check_config(config, vocab_size);
  wte_ = register_module("wte", torch::nn::Embedding(vocab_size, config.n_embd));
  init_normal(wte_->weight, kInitStd);
  if (!config.tie_weights) {
    lm_head_ = register_module("lm_head",
                               make_linear(config.n_embd, vocab_size, /*bias=*/false, kInitStd));
  }
}

const torch::Tensor& LanguageModel::output_weight() const {
  return lm_head_ ? lm_head_->weight : wte_->weight;
}

std::int64_t LanguageModel::check_input(const torch::Tensor& idx) const {
  if (idx.dim() != 2 || idx.scalar_type() != torch::kLong) {
    throw Error(fmt::format("model input: expected int64 token ids [batch, time], got {} [{}]",
                            c10::toString(idx.scalar_type()), fmt::join(idx.sizes(), ", ")));
  }
  const std::int64_t time = idx.size(1);
  if (time < 1 || time > config_.block_size) {
    throw Error(fmt::format("model input: {} positions, expected 1 to model.block_size = {}", time,
                            config_.block_size));
  }
  return time;
}

std::int64_t LanguageModel::parameter_count() const {
  std::int64_t count = 0;
  for (const auto& parameter : parameters())
    count += parameter.numel();
  return count;
}

torch::Tensor LanguageModel::output_logits(const torch::Tensor& hidden) const {
  return torch::linear(hidden, output_weight());
}

torch::Tensor LanguageModel::loss(const torch::Tensor& logits, const torch::Tensor& targets) {
  const std::int64_t vocab = logits.size(-1);
  return torch::nn::functional::cross_entropy(
      logits.reshape({-1, vocab}), targets.reshape({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(kIgnoreIndex));
}

std::shared_ptr<LanguageModel> make_model(const config::ModelConfig& config,
                                          std::int64_t vocab_size) {
  switch (config.arch) {
    case config::ModelArch::gpt:
      return std::make_shared<GptModel>(config, vocab_size);
    case config::ModelArch::lstm:
      return std::make_shared<LstmModel>(config, vocab_size);
  }
  throw Error(fmt::format("model.arch: unknown architecture {}", static_cast<int>(config.arch)));
}

}  // namespace loom::model
