// Private to the text module: the text of every id of a vocabulary, which
// is all decode() and piece() need. Every kind of tokenizer keeps one, so
// the special tokens decode and display the same way everywhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "loom/text/tokenizer.hpp"

namespace loom::text::detail {

class TokenTexts {
 public:
  // `regular` holds the text of ids kNumSpecialTokens, kNumSpecialTokens + 1,
  // ...: what decode() appends for each.
  explicit TokenTexts(std::vector<std::string> regular);

  std::uint32_t size() const { return static_cast<std::uint32_t>(texts_.size()); }

  // What decode() appends for `id`; throws loom::Error on an id out of range.
  const std::string& text(TokenId id) const;

  // Tokenizer::decode: <pad> is skipped, the other specials appear as their
  // names unless `skip_special`; throws loom::Error on an id out of range.
  std::string decode(const TokenId* ids, std::size_t count, bool skip_special) const;

  // Tokenizer::piece: the token's text, except that a lone byte that is not
  // ASCII (a byte token) shows as "<0xE2>", since it is no text by itself.
  std::string piece(TokenId id) const;

 private:
  std::vector<std::string> texts_;  // by id, specials first
};

}  // namespace loom::text::detail
