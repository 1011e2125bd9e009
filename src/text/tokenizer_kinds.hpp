// Private to the text module: how each kind of tokenizer is made, from its
// builder or trainer and from its JSON. tokenizer_from_json dispatches here.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "loom/text/tokenizer.hpp"

namespace loom::text::detail {

// A char tokenizer whose ids kNumSpecialTokens, ... are `chars`, in that
// order; the caller guarantees they are distinct Unicode scalar values.
std::unique_ptr<Tokenizer> make_char_tokenizer(const std::vector<char32_t>& chars);

// A bpe or unigram tokenizer from a serialized SentencePiece model. Errors
// begin with `origin` ("tokenizer JSON", "train_sentencepiece").
std::unique_ptr<Tokenizer> make_sentencepiece_tokenizer(std::string kind, std::string model,
                                                        std::string_view origin);

// The JSON readers; `json` is an object whose "kind" names the reader's kind.
std::unique_ptr<Tokenizer> char_tokenizer_from_json(const nlohmann::json& json);
std::unique_ptr<Tokenizer> byte_tokenizer_from_json(const nlohmann::json& json);
std::unique_ptr<Tokenizer> sentencepiece_tokenizer_from_json(const nlohmann::json& json);

}  // namespace loom::text::detail
