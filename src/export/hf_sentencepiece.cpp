// Loom's bpe tokenizer for the `tokenizers` library; see
// hf_sentencepiece.hpp. The model is read with a small reader of protobuf's
// wire format, for the few fields the conversion needs (sentencepiece_model.proto:
// the pieces, trainer_spec's model_type and byte_fallback, normalizer_spec),
// with proto2's defaults where a field is absent.
#include "hf_sentencepiece.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "export_detail.hpp"
#include <fmt/format.h>

#include "loom/core/error.hpp"
#include "loom/text/tokenizer.hpp"

namespace loom::exporting::detail {
namespace {

using nlohmann::json;

// SentencePiece writes a space inside a piece as U+2581.
constexpr const char* kSpaceMark = "\xE2\x96\x81";

// ModelProto.SentencePiece.Type.
enum class PieceType : std::uint64_t {
  normal = 1,
  unknown = 2,
  control = 3,
  user_defined = 4,
  unused = 5,
  byte = 6
};

// TrainerSpec.ModelType.
constexpr std::uint64_t kUnigramModel = 1;
constexpr std::uint64_t kBpeModel = 2;

struct Piece {
  std::string text;
  float score = 0;
  PieceType type = PieceType::normal;
};

// What the conversion reads from a ModelProto; the defaults are proto2's.
struct SentencePieceModel {
  std::vector<Piece> pieces;
  std::uint64_t model_type = kUnigramModel;
  bool byte_fallback = false;
  std::string normalizer_name;
  bool normalizer_has_rules = false;  // precompiled_charsmap or normalization_rule_tsv
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
  bool escape_whitespaces = true;
};

[[noreturn]] void throw_damaged(const std::string& what) {
  throw Error(fmt::format(
      "--format hf: the SentencePiece model in the tokenizer JSON is not a valid model: {}", what));
}

// One field of a protobuf message: its number and, by wire type, its varint
// or fixed value, or its bytes.
struct Field {
  std::uint64_t number = 0;
  std::uint64_t wire_type = 0;
  std::uint64_t value = 0;
  std::string_view bytes;
};

class WireReader {
 public:
  explicit WireReader(std::string_view data) : data_(data) {}

  // The next field, or false at the end of the message.
  bool next(Field& field) {
    if (at_ == data_.size()) return false;
    const std::uint64_t key = varint();
    field.number = key >> 3;
    field.wire_type = key & 7;
    field.bytes = {};
    field.value = 0;
    switch (field.wire_type) {
      case 0:
        field.value = varint();
        break;
      case 1:
        field.bytes = take(8);
        break;
      case 2:
        field.bytes = take(varint());
        break;
      case 5:
        field.bytes = take(4);
        break;
      default:
        throw_damaged(fmt::format("field {} has wire type {}", field.number, field.wire_type));
    }
    return true;
  }

 private:
  std::uint64_t varint() {
    std::uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (at_ == data_.size()) throw_damaged("it ends inside a number");
      const auto byte = static_cast<unsigned char>(data_[at_++]);
      value |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
      if (byte < 0x80) return value;
    }
    throw_damaged("a number is longer than 10 bytes");
  }

  std::string_view take(std::uint64_t size) {
    if (size > data_.size() - at_) throw_damaged("a field runs past its end");
    const std::string_view bytes = data_.substr(at_, size);
    at_ += size;
    return bytes;
  }

