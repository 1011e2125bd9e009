// Text in, text out: prompts encoded by the run's tokenizer, continued by
// generate_batch() (sampling.hpp), the new ids decoded, cut at stop strings.
// What the trainer's samples, `loom sample` and the server print.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "loom/infer/sampling.hpp"
#include "loom/model/language_model.hpp"
#include "loom/text/tokenizer.hpp"

namespace loom::infer {

// The prompt's ids. An empty prompt (or one that encodes to nothing) starts
// from <eos>, the token that ends the previous document: the model's way
// of saying "a new text begins here".
std::vector<std::int64_t> prompt_ids(const text::Tokenizer& tokenizer, const std::string& prompt);

struct CompletionOptions {
  SamplingOptions sampling;
  // A row ends as soon as its generated text contains one of these (matched
  // on the text, whatever the tokens); the text ends just before it. The
  // prompt is not searched.
  std::vector<std::string> stop;
};

// Throws loom::UsageError for bad sampling options or an empty stop string.
void check_completion_options(const CompletionOptions& options);

// A token of a text with its log-probability (SamplingOptions::logprobs).
struct TextLogprob {
  std::string text;         // the token's decoded bytes: maybe part of a UTF-8 character
  std::int64_t offset = 0;  // where it begins in its text, in bytes
  // Null for a text's first token, which nothing before it predicts.
  std::optional<double> logprob;
  // The likeliest tokens at its step, likeliest first (top_logprobs of them).
  std::vector<std::pair<std::string, double>> top;
};

struct Completion {
  std::string text;  // the generated text, without the prompt or a stop string
  // With options.sampling.logprobs, the tokens that make up `text`: each
  // token whose text begins inside it (a stop string can begin inside a
  // token's text, which then reaches past it). Else empty.
  std::vector<TextLogprob> logprobs;
  // Tokens generated, those of the stop string included (what
  // max_new_tokens counts).
  std::int64_t tokens = 0;
  FinishReason finish_reason = FinishReason::length;
};

// A row's text as it comes, in pieces that join up to exactly its
// Completion::text: usually one token's text, but text that might begin a
// stop string is held back until it cannot. A char or byte tokenizer's
// token may be part of a UTF-8 character: pieces are whole characters only
// once joined. With logprobs, the tokens whose text begins in this piece
// (they join up to Completion::logprobs). Both refer to complete_batch's
// own values: valid during the callback only.
struct TextPiece {
  const std::string& text;
  const std::vector<TextLogprob>& logprobs;
};

// Receives each piece; returning false ends that row
// (FinishReason::cancelled).
using TextCallback = std::function<bool(std::size_t row, const TextPiece& piece)>;

// Completion i continues prompts[i], generated as in generate_batch() (row
// i seeded with options.sampling.seed + i).
std::vector<Completion> complete_batch(model::LanguageModel& model,
                                       const text::Tokenizer& tokenizer,
                                       const std::vector<std::string>& prompts,
                                       const CompletionOptions& options,
                                       const TextCallback& on_text = {});

// The prompt's tokens (prompt_ids(), unless the prompt encodes to nothing:
// then none) and how likely the model finds each after the ones before it
// (score_tokens()); the first has no logprob. Offsets are in the prompt.
std::vector<TextLogprob> prompt_logprobs(model::LanguageModel& model,
                                         const text::Tokenizer& tokenizer,
                                         const std::string& prompt, const SamplingOptions& options);

// The text generated after `prompt` (the prompt itself not included), with
// no stop strings; `on_text`, when given, receives each new token's text.
std::string complete_text(model::LanguageModel& model, const text::Tokenizer& tokenizer,
                          const std::string& prompt, const SamplingOptions& options,
                          const std::function<void(const std::string&)>& on_text = {});

}  // namespace loom::infer
