// SentencePiece bpe and unigram trained in memory on a generated sample:
// exact round trips, the newline piece, byte fallback against <unk>,
// determinism, and the refusals with their messages.
#include <string>
#include <vector>

#include "text_fixtures.hpp"
#include <gtest/gtest.h>

#include "loom/core/error.hpp"
#include "loom/text/tokenizer.hpp"

namespace loom::text {
namespace {

using namespace loom::test;

using Ids = std::vector<TokenId>;

class SentencePieceKinds : public ::testing::TestWithParam<const char*> {};

INSTANTIATE_TEST_SUITE_P(BpeAndUnigram, SentencePieceKinds, ::testing::Values("bpe", "unigram"));

TEST_P(SentencePieceKinds, HasTheRequestedKindAndSizeWithTheSpecialsFirst) {
  const Tokenizer& tokenizer = trained(GetParam(), 360, true);
  EXPECT_EQ(tokenizer.kind(), GetParam());
  EXPECT_EQ(tokenizer.vocab_size(), 360u);
  for (TokenId id = 0; id < kNumSpecialTokens; ++id)
    EXPECT_EQ(tokenizer.piece(id), kSpecialTokenNames[id]);
}

TEST_P(SentencePieceKinds, RoundTripsTheSampleExactly) {
  const Tokenizer& tokenizer = trained(GetParam(), 360, true);
  const std::string text = joined(training_sample());
  EncodeStats stats;
  const Ids ids = encode(tokenizer, text, &stats);
  EXPECT_EQ(tokenizer.decode(ids), text);
  EXPECT_LT(ids.size(), stats.characters * 3 / 4);  // it learned pieces longer than a character
  EXPECT_EQ(stats.unknown, 0u);
  EXPECT_EQ(stats.invalid_utf8, 0u);
}

TEST_P(SentencePieceKinds, KeepsSpacesAndNewlinesAsTheyAre) {
  const Tokenizer& tokenizer = trained(GetParam(), 360, true);
  for (const std::string text : {"  the cat", "the  cat  ", "\n\nthe\n cat\n", " ", "\t"})
    EXPECT_EQ(tokenizer.decode(encode(tokenizer, text)), text);
  // The newline is a piece of its own even though the sample has none.
  const Ids newline = encode(tokenizer, "\n");
  ASSERT_EQ(newline.size(), 1u);
  EXPECT_EQ(tokenizer.piece(newline[0]), "\n");
  const Ids cat = encode(tokenizer, "cat");
  Ids expected = cat;
  expected.insert(expected.end(), {newline[0], newline[0]});
  expected.insert(expected.end(), cat.begin(), cat.end());
  EXPECT_EQ(encode(tokenizer, "cat\n\ncat"), expected);
}

TEST_P(SentencePieceKinds, TextCutAtLineEndsEncodesAsAWhole) {
  const Tokenizer& tokenizer = trained(GetParam(), 360, true);
  const std::vector<std::string> lines = generated_lines(40);
  Ids line_by_line;
  for (const std::string& line : lines)
    tokenizer.encode(line + "\n", line_by_line);
  EXPECT_EQ(line_by_line, encode(tokenizer, joined(lines)));
}

TEST_P(SentencePieceKinds, ByteFallbackSpellsUnseenCharactersInBytes) {
  const Tokenizer& tokenizer = trained(GetParam(), 360, true);
  const std::string unseen = "\u0416\u0436 \U0001F680 ~";  // Cyrillic, rocket, tilde
  EncodeStats stats;
  const Ids ids = encode(tokenizer, unseen, &stats);
  EXPECT_EQ(tokenizer.decode(ids), unseen);
  EXPECT_EQ(stats.unknown, 0u);
  EXPECT_EQ(stats.characters, 6u);
  EXPECT_EQ(tokenizer.piece(ids[0]), "<0xD0>");
}

TEST_P(SentencePieceKinds, WithoutByteFallbackUnseenCharactersAreUnk) {
  const Tokenizer& tokenizer = trained(GetParam(), 120, false);
  EXPECT_EQ(tokenizer.vocab_size(), 120u);
  EncodeStats stats;
  const Ids ids = encode(tokenizer, "cat \u0416 dog \U0001F680", &stats);
  EXPECT_EQ(stats.unknown, 2u);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), kUnkId), 2);
  EXPECT_EQ(tokenizer.decode(ids), "cat <unk> dog <unk>");
  EXPECT_EQ(tokenizer.decode(ids, /*skip_special=*/true), "cat  dog ");
}