  std::string_view data_;
  std::size_t at_ = 0;
};

float fixed32_float(const Field& field) {
  if (field.wire_type != 5) throw_damaged("a piece's score is not a float");
  std::uint32_t bits = 0;
  for (int i = 3; i >= 0; --i)
    bits = (bits << 8) | static_cast<unsigned char>(field.bytes[i]);
  float value = 0;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

Piece read_piece(std::string_view message) {
  Piece piece;
  WireReader reader(message);
  for (Field field; reader.next(field);) {
    if (field.number == 1 && field.wire_type == 2) piece.text = field.bytes;
    if (field.number == 2) piece.score = fixed32_float(field);
    if (field.number == 3 && field.wire_type == 0) piece.type = PieceType{field.value};
  }
  return piece;
}

SentencePieceModel read_model(std::string_view bytes) {
  SentencePieceModel model;
  WireReader reader(bytes);
  for (Field field; reader.next(field);) {
    if (field.wire_type != 2) continue;
    if (field.number == 1) {
      model.pieces.push_back(read_piece(field.bytes));
    } else if (field.number == 2) {  // TrainerSpec
      WireReader spec(field.bytes);
      for (Field option; spec.next(option);) {
        if (option.wire_type != 0) continue;
        if (option.number == 3) model.model_type = option.value;
        if (option.number == 35) model.byte_fallback = option.value != 0;
      }
    } else if (field.number == 3) {  // NormalizerSpec
      WireReader spec(field.bytes);
      for (Field option; spec.next(option);) {
        if (option.number == 1 && option.wire_type == 2) model.normalizer_name = option.bytes;
        if ((option.number == 2 || option.number == 6) && !option.bytes.empty())
          model.normalizer_has_rules = true;
        if (option.wire_type != 0) continue;
        if (option.number == 3) model.add_dummy_prefix = option.value != 0;
        if (option.number == 4) model.remove_extra_whitespaces = option.value != 0;
        if (option.number == 5) model.escape_whitespaces = option.value != 0;
      }
    }
  }
  return model;
}

// The pieces a merge may make or use: SentencePiece's BPE merges two
// symbols whenever their text is a normal or user-defined piece.
bool mergeable(const Piece& piece) {
  return piece.type == PieceType::normal || piece.type == PieceType::user_defined;
}

bool continues_character(char byte) {
  return (static_cast<unsigned char>(byte) & 0xC0) == 0x80;
}

std::size_t characters(std::string_view text) {
  return static_cast<std::size_t>(std::count_if(
      text.begin(), text.end(), [](char byte) { return !continues_character(byte); }));
}

// Why `model` cannot be written so that transformers encodes exactly as
// SentencePiece does, or "" when it can: settings Loom's trainer never
// writes, each of which would need more than the parts written here.
std::string unsupported(const SentencePieceModel& model) {
  if (model.model_type != kBpeModel) return "is not a BPE model";
  if (model.normalizer_has_rules) {
    return fmt::format("normalizes text (rule {}), which Loom's trainer never asks for",
                       model.normalizer_name);
  }
  if (model.add_dummy_prefix) return "adds a space before each text (add_dummy_prefix)";
  if (model.remove_extra_whitespaces) return "removes extra spaces (remove_extra_whitespaces)";
  if (!model.escape_whitespaces) return "keeps spaces unescaped (escape_whitespaces false)";
  for (text::TokenId id = 0; id < text::kNumSpecialTokens; ++id) {
    if (id >= model.pieces.size() || model.pieces[id].text != text::kSpecialTokenNames[id]) {
      return fmt::format("lacks Loom's special token {} at id {}", text::kSpecialTokenNames[id],
                         id);
    }
  }
  for (const Piece& piece : model.pieces) {
    // SentencePiece merges into an unused piece and then splits it again,
    // which a list of merges cannot say.
    if (piece.type == PieceType::unused)
      return fmt::format("has the unused piece '{}'", piece.text);
    if (piece.type != PieceType::user_defined) continue;
    // A user-defined piece is never merged with its neighbours; with no
    // other piece containing it, no merge below can either.
    if (characters(piece.text) != 1)
      return fmt::format("has the user-defined piece '{}' of several characters", piece.text);
    for (const Piece& other : model.pieces) {
      if (mergeable(other) && &other != &piece && other.text.find(piece.text) != std::string::npos)
        return fmt::format("has '{}' inside the piece '{}'", piece.text, other.text);
    }
  }
  return "";
}

SentencePieceModel checked_model(const json& tokenizer) {
  const std::string kind = tokenizer.at("kind").get<std::string>();
  if (kind == "unigram") {
    // SentencePiece picks a unigram segmentation by the best sum of piece
    // scores, summed in float32 from the start of the text; transformers'
    // Unigram sums in float64. A few thousand tokens in, float32 no longer
    // tells near-equal segmentations apart and the two pick differently
    // (on Tiny Shakespeare, in its first 16000 tokens).
    throw UsageError(
        "--format hf: the unigram tokenizer (prepare.tokenizer) cannot be written for Hugging "
        "Face exactly: SentencePiece sums a segmentation's scores in float32 along the whole "
        "text, transformers' Unigram in float64, and in long texts the two segment differently; "
        "use prepare.tokenizer: bpe, or export it with --format safetensors");
  }
  const SentencePieceModel model = read_model(text::sentencepiece_model_of(tokenizer));
  const std::string why = unsupported(model);
  if (!why.empty()) {
    throw UsageError(
        fmt::format("--format hf: the {} tokenizer (prepare.tokenizer) cannot be written for "
                    "Hugging Face: its SentencePiece model {}; export it with --format "
                    "safetensors",
                    kind, why));
  }
  return model;
}

// Every pair of pieces whose texts join into a piece, most preferred first.
// SentencePiece merges the adjacent pair whose joined text is the piece of
// the highest score (for BPE, the piece learned first), leftmost first; a
// BPE model with these merges ranked by that score merges the same pairs in
// the same order. (What ranks cannot say: two different cuts of one piece
// that overlap, as the symbols "ab" "a" "ba" hold "ab"+"a" and "a"+"ba",
// both "aba"; SentencePiece merges the leftmost, transformers the first
// listed. Not met on Tiny Shakespeare.)
json merges(const SentencePieceModel& model) {
  std::map<std::string_view, std::size_t> ids;
  for (std::size_t id = 0; id < model.pieces.size(); ++id) {
    if (mergeable(model.pieces[id])) ids.emplace(model.pieces[id].text, id);
  }
  struct Merge {
    std::size_t id;  // of the joined piece
    std::size_t cut;
  };
  std::vector<Merge> found;
  for (const auto& [text, id] : ids) {
    for (std::size_t cut = 1; cut < text.size(); ++cut) {
      if (continues_character(text[cut])) continue;
      if (ids.count(text.substr(0, cut)) != 0 && ids.count(text.substr(cut)) != 0)
        found.push_back({id, cut});
    }
  }
  std::sort(found.begin(), found.end(), [&](const Merge& a, const Merge& b) {
    const float score_a = model.pieces[a.id].score;
    const float score_b = model.pieces[b.id].score;
    if (score_a != score_b) return score_a > score_b;
    return a.id != b.id ? a.id < b.id : a.cut < b.cut;
  });
  json result = json::array();
  for (const Merge& merge : found) {
    const std::string& text = model.pieces[merge.id].text;
    result.push_back({text.substr(0, merge.cut), text.substr(merge.cut)});
  }
  return result;
}

// The `tokenizers` normalizer or decoder that replaces `from` with `to`.
json replace(const char* from, const char* to) {
  return {{"type", "Replace"}, {"pattern", {{"String", from}}}, {"content", to}};
}

}  // namespace

void check_sentencepiece_exportable(const json& tokenizer) {
  checked_model(tokenizer);
}

json sentencepiece_tokenizer_parts(const json& tokenizer) {
  const SentencePieceModel model = checked_model(tokenizer);
  json vocab = json::object();
  for (std::size_t id = 0; id < model.pieces.size(); ++id)
    vocab[model.pieces[id].text] = id;
  json decoders = json::array();
  decoders.push_back(replace(kSpaceMark, " "));
  if (model.byte_fallback) decoders.push_back({{"type", "ByteFallback"}});
  decoders.push_back({{"type", "Fuse"}});
  // SentencePiece gives a run of unknown characters one <unk> (fuse_unk).
  json bpe = hf_bpe_model(std::move(vocab), merges(model), text::kSpecialTokenNames[text::kUnkId],
                          /*fuse_unk=*/true, model.byte_fallback);
  return {{"normalizer", replace(" ", kSpaceMark)},
          {"pre_tokenizer", nullptr},
          {"model", std::move(bpe)},
          {"decoder", {{"type", "Sequence"}, {"decoders", std::move(decoders)}}}};
}

}  // namespace loom::exporting::detail
