// Private to the text module: base64 (RFC 4648, with padding), which lets a
// binary SentencePiece model travel inside the tokenizer's JSON.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace loom::text::detail {

std::string base64_encode(std::string_view bytes);

// The bytes of `text`, or nothing when it is not canonical padded base64
// (wrong length, a character outside the alphabet, misplaced '=').
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace loom::text::detail
