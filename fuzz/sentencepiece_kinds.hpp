// The bpe and unigram tokenizers hand their model to SentencePiece, a
// plugin dlopen'ed with RTLD_DEEPBIND (text/sentencepiece_library.hpp),
// which the sanitizers' runtime cannot load: the fuzz targets leave those
// two kinds out. The model's bytes are SentencePiece's own protobuf, parsed
// by SentencePiece, not by Loom.
#pragma once

#include <nlohmann/json.hpp>

namespace loom::fuzz {

inline bool names_sentencepiece_kind(const nlohmann::json& tokenizer) {
  if (!tokenizer.is_object()) return false;
  const auto kind = tokenizer.find("kind");
  return kind != tokenizer.end() && (*kind == "bpe" || *kind == "unigram");
}

}  // namespace loom::fuzz
