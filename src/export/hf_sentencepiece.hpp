// Private to the export module: Loom's SentencePiece tokenizer (bpe) as
// the `tokenizers` library's BPE, read straight from the model that Loom's
// tokenizer JSON carries (a serialized ModelProto, read here by its wire
// format: the export needs no protobuf and no SentencePiece plugin).
//
// What makes transformers encode exactly as SentencePiece does, with the
// settings Loom's trainer writes (sentencepiece_trainer.cpp):
//
//   normalizer     a space becomes U+2581, nothing else changes (the
//                  identity rule, no dummy prefix, every space kept)
//   pre_tokenizer  none: SentencePiece merges over the whole text, so the
//                  BPE model gets it whole
//   model          BPE with a merge for every way of cutting a piece into
//                  two pieces, in the order of the pieces' scores (the order
//                  SentencePiece merges in); characters outside the
//                  vocabulary become their byte pieces (byte_fallback) or
//                  one <unk> per run of them, as SentencePiece fuses them
//   decoder        U+2581 back to a space, byte pieces to their bytes
//
// The unigram tokenizer is refused: see check_sentencepiece_exportable.
#pragma once

#include <nlohmann/json.hpp>

namespace loom::exporting::detail {

// Throws loom::UsageError when the bpe or unigram tokenizer of Loom's
// tokenizer JSON `tokenizer` cannot be written so that transformers gives
// Loom's ids for every text: the unigram tokenizer, and a model with
// settings Loom's trainer never writes.
void check_sentencepiece_exportable(const nlohmann::json& tokenizer);

// tokenizer.json's "normalizer", "pre_tokenizer", "model" and "decoder"
// for a bpe tokenizer's JSON (check_sentencepiece_exportable's checks
// included).
nlohmann::json sentencepiece_tokenizer_parts(const nlohmann::json& tokenizer);

}  // namespace loom::exporting::detail
