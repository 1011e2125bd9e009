// The bpe and unigram tokenizers: a SentencePiece model held in memory,
// saved inside the tokenizer's JSON as base64 so nothing but that JSON is
// needed to rebuild it. Text reaches SentencePiece with invalid UTF-8
// already replaced under Loom's policy, so the counts in EncodeStats mean the
// same as for the char tokenizer.
#include <algorithm>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base64.hpp"
#include "sentencepiece_library.hpp"
#include "token_texts.hpp"
#include "tokenizer_json.hpp"
#include "tokenizer_kinds.hpp"
#include <fmt/format.h>

#include "loom/core/error.hpp"
#include "loom/text/tokenizer.hpp"
#include "loom/text/utf8.hpp"

namespace loom::text {
namespace {

// SentencePiece writes spaces inside pieces as U+2581.
constexpr std::string_view kSpaceMark = "\xE2\x96\x81";

// The id each special token must have in the model, and what it must be.
void check_special_pieces(const std::vector<spm::PieceInfo>& pieces, std::string_view origin) {
  for (TokenId id = 0; id < kNumSpecialTokens; ++id) {
    const spm::PieceInfo none;
    const spm::PieceInfo& info = id < pieces.size() ? pieces[id] : none;
    const std::string& piece = info.piece;
    const bool right_type = id == kUnkId ? info.unknown : info.control;
    if (piece != kSpecialTokenNames[id] || !right_type) {
      const char* expected_type = id == kUnkId ? "unknown" : "control";
      throw Error(
          fmt::format("{}: the SentencePiece model has '{}' at id {}, expected the {} token '{}'",
                      origin, piece, id, expected_type, kSpecialTokenNames[id]));
    }
  }
}

// What decode() appends for each id past the specials: a byte piece
// ("<0xE2>") its byte, a control or unused piece nothing, any other piece
// its text with U+2581 back to a space.
std::vector<std::string> piece_texts(const std::vector<spm::PieceInfo>& pieces) {
  std::vector<std::string> texts;
  for (std::size_t id = kNumSpecialTokens; id < pieces.size(); ++id) {
    const std::string& piece = pieces[id].piece;
    std::string text;
    if (pieces[id].byte) {
      text += static_cast<char>(std::strtoul(piece.substr(3, 2).c_str(), nullptr, 16));
    } else if (!pieces[id].control && !pieces[id].unused) {
      for (std::size_t at = 0; at < piece.size();) {
        if (piece.compare(at, kSpaceMark.size(), kSpaceMark) == 0) {
          text += ' ';
          at += kSpaceMark.size();
        } else {
          text += piece[at++];
        }
      }
    }
    texts.push_back(std::move(text));
  }
  return texts;
}

// A SentencePiece processor held by the plugin, released with it.
struct Processor {
  void* handle = nullptr;
  Processor() = default;
  Processor(const Processor&) = delete;
  Processor& operator=(const Processor&) = delete;
  ~Processor() {
    if (handle != nullptr) spm::plugin().release(handle);
  }
};

// Loads `model` into `processor` and returns the texts of its ids.
std::vector<std::string> load_model(Processor& processor, const std::string& model,
                                    std::string_view origin) {
  std::vector<spm::PieceInfo> pieces;
  std::string error;
  processor.handle = spm::plugin().load(model, pieces, error);
  if (processor.handle == nullptr)
    throw Error(fmt::format("{}: SentencePiece cannot load the model: {}", origin, error));
  check_special_pieces(pieces, origin);
  return piece_texts(pieces);
}

class SentencePieceTokenizer final : public Tokenizer {
 public:
  SentencePieceTokenizer(std::string kind, std::string model, std::string_view origin)
      : kind_(std::move(kind)),
        model_(std::move(model)),
        texts_(load_model(processor_, model_, origin)) {}

  std::string kind() const override { return kind_; }
  std::uint32_t vocab_size() const override { return texts_.size(); }

  void encode(std::string_view text, std::vector<TokenId>& out, EncodeStats* stats) const override {
    const Utf8Counts counts = count_utf8(text);
    std::string repaired;
    if (counts.invalid > 0) {
      repaired = replace_invalid_utf8(text);
      text = repaired;
    }
    std::vector<int> ids;
    std::string error;
    if (!spm::plugin().encode(processor_.handle, text, ids, error)) {
      throw Error(fmt::format("{} tokenizer: SentencePiece could not encode {} bytes: {}", kind_,
                              text.size(), error));
    }
    const std::size_t start = out.size();
    out.insert(out.end(), ids.begin(), ids.end());
    if (stats != nullptr) {
      stats->characters += counts.characters;
      stats->unknown += std::count(out.begin() + start, out.end(), kUnkId);
      stats->invalid_utf8 += counts.invalid;
    }
  }

  std::string decode(const TokenId* ids, std::size_t count, bool skip_special) const override {
    return texts_.decode(ids, count, skip_special);
  }
  std::string piece(TokenId id) const override { return texts_.piece(id); }

  nlohmann::json to_json() const override {
    nlohmann::json json = detail::json_common_fields(kind_, vocab_size());
    json["model"] = detail::base64_encode(model_);
    return json;
  }

 private:
  std::string kind_;
  std::string model_;    // the serialized ModelProto, kept for to_json
  Processor processor_;  // loaded while texts_ is made
  detail::TokenTexts texts_;
};

}  // namespace

std::unique_ptr<Tokenizer> detail::make_sentencepiece_tokenizer(std::string kind, std::string model,
                                                                std::string_view origin) {
  return std::make_unique<SentencePieceTokenizer>(std::move(kind), std::move(model), origin);
}

std::string sentencepiece_model_of(const nlohmann::json& json) {
  std::optional<std::string> model = detail::base64_decode(detail::json_string(json, "model"));
  if (!model) detail::throw_json_error("field 'model' is not valid base64");
  return std::move(*model);
}

std::unique_ptr<Tokenizer> detail::sentencepiece_tokenizer_from_json(const nlohmann::json& json) {
  std::unique_ptr<Tokenizer> tokenizer = make_sentencepiece_tokenizer(
      json_string(json, "kind"), sentencepiece_model_of(json), "tokenizer JSON");
  check_json_common_fields(json, tokenizer->vocab_size());
  return tokenizer;
}

}  // namespace loom::text
