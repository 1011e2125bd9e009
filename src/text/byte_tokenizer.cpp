// The byte tokenizer: ids kNumSpecialTokens..kNumSpecialTokens+255 are the
// byte values 0..255. It reads any input, valid UTF-8 or not, and decodes
// to exactly the bytes it was given.
#include <string>
#include <vector>

#include "token_texts.hpp"
#include "tokenizer_json.hpp"
#include "tokenizer_kinds.hpp"

#include "loom/text/tokenizer.hpp"

namespace loom::text {
namespace {

constexpr std::uint32_t kByteValues = 256;

std::vector<std::string> byte_texts() {
  std::vector<std::string> texts;
  texts.reserve(kByteValues);
  for (std::uint32_t value = 0; value < kByteValues; ++value)
    texts.emplace_back(1, static_cast<char>(value));
  return texts;
}

class ByteTokenizer final : public Tokenizer {
 public:
  ByteTokenizer() : texts_(byte_texts()) {}

  std::string kind() const override { return "byte"; }
  std::uint32_t vocab_size() const override { return texts_.size(); }

  // stats->characters counts bytes; the byte tokenizer does not read the
  // text as UTF-8, so nothing is unknown or invalid.
  void encode(std::string_view text, std::vector<TokenId>& out, EncodeStats* stats) const override {
    const std::size_t start = out.size();
    out.resize(start + text.size());
    TokenId* ids = out.data() + start;
    const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
    for (std::size_t i = 0; i < text.size(); ++i)
      ids[i] = kNumSpecialTokens + bytes[i];
    if (stats != nullptr) stats->characters += text.size();
  }

  std::string decode(const TokenId* ids, std::size_t count, bool skip_special) const override {
    return texts_.decode(ids, count, skip_special);
  }
  std::string piece(TokenId id) const override { return texts_.piece(id); }

  nlohmann::json to_json() const override {
    return detail::json_common_fields(kind(), vocab_size());
  }

 private:
  detail::TokenTexts texts_;
};

}  // namespace

std::unique_ptr<Tokenizer> make_byte_tokenizer() {
  return std::make_unique<ByteTokenizer>();
}

std::unique_ptr<Tokenizer> detail::byte_tokenizer_from_json(const nlohmann::json& json) {
  std::unique_ptr<Tokenizer> tokenizer = make_byte_tokenizer();
  check_json_common_fields(json, tokenizer->vocab_size());
  return tokenizer;
}

}  // namespace loom::text
