// Text in, text out: the prompt encoded by the run's tokenizer, continued
// by generate() (sampling.hpp), and the new ids decoded. What the trainer's
// samples and `loom sample` print.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "loom/infer/sampling.hpp"
#include "loom/model/language_model.hpp"
#include "loom/text/tokenizer.hpp"

namespace loom::infer {

// The prompt's ids. An empty prompt (or one that encodes to nothing) starts
// from <eos>, the token that ends the previous document: the model's way
// of saying "a new text begins here".
std::vector<std::int64_t> prompt_ids(const text::Tokenizer& tokenizer, const std::string& prompt);

// The text generated after `prompt` (the prompt itself not included).
// `on_text`, when given, receives the text of each new token as it comes
// (a char or byte tokenizer's token may be part of a UTF-8 character: the
// pieces are whole characters only once joined).
std::string complete_text(model::LanguageModel& model, const text::Tokenizer& tokenizer,
                          const std::string& prompt, const SamplingOptions& options,
                          const std::function<void(const std::string&)>& on_text = {});

}  // namespace loom::infer
