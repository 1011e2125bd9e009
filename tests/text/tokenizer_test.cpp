// The contract every kind of tokenizer keeps: specials never come out of
// encode, decode treats them as documented, bad ids throw, and encoding is
// safe from several threads at once.
#include "loom/text/tokenizer.hpp"

#include <string>
#include <thread>
#include <vector>

#include "text_fixtures.hpp"
#include <gtest/gtest.h>

#include "loom/core/error.hpp"

namespace loom::text {
namespace {

using namespace loom::test;

using Ids = std::vector<TokenId>;

TEST(TokenizerContract, EncodeNeverEmitsPadBosOrEos) {
  const std::string text = "<pad><unk><bos><eos> <eos>\n" + kMixedText;
  for (const Tokenizer* tokenizer : every_kind()) {
    SCOPED_TRACE(tokenizer->kind());
    EncodeStats stats;
    const Ids ids = encode(*tokenizer, text, &stats);
    for (TokenId id : ids) {
      EXPECT_GE(id, kNumSpecialTokens);
      EXPECT_LT(id, tokenizer->vocab_size());
    }
    EXPECT_EQ(stats.unknown, 0u);
    EXPECT_EQ(tokenizer->decode(ids), text);
  }
}

TEST(TokenizerContract, DecodeShowsSpecialsByNameAndSkipsPad) {
  for (const Tokenizer* tokenizer : every_kind()) {
    SCOPED_TRACE(tokenizer->kind());
    Ids ids = {kBosId, kPadId};
    tokenizer->encode("to be", ids);
    ids.insert(ids.end(), {kUnkId, kEosId, kPadId});
    EXPECT_EQ(tokenizer->decode(ids), "<bos>to be<unk><eos>");
    EXPECT_EQ(tokenizer->decode(ids, /*skip_special=*/true), "to be");
    EXPECT_EQ(tokenizer->decode(ids.data(), 0), "");
  }
}

TEST(TokenizerContract, IdsOutOfRangeThrow) {
  for (const Tokenizer* tokenizer : every_kind()) {
    SCOPED_TRACE(tokenizer->kind());
    const TokenId too_big = tokenizer->vocab_size();
    const std::string message = "tokenizer: token id " + std::to_string(too_big) +
                                " is out of range: the vocabulary has " + std::to_string(too_big) +
                                " ids";
    try {
      tokenizer->decode(Ids{4, too_big});
      ADD_FAILURE() << "decode did not throw";
    } catch (const Error& e) {
      EXPECT_EQ(e.what(), message);
    }
    EXPECT_THROW(tokenizer->piece(too_big), Error);
    EXPECT_NO_THROW(tokenizer->piece(too_big - 1));
  }
}

TEST(TokenizerContract, EncodingFromTwoThreadsGivesTheSameIds) {
  const std::string text = joined(generated_lines(2000)) + kMixedText;
  for (const Tokenizer* tokenizer : every_kind()) {
    SCOPED_TRACE(tokenizer->kind());
    const Ids expected = encode(*tokenizer, text);
    Ids first;
    Ids second;
    std::thread other([&] { second = encode(*tokenizer, text); });
    first = encode(*tokenizer, text);
    other.join();
    EXPECT_EQ(first, expected);
    EXPECT_EQ(second, expected);
  }
}

}  // namespace
}  // namespace loom::text