TEST_P(SentencePieceKinds, InvalidUtf8IsReplacedAndCountedAsForCharacters) {
  const Tokenizer& tokenizer = trained(GetParam(), 360, true);
  EncodeStats stats;
  // Truncated, lone continuation, overlong: 1 + 1 + 2 replacements.
  const Ids ids = encode(tokenizer, "cat\xE4\xB8 dog\x80\xC0\xAF", &stats);
  EXPECT_EQ(tokenizer.decode(ids), "cat\uFFFD dog\uFFFD\uFFFD\uFFFD");
  EXPECT_EQ(stats.invalid_utf8, 4u);
  EXPECT_EQ(stats.characters, 11u);
  EXPECT_EQ(stats.unknown, 0u);
}

TEST_P(SentencePieceKinds, TrainingIsDeterministic) {
  SentencePieceOptions options;
  options.model_type = GetParam();
  options.vocab_size = 360;
  options.character_coverage = 1.0;
  EXPECT_EQ(train_sentencepiece(training_sample(), options)->to_json(),
            trained(GetParam(), 360, true).to_json());
}

TEST(SentencePiece, TrainsOnParagraphsWithNewlines) {
  std::vector<std::string> paragraphs;
  const std::vector<std::string> lines = generated_lines(200);
  for (std::size_t i = 0; i + 4 <= lines.size(); i += 4)
    paragraphs.push_back(lines[i] + "\n" + lines[i + 1] + "\n\n" + lines[i + 2] + "\n" +
                         lines[i + 3]);
  SentencePieceOptions options;
  options.vocab_size = 340;
  const auto tokenizer = train_sentencepiece(paragraphs, options);
  const std::string text = paragraphs[0] + "\n" + paragraphs[1];
  EXPECT_EQ(tokenizer->decode(encode(*tokenizer, text)), text);
}

template <class Exception>
std::string refusal(const std::vector<std::string>& sample, const SentencePieceOptions& options) {
  try {
    train_sentencepiece(sample, options);
  } catch (const Exception& e) {
    return e.what();
  }
  return "no exception";
}

TEST(SentencePiece, RefusesOptionsThatCannotWork) {
  SentencePieceOptions options;
  options.model_type = "word";
  EXPECT_EQ(refusal<UsageError>(training_sample(), options),
            "train_sentencepiece: model_type 'word' is not one of bpe, unigram");
  options = {};
  options.vocab_size = 261;
  EXPECT_EQ(refusal<UsageError>(training_sample(), options),
            "train_sentencepiece: vocab_size 261 leaves no room for learned pieces: 261 ids go to "
            "the special tokens and the newline and the 256 byte pieces of byte_fallback");
  options.byte_fallback = false;
  options.vocab_size = 5;
  EXPECT_EQ(refusal<UsageError>(training_sample(), options),
            "train_sentencepiece: vocab_size 5 leaves no room for learned pieces: 5 ids go to the "
            "special tokens and the newline");
  options = {};
  options.character_coverage = 0;
  EXPECT_EQ(refusal<UsageError>(training_sample(), options),
            "train_sentencepiece: character_coverage 0 is not in (0, 1]");
  EXPECT_EQ(refusal<Error>({}, SentencePieceOptions{}), "train_sentencepiece: the sample is empty");
}

TEST(SentencePiece, ReportsWhatSentencePieceRefuses) {
  SentencePieceOptions options;
  options.vocab_size = 5000;
  const std::string message = refusal<Error>(training_sample(), options);
  EXPECT_EQ(message.rfind("train_sentencepiece: SentencePiece could not train a bpe vocabulary of "
                          "5000 on 300 texts: ",
                          0),
            0u)
      << message;
  EXPECT_NE(message.find("Vocabulary size too high (5000)"), std::string::npos) << message;
}

}  // namespace
}  // namespace loom::text
