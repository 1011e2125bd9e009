// The decode() and piece() shared by every kind of tokenizer.
#include "token_texts.hpp"

#include <iterator>
#include <utility>

#include <fmt/format.h>

#include "loom/core/error.hpp"

namespace loom::text::detail {

TokenTexts::TokenTexts(std::vector<std::string> regular) {
  texts_.reserve(kNumSpecialTokens + regular.size());
  texts_.assign(std::begin(kSpecialTokenNames), std::end(kSpecialTokenNames));
  for (std::string& text : regular)
    texts_.push_back(std::move(text));
}

const std::string& TokenTexts::text(TokenId id) const {
  if (id >= texts_.size()) {
    throw Error(fmt::format("tokenizer: token id {} is out of range: the vocabulary has {} ids", id,
                            texts_.size()));
  }
  return texts_[id];
}

std::string TokenTexts::decode(const TokenId* ids, std::size_t count, bool skip_special) const {
  std::string decoded;
  decoded.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const std::string& token_text = text(ids[i]);
    if (ids[i] == kPadId || (skip_special && ids[i] < kNumSpecialTokens)) continue;
    decoded += token_text;
  }
  return decoded;
}

std::string TokenTexts::piece(TokenId id) const {
  const std::string& token_text = text(id);
  const auto first = static_cast<unsigned char>(token_text.empty() ? 0 : token_text[0]);
  if (token_text.size() == 1 && first >= 0x80) return fmt::format("<0x{:02X}>", first);
  return token_text;
}

}  // namespace loom::text::detail
