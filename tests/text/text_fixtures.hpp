// Fixtures shared by the tokenizer suites: a generated corpus with ASCII,
// accented, CJK, emoji, ZWJ and combining-mark text, and one tokenizer of
// each kind trained or built on it (once per test binary: SentencePiece
// training is the slow part).
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "loom/text/tokenizer.hpp"

namespace loom::test {

// Text that exercises every way a character can be spelled in UTF-8.
inline const std::string kMixedText =
    "Hello, world!\n"
    "caf\u00e9 na\u00efve \u00fcber\n"         // 2-byte characters
    "\u4e2d\u6587\u5b57\u7b26\n"               // 3-byte CJK
    "\U0001F339 \U0001F469\u200D\U0001F4BB\n"  // emoji and a ZWJ sequence
    "e\u0301 a\u0308\n";                       // combining marks

// `lines` lines of generated text, the same on every machine: words drawn
// with std::mt19937, whose output the standard fixes.
inline std::vector<std::string> generated_lines(std::size_t lines) {
  static const std::vector<std::string> kWords = [] {
    std::istringstream text(
        "the quick brown fox jumps over lazy dog and cat sat on mat king queen speak thou art "
        "shall not to be or what is love ROMEO: JULIET: , . ! ? caf\u00e9 na\u00efve \u00fcber "
        "\u4e2d\u6587 \u5b57\u7b26 \U0001F339 \U0001F469\u200D\U0001F4BB e\u0301t\u00e9");
    std::vector<std::string> words;
    for (std::string word; text >> word;)
      words.push_back(word);
    return words;
  }();
  std::mt19937 random(20240601);
  std::vector<std::string> text;
  for (std::size_t i = 0; i < lines; ++i) {
    std::string line;
    const std::size_t words = 4 + random() % 9;
    for (std::size_t w = 0; w < words; ++w) {
      if (w > 0) line += ' ';
      line += kWords[random() % kWords.size()];
    }
    text.push_back(line);
  }
  return text;
}

inline std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines)
    text += line + '\n';
  return text;
}

inline std::vector<text::TokenId> encode(const text::Tokenizer& tokenizer, std::string_view text,
                                         text::EncodeStats* stats = nullptr) {
  std::vector<text::TokenId> ids;
  tokenizer.encode(text, ids, stats);
  return ids;
}

// The sample every SentencePiece test trains on: small, so training stays
// well under a second.
inline const std::vector<std::string>& training_sample() {
  static const std::vector<std::string> sample = generated_lines(300);
  return sample;
}

// A SentencePiece tokenizer of `model_type` trained on training_sample(),
// trained once per binary and option set.
inline const text::Tokenizer& trained(const std::string& model_type, std::uint32_t vocab_size,
                                      bool byte_fallback) {
  static std::vector<std::pair<std::string, std::unique_ptr<text::Tokenizer>>> cache;
  const std::string key =
      model_type + "/" + std::to_string(vocab_size) + "/" + std::to_string(byte_fallback);
  for (const auto& entry : cache)
    if (entry.first == key) return *entry.second;
  text::SentencePieceOptions options;
  options.model_type = model_type;
  options.vocab_size = vocab_size;
  options.byte_fallback = byte_fallback;
  options.character_coverage = 1.0;
  cache.emplace_back(key, text::train_sentencepiece(training_sample(), options));
  return *cache.back().second;
}

// One tokenizer of each kind, all able to encode the training sample.
inline std::vector<const text::Tokenizer*> every_kind() {
  static const std::unique_ptr<text::Tokenizer> char_tokenizer = [] {
    text::CharVocabBuilder builder;
    builder.add(joined(training_sample()));
    builder.add(kMixedText);
    builder.add("<>");
    return builder.build({});
  }();
  static const std::unique_ptr<text::Tokenizer> byte_tokenizer = text::make_byte_tokenizer();
  return {char_tokenizer.get(), byte_tokenizer.get(), &trained("bpe", 360, true),
          &trained("unigram", 360, true)};
}

}  // namespace loom::test
