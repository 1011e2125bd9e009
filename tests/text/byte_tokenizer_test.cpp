// The byte tokenizer: ids are byte values plus 4, any bytes round-trip
// exactly, and cuts anywhere give the same ids.
#include <string>
#include <vector>

#include "text_fixtures.hpp"
#include <gtest/gtest.h>

#include "loom/text/tokenizer.hpp"

namespace loom::text {
namespace {

using namespace loom::test;

using Ids = std::vector<TokenId>;

std::string every_byte_value() {
  std::string bytes;
  for (int value = 0; value < 256; ++value)
    bytes += static_cast<char>(value);
  return bytes;
}

TEST(ByteTokenizer, IdsAreByteValuesAfterTheSpecials) {
  const auto tokenizer = make_byte_tokenizer();
  EXPECT_EQ(tokenizer->kind(), "byte");
  EXPECT_EQ(tokenizer->vocab_size(), 260u);
  EXPECT_EQ(encode(*tokenizer, std::string("a\0\xFF", 3)), (Ids{4 + 'a', 4, 259}));
}

TEST(ByteTokenizer, ArbitraryBytesRoundTripExactly) {
  const auto tokenizer = make_byte_tokenizer();
  const std::string bytes = every_byte_value() + "\xE4\xB8\xC0\xAF" + kMixedText;
  EncodeStats stats;
  const Ids ids = encode(*tokenizer, bytes, &stats);
  EXPECT_EQ(ids.size(), bytes.size());
  EXPECT_EQ(tokenizer->decode(ids), bytes);
  EXPECT_EQ(stats.characters, bytes.size());
  EXPECT_EQ(stats.unknown, 0u);
  EXPECT_EQ(stats.invalid_utf8, 0u);
}

TEST(ByteTokenizer, EncodingDoesNotDependOnWhereTheTextIsCut) {
  const auto tokenizer = make_byte_tokenizer();
  const std::string text = kMixedText + "\xE4\xB8";
  const Ids whole = encode(*tokenizer, text);
  for (std::size_t cut = 0; cut <= text.size(); ++cut) {
    Ids ids;
    tokenizer->encode(std::string_view(text).substr(0, cut), ids);
    tokenizer->encode(std::string_view(text).substr(cut), ids);
    EXPECT_EQ(ids, whole) << cut;
  }
}

TEST(ByteTokenizer, PiecesShowAsciiAsItselfAndOtherBytesInHex) {
  const auto tokenizer = make_byte_tokenizer();
  EXPECT_EQ(tokenizer->piece(4 + 'a'), "a");
  EXPECT_EQ(tokenizer->piece(4 + '\n'), "\n");
  EXPECT_EQ(tokenizer->piece(4 + 0xE2), "<0xE2>");
  EXPECT_EQ(tokenizer->piece(259), "<0xFF>");
  EXPECT_EQ(tokenizer->piece(kUnkId), "<unk>");
}

}  // namespace
}  // namespace loom::text
