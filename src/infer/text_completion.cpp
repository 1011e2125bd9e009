// Text completion over generate_batch(): encoding, decoding token by token,
// stop strings; see text_completion.hpp.
#include "loom/infer/text_completion.hpp"

#include "loom/infer/stop_strings.hpp"

namespace loom::infer {

std::vector<std::int64_t> prompt_ids(const text::Tokenizer& tokenizer, const std::string& prompt) {
  std::vector<text::TokenId> encoded;
  tokenizer.encode(prompt, encoded);
  if (encoded.empty()) return {static_cast<std::int64_t>(text::kEosId)};
  return std::vector<std::int64_t>(encoded.begin(), encoded.end());
}

void check_completion_options(const CompletionOptions& options) {
  check_sampling_options(options.sampling);
  StopStringFilter check_stop_strings(options.stop);
}

std::vector<Completion> complete_batch(model::LanguageModel& model,
                                       const text::Tokenizer& tokenizer,
                                       const std::vector<std::string>& prompts,
                                       const CompletionOptions& options,
                                       const TextCallback& on_text) {
  check_completion_options(options);
  std::vector<std::vector<std::int64_t>> ids;
  for (const std::string& prompt : prompts)
    ids.push_back(prompt_ids(tokenizer, prompt));

  std::vector<Completion> completions(prompts.size());
  std::vector<StopStringFilter> filters(prompts.size(), StopStringFilter(options.stop));
  std::vector<bool> cancelled(prompts.size(), false);
  // Shows a row's text; false when the caller wants the row to end.
  const auto show = [&](std::size_t row, const std::string& piece) {
    if (piece.empty()) return true;
    completions[row].text += piece;
    return !on_text || on_text(row, piece);
  };
  const auto on_token = [&](std::size_t row, std::int64_t id) {
    const auto token = static_cast<text::TokenId>(id);
    if (!show(row, filters[row].add(tokenizer.decode(&token, 1)))) {
      cancelled[row] = true;
      return false;
    }
    return !filters[row].stopped();
  };
  const std::vector<Generation> generations =
      generate_batch(model, ids, options.sampling, on_token);

  for (std::size_t row = 0; row < prompts.size(); ++row) {
    Completion& completion = completions[row];
    completion.tokens = static_cast<std::int64_t>(generations[row].ids.size());
    if (cancelled[row]) {
      completion.finish_reason = FinishReason::cancelled;
    } else if (filters[row].stopped()) {
      completion.finish_reason = FinishReason::stop;
    } else {
      completion.finish_reason = generations[row].finish_reason;
      // The row ended for another reason: what it held back was no stop string.
      show(row, filters[row].flush());
    }
  }
  return completions;
}

std::string complete_text(model::LanguageModel& model, const text::Tokenizer& tokenizer,
                          const std::string& prompt, const SamplingOptions& options,
                          const std::function<void(const std::string&)>& on_text) {
  TextCallback on_row_text;
  if (on_text) {
    on_row_text = [&](std::size_t, const std::string& piece) {
      on_text(piece);
      return true;
    };
  }
  return complete_batch(model, tokenizer, {prompt}, CompletionOptions{options, {}}, on_row_text)
      .front()
      .text;
}

}  // namespace loom::infer
