#include "loom/infer/text_completion.hpp"

namespace loom::infer {

std::vector<std::int64_t> prompt_ids(const text::Tokenizer& tokenizer, const std::string& prompt) {
  std::vector<text::TokenId> encoded;
  tokenizer.encode(prompt, encoded);
  if (encoded.empty()) return {static_cast<std::int64_t>(text::kEosId)};
  return std::vector<std::int64_t>(encoded.begin(), encoded.end());
}

std::string complete_text(model::LanguageModel& model, const text::Tokenizer& tokenizer,
                          const std::string& prompt, const SamplingOptions& options,
                          const std::function<void(const std::string&)>& on_text) {
  std::function<bool(std::int64_t)> on_token;
  if (on_text) {
    on_token = [&](std::int64_t id) {
      const auto token = static_cast<text::TokenId>(id);
      on_text(tokenizer.decode(&token, 1));
      return true;
    };
  }
  const std::vector<std::int64_t> generated =
      generate(model, prompt_ids(tokenizer, prompt), options, on_token);
  const std::vector<text::TokenId> ids(generated.begin(), generated.end());
  return tokenizer.decode(ids);
}

}  // namespace loom::infer
