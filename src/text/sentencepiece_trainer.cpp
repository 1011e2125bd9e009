// train_sentencepiece: trains a bpe or unigram model in memory on a sample
// of the corpus. The settings keep text exactly as it is (no normalization,
// no added or removed spaces) so decode(encode(text)) gives the text back,
// and pin ids 0-3 to Loom's special tokens.
#include <algorithm>
#include <string>
#include <unordered_map>

#include "sentencepiece_library.hpp"
#include "tokenizer_kinds.hpp"
#include <fmt/format.h>

#include "loom/core/error.hpp"
#include "loom/text/tokenizer.hpp"
#include "loom/text/utf8.hpp"

namespace loom::text {
namespace {

// Unigram training splits its work by thread and sums in thread order: a
// fixed count keeps the float sums, and so the vocabulary, the same on every
// machine.
constexpr int kTrainingThreads = 8;
// SentencePiece skips training sentences longer than this unless told
// otherwise; Loom raises it to the longest in the sample so none is lost.
constexpr std::size_t kDefaultMaxSentenceBytes = 4192;
constexpr std::uint32_t kByteFallbackPieces = 256;

// Feeds the sample to the trainer, with invalid UTF-8 replaced as encode()
// will replace it.
bool needs_utf8_repair(std::string_view text) {
  return count_utf8(text).invalid > 0;
}
std::string repair_utf8(std::string_view text) {
  return replace_invalid_utf8(text);
}

void check_options(const std::vector<std::string>& sample, const SentencePieceOptions& options) {
  if (options.model_type != "bpe" && options.model_type != "unigram") {
    throw UsageError(fmt::format("train_sentencepiece: model_type '{}' is not one of bpe, unigram",
                                 options.model_type));
  }
  if (!(options.character_coverage > 0 && options.character_coverage <= 1)) {
    throw UsageError(fmt::format("train_sentencepiece: character_coverage {} is not in (0, 1]",
                                 options.character_coverage));
  }
  // The specials, the newline piece and, with byte_fallback, the 256 byte
  // pieces come before anything learned.
  const std::uint32_t fixed_pieces =
      kNumSpecialTokens + 1 + (options.byte_fallback ? kByteFallbackPieces : 0);
  if (options.vocab_size <= fixed_pieces) {
    throw UsageError(fmt::format(
        "train_sentencepiece: vocab_size {} leaves no room for learned pieces: {} ids go to the "
        "special tokens and the newline{}",
        options.vocab_size, fixed_pieces,
        options.byte_fallback ? " and the 256 byte pieces of byte_fallback" : ""));
  }
  if (sample.empty()) throw Error("train_sentencepiece: the sample is empty");
}

std::unordered_map<std::string, std::string> trainer_arguments(
    const std::vector<std::string>& sample, const SentencePieceOptions& options) {
  std::size_t longest = kDefaultMaxSentenceBytes;
  for (const std::string& text : sample)
    longest = std::max(longest, text.size());
  return {
      {"model_type", options.model_type},
      {"vocab_size", std::to_string(options.vocab_size)},
      {"character_coverage", fmt::format("{}", options.character_coverage)},
      {"byte_fallback", options.byte_fallback ? "true" : "false"},
      // Ids 0-3 are Loom's specials, under Loom's names.
      {"pad_id", std::to_string(kPadId)},
      {"unk_id", std::to_string(kUnkId)},
      {"bos_id", std::to_string(kBosId)},
      {"eos_id", std::to_string(kEosId)},
      {"pad_piece", kSpecialTokenNames[kPadId]},
      {"unk_piece", kSpecialTokenNames[kUnkId]},
      {"bos_piece", kSpecialTokenNames[kBosId]},
      {"eos_piece", kSpecialTokenNames[kEosId]},
      // The text as it is: no Unicode normalization, no space added before
      // a text or squeezed out of it, indentation learnable.
      {"normalization_rule_name", "identity"},
      {"add_dummy_prefix", "false"},
      {"remove_extra_whitespaces", "false"},
      {"allow_whitespace_only_pieces", "true"},
      // A newline is always a token of its own, even when the sample (one
      // line per string) has none to learn it from.
      {"user_defined_symbols", "\n"},
      {"max_sentence_length", std::to_string(longest)},
      {"num_threads", std::to_string(kTrainingThreads)},
      {"minloglevel", "2"},  // errors only: training is not chatty
  };
}

}  // namespace

std::unique_ptr<Tokenizer> train_sentencepiece(const std::vector<std::string>& sample,
                                               const SentencePieceOptions& options) {
  check_options(sample, options);
  // Texts reach SentencePiece with invalid UTF-8 replaced under Loom's
  // policy, one at a time.
  const spm::TrainingSample texts{&sample, needs_utf8_repair, repair_utf8};
  // SentencePiece keeps its seed process-wide and reserves 0xFFFFFFFF for
  // "seed from the clock".
  const auto seed = static_cast<unsigned>(options.seed % 0xFFFFFFFFu);
  std::string model, error;
  if (!spm::plugin().train(trainer_arguments(sample, options), texts, seed, model, error)) {
    throw Error(
        fmt::format("train_sentencepiece: SentencePiece could not train a {} vocabulary "
                    "of {} on {} texts: {}",
                    options.model_type, options.vocab_size, sample.size(), error));
  }
  return detail::make_sentencepiece_tokenizer(options.model_type, std::move(model),
                                              "train_sentencepiece");
}

}  // namespace loom::text
