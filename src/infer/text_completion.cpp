// Text completion over generate_batch(): encoding, decoding token by token,
// stop strings; see text_completion.hpp.
#include "loom/infer/text_completion.hpp"

#include <deque>

#include "loom/infer/stop_strings.hpp"

namespace loom::infer {
namespace {

std::string token_text(const text::Tokenizer& tokenizer, std::int64_t id) {
  const auto token = static_cast<text::TokenId>(id);
  return tokenizer.decode(&token, 1);
}

// A step's figures as text, the token beginning at `offset`.
TextLogprob text_logprob(const text::Tokenizer& tokenizer, const StepLogprobs& step,
                         std::int64_t offset) {
  TextLogprob token{token_text(tokenizer, step.chosen.id), offset, step.chosen.logprob, {}};
  for (const TokenLogprob& alternative : step.top)
    token.top.emplace_back(token_text(tokenizer, alternative.id), alternative.logprob);
  return token;
}

// A row's tokens between being generated and their text being shown: a
// token goes out with the piece that shows its first byte, or is dropped
// with the stop string it lies in.
class PendingTokens {
 public:
  void add(TextLogprob token) { pending_.push_back(std::move(token)); }

  // The tokens that begin before `shown_length`.
  std::vector<TextLogprob> release(std::size_t shown_length) {
    std::vector<TextLogprob> released;
    while (!pending_.empty() && pending_.front().offset < static_cast<std::int64_t>(shown_length)) {
      released.push_back(std::move(pending_.front()));
      pending_.pop_front();
    }
    return released;
  }

  // Every token left (the row ended with all its text shown; a token that
  // decodes to nothing has no first byte to wait for).
  std::vector<TextLogprob> release_all() {
    std::vector<TextLogprob> released(std::make_move_iterator(pending_.begin()),
                                      std::make_move_iterator(pending_.end()));
    pending_.clear();
    return released;
  }

 private:
  std::deque<TextLogprob> pending_;
};

}  // namespace

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
  // With logprobs: each row's tokens not shown yet, and the length of the
  // text generated so far (shown or held back), where the next token begins.
  std::vector<PendingTokens> pending(prompts.size());
  std::vector<std::size_t> generated_length(prompts.size(), 0);
  // Shows a row's text and the tokens it begins; false when the caller wants
  // the row to end.
  const auto show = [&](std::size_t row, const std::string& piece,
                        std::vector<TextLogprob> tokens) {
    if (piece.empty() && tokens.empty()) return true;
    Completion& completion = completions[row];
    completion.text += piece;
    completion.logprobs.insert(completion.logprobs.end(), tokens.begin(), tokens.end());
    return !on_text || on_text(row, TextPiece{piece, tokens});
  };
  const auto on_token = [&](std::size_t row, const Generation& generation) {
    const std::string token = token_text(tokenizer, generation.ids.back());
    const std::string piece = filters[row].add(token);
    std::vector<TextLogprob> tokens;
    if (options.sampling.logprobs) {
      pending[row].add(text_logprob(tokenizer, generation.logprobs.back(), generated_length[row]));
      generated_length[row] += token.size();
      tokens = pending[row].release(completions[row].text.size() + piece.size());
    }
    if (!show(row, piece, std::move(tokens))) {
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
      // The row ended for another reason: what it held back was no stop
      // string, and every token is in the text.
      show(row, filters[row].flush(), pending[row].release_all());
    }
  }
  return completions;
}

std::vector<TextLogprob> prompt_logprobs(model::LanguageModel& model,
                                         const text::Tokenizer& tokenizer,
                                         const std::string& prompt,
                                         const SamplingOptions& options) {
  std::vector<text::TokenId> encoded;
  tokenizer.encode(prompt, encoded);
  if (encoded.empty()) return {};
  const std::vector<std::int64_t> ids(encoded.begin(), encoded.end());
  std::vector<TextLogprob> tokens{{token_text(tokenizer, ids.front()), 0, std::nullopt, {}}};
  std::int64_t offset = static_cast<std::int64_t>(tokens.front().text.size());
  for (const StepLogprobs& step : score_tokens(model, ids, options)) {
    tokens.push_back(text_logprob(tokenizer, step, offset));
    offset += static_cast<std::int64_t>(tokens.back().text.size());
  }
  return tokens;
}

std::string complete_text(model::LanguageModel& model, const text::Tokenizer& tokenizer,
                          const std::string& prompt, const SamplingOptions& options,
                          const std::function<void(const std::string&)>& on_text) {
  TextCallback on_row_text;
  if (on_text) {
    on_row_text = [&](std::size_t, const TextPiece& piece) {
      on_text(piece.text);
      return true;
    };
  }
  return complete_batch(model, tokenizer, {prompt}, CompletionOptions{options, {}}, on_row_text)
      .front()
      .text;
}

}  // namespace loom::infer
