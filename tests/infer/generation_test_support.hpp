// What the generation suites share: small GPT and LSTM models whose greedy
// text depends on the whole window, and generation written out the obvious
// way (forward over the last block_size ids, argmax) to compare against.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/model_test_support.hpp"
#include <torch/torch.h>

#include "loom/infer/sampling.hpp"
#include "loom/model/language_model.hpp"
#include "loom/text/tokenizer.hpp"

namespace loom::test {

inline constexpr std::int64_t kGenerationVocab = 20;
inline constexpr std::int64_t kGenerationBlock = 8;

// 2 layers, 2 heads, 32 wide, context 8; dropout on, so that a forward in
// train mode differs from one in eval mode. At GPT-2's init the
// distributions are near-uniform, so any token is a plausible draw.
// `modern`: GPT with rotary positions, RMSNorm, SwiGLU and QK-norm (its
// cache slides in place past the context).
inline std::shared_ptr<model::LanguageModel> flat_model(config::ModelArch arch,
                                                        bool modern = false) {
  config::ModelConfig config = tiny_config(arch);
  config.block_size = kGenerationBlock;
  config.dropout = 0.1;
  if (modern) {
    config.positions = config::Positions::rope;
    config.norm = config::Norm::rmsnorm;
    config.mlp = config::MlpKind::swiglu;
    config.qk_norm = true;
  }
  torch::manual_seed(42);
  return model::make_model(config, kGenerationVocab);
}

// At GPT-2's init, greedy decoding just repeats one token (GPT's tied
// embedding favours the last input, the LSTM settles), whatever the context
// or dropout. With every weight redrawn from N(0, 1) the likeliest token
// depends on the whole window, so a wrong window or a forward in train mode
// changes the greedy text.
inline std::shared_ptr<model::LanguageModel> context_sensitive_model(config::ModelArch arch,
                                                                     bool modern = false) {
  auto model = flat_model(arch, modern);
  torch::NoGradGuard no_grad;
  for (torch::Tensor& parameter : model->parameters())
    parameter.normal_(0.0, 1.0);
  return model;
}

// A character tokenizer over `alphabet`'s characters, for text in, text out.
inline std::unique_ptr<text::Tokenizer> char_tokenizer(const std::string& alphabet) {
  text::CharVocabBuilder builder;
  builder.add(alphabet);
  return builder.build({});
}

// An untrained 2-layer GPT with context 8 for `tokenizer`'s vocabulary, the
// same weights every time.
inline std::shared_ptr<model::LanguageModel> untrained_gpt(const text::Tokenizer& tokenizer) {
  config::ModelConfig config = tiny_config(config::ModelArch::gpt);
  config.block_size = kGenerationBlock;
  torch::manual_seed(3);
  return model::make_model(config, tokenizer.vocab_size());
}

// The logits [V] of the token after `text`, from its last context_length()
// ids (block_size, or a sliding cache's reach).
inline torch::Tensor reference_logits(model::LanguageModel& model,
                                      const std::vector<std::int64_t>& text) {
  model.eval();
  torch::NoGradGuard no_grad;
  const auto start = text.end() - std::min<std::ptrdiff_t>(text.size(), model.context_length());
  const torch::Tensor window = torch::tensor(std::vector<std::int64_t>(start, text.end()));
  return model.forward_context(window.unsqueeze(0))[0][-1];
}

// Greedy decoding the obvious way: forward, argmax, append, repeat.
inline std::vector<std::int64_t> reference_greedy(model::LanguageModel& model,
                                                  std::vector<std::int64_t> text,
                                                  std::int64_t count) {
  std::vector<std::int64_t> new_ids;
  for (std::int64_t step = 0; step < count; ++step) {
    new_ids.push_back(reference_logits(model, text).argmax().item<std::int64_t>());
    text.push_back(new_ids.back());
  }
  return new_ids;
}

inline infer::SamplingOptions options_with(std::int64_t max_new_tokens, double temperature,
                                           std::uint64_t seed) {
  infer::SamplingOptions options;
  options.max_new_tokens = max_new_tokens;
  options.temperature = temperature;
  options.seed = seed;
  return options;
}

}  // namespace loom::test
