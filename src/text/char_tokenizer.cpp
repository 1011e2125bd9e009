// The char tokenizer: one id per Unicode code point of its vocabulary, the
// rest <unk>. Encoding is the hot loop of `prepare` over gigabytes, so ids
// are found by direct indexing for the Basic Multilingual Plane (ASCII
// without even decoding, in the loop of char_units.hpp) and by binary search
// only above it.
#include <algorithm>
#include <unordered_map>
#include <utility>

#include "char_units.hpp"
#include "token_texts.hpp"
#include "tokenizer_json.hpp"
#include "tokenizer_kinds.hpp"
#include <fmt/format.h>

#include "loom/text/tokenizer.hpp"
#include "loom/text/utf8.hpp"

namespace loom::text {
namespace {

constexpr char32_t kPlaneSize = 0x10000;

std::vector<std::string> char_texts(const std::vector<char32_t>& chars) {
  std::vector<std::string> texts(chars.size());
  for (std::size_t i = 0; i < chars.size(); ++i)
    append_utf8(chars[i], texts[i]);
  return texts;
}

class CharTokenizer final : public Tokenizer {
 public:
  explicit CharTokenizer(const std::vector<char32_t>& chars)
      : bmp_ids_(kPlaneSize, kUnkId), texts_(char_texts(chars)) {
    for (std::size_t i = 0; i < chars.size(); ++i) {
      const TokenId id = kNumSpecialTokens + static_cast<TokenId>(i);
      if (chars[i] < kPlaneSize) {
        bmp_ids_[chars[i]] = id;
      } else {
        supplementary_ids_.emplace_back(chars[i], id);
      }
    }
    std::sort(supplementary_ids_.begin(), supplementary_ids_.end());
  }

  std::string kind() const override { return "char"; }
  std::uint32_t vocab_size() const override { return texts_.size(); }

  void encode(std::string_view text, std::vector<TokenId>& out, EncodeStats* stats) const override {
    // At most one id per byte: write into that room, then trim.
    const std::size_t start = out.size();
    out.resize(start + text.size());
    TokenId* const first = out.data() + start;
    const TokenId* const bmp_ids = bmp_ids_.data();
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    std::uint64_t invalid = 0;
    // Invalid UTF-8 reads as U+FFFD: its id when the vocabulary has it.
    TokenId* const last =
        detail::encode_units(p, p + text.size(), first, invalid, [&](char32_t code_point) {
          return code_point < kPlaneSize ? bmp_ids[code_point] : supplementary_id(code_point);
        });
    if (stats != nullptr) {
      stats->characters += last - first;
      stats->unknown += std::count(first, last, kUnkId);
      stats->invalid_utf8 += invalid;
    }
    out.resize(last - out.data());
  }

  std::string decode(const TokenId* ids, std::size_t count, bool skip_special) const override {
    return texts_.decode(ids, count, skip_special);
  }
  std::string piece(TokenId id) const override { return texts_.piece(id); }

  nlohmann::json to_json() const override {
    nlohmann::json json = detail::json_common_fields(kind(), vocab_size());
    nlohmann::json& chars = json["chars"] = nlohmann::json::array();
    for (TokenId id = kNumSpecialTokens; id < vocab_size(); ++id)
      chars.push_back(texts_.text(id));
    return json;
  }

 private:
  TokenId supplementary_id(char32_t code_point) const {
    const auto found = std::lower_bound(
        supplementary_ids_.begin(), supplementary_ids_.end(), code_point,
        [](const std::pair<char32_t, TokenId>& entry, char32_t key) { return entry.first < key; });
    if (found == supplementary_ids_.end() || found->first != code_point) return kUnkId;
    return found->second;
  }

  std::vector<TokenId> bmp_ids_;  // by code point below U+10000; kUnkId when absent
  std::vector<std::pair<char32_t, TokenId>> supplementary_ids_;  // sorted by code point
  detail::TokenTexts texts_;
};

// The code point of a JSON "chars" entry, which must be one valid character.
char32_t parse_char_entry(const nlohmann::json& entry, std::size_t index) {
  if (entry.is_string()) {
    const std::string& text = entry.get_ref<const std::string&>();
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    if (!text.empty()) {
      const Utf8Unit unit = decode_utf8(p, p + text.size());
      if (unit.valid && unit.length == text.size()) return unit.code_point;
    }
  }
  detail::throw_json_error(fmt::format("chars[{}] must be a string of one character, got {}", index,
                                       detail::describe_json(entry)));
}

}  // namespace

std::unique_ptr<Tokenizer> detail::make_char_tokenizer(const std::vector<char32_t>& chars) {
  return std::make_unique<CharTokenizer>(chars);
}

std::unique_ptr<Tokenizer> detail::char_tokenizer_from_json(const nlohmann::json& json) {
  const nlohmann::json& entries = json_array(json, "chars");
  std::vector<char32_t> chars;
  chars.reserve(entries.size());
  std::unordered_map<char32_t, std::size_t> index_of;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const char32_t code_point = parse_char_entry(entries[i], i);
    const auto [previous, inserted] = index_of.emplace(code_point, i);
    if (!inserted) {
      throw_json_error(fmt::format("chars[{}] {} repeats chars[{}]", i, describe_json(entries[i]),
                                   previous->second));
    }
    chars.push_back(code_point);
  }
  std::unique_ptr<Tokenizer> tokenizer = make_char_tokenizer(chars);
  check_json_common_fields(json, tokenizer->vocab_size());
  return tokenizer;
}

}  // namespace loom::text
