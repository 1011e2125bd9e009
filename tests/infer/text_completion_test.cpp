// Text completion: the stop-string filter on hand-made streams (a stop
// string inside one piece, across pieces, overlapping its own prefix, the
// earliest of several), and complete_batch() on an untrained model with a
// character tokenizer: the text ends just before the first stop string, the
// streamed pieces join up to the returned text, rows equal their prompts
// alone, and the caller can cancel a row.
#include "loom/infer/text_completion.hpp"

#include <string>
#include <vector>

#include "generation_test_support.hpp"
#include <gtest/gtest.h>

#include "loom/core/error.hpp"
#include "loom/infer/stop_strings.hpp"

namespace loom::infer {
namespace {

using namespace loom::test;

// Each add()'s output, in order.
std::vector<std::string> shown(StopStringFilter& filter, const std::vector<std::string>& pieces) {
  std::vector<std::string> out;
  for (const std::string& piece : pieces)
    out.push_back(filter.add(piece));
  return out;
}

using Pieces = std::vector<std::string>;

TEST(StopStringFilter, WithoutStopStringsShowsEachPieceAsItComes) {
  StopStringFilter filter({});
  EXPECT_EQ(shown(filter, {"ab", "", "c\n"}), (Pieces{"ab", "", "c\n"}));
  EXPECT_FALSE(filter.stopped());
  EXPECT_EQ(filter.flush(), "");
}

TEST(StopStringFilter, HoldsBackWhatMightBeginAStopStringAcrossPieces) {
  StopStringFilter filter({"\n\n"});
  EXPECT_EQ(shown(filter, {"ab\n", "c", "\n", "\nxyz", "more"}), (Pieces{"ab", "\nc", "", "", ""}));
  EXPECT_TRUE(filter.stopped());
  EXPECT_EQ(filter.flush(), "");
}

TEST(StopStringFilter, EndsInsideAPieceAndDropsTheRest) {
  StopStringFilter filter({"END"});
  EXPECT_EQ(shown(filter, {"hello ", "wor", "ld END and after"}), (Pieces{"hello ", "wor", "ld "}));
  EXPECT_TRUE(filter.stopped());
}

TEST(StopStringFilter, FindsAStopStringThatOverlapsItsOwnPrefix) {
  // "aaab": the stop string starts at the second a.
  StopStringFilter filter({"aab"});
  EXPECT_EQ(shown(filter, {"aaa", "b"}), (Pieces{"a", ""}));
  EXPECT_TRUE(filter.stopped());
}

TEST(StopStringFilter, TheEarliestOfSeveralWins) {
  StopStringFilter filter({"cd", "bcx"});
  // "bc" might begin "bcx", so both wait; then "cd" completes at 2.
  EXPECT_EQ(shown(filter, {"abc", "d"}), (Pieces{"a", "b"}));
  StopStringFilter earliest({"b", "abc"});
  EXPECT_EQ(shown(earliest, {"xabc"}), (Pieces{"x"}));
}

TEST(StopStringFilter, FlushGivesBackWhatWasHeld) {
  StopStringFilter filter({"END"});
  EXPECT_EQ(filter.add("xxEN"), "xx");
  EXPECT_FALSE(filter.stopped());
  EXPECT_EQ(filter.flush(), "EN");
  EXPECT_EQ(filter.flush(), "");
}

TEST(StopStringFilter, RefusesAnEmptyStopString) {
  EXPECT_EQ(error_message<UsageError>([] {
              StopStringFilter({"\n", ""});
            }),
            "stop string 1 is empty; a stop string needs a character");
  CompletionOptions options;
  options.stop = {""};
  EXPECT_EQ(error_message<UsageError>([&] { check_completion_options(options); }),
            "stop string 0 is empty; a stop string needs a character");
}

class CompleteBatchTest : public ::testing::Test {
 protected:
  CompleteBatchTest()
      : tokenizer_(char_tokenizer("abcdefgh \n")), model_(untrained_gpt(*tokenizer_)) {}

  CompletionOptions options(std::uint64_t seed) const {
    CompletionOptions completion;
    completion.sampling.max_new_tokens = 60;
    completion.sampling.seed = seed;
    return completion;
  }

  // The text of generate()'s ids for `prompt`, token by token.
  std::vector<std::string> token_texts(const std::string& prompt, const SamplingOptions& sampling) {
    std::vector<std::string> texts;
    for (std::int64_t id : generate(*model_, prompt_ids(*tokenizer_, prompt), sampling)) {
      const auto token = static_cast<text::TokenId>(id);
      texts.push_back(tokenizer_->decode(&token, 1));
    }
    return texts;
  }

  std::unique_ptr<text::Tokenizer> tokenizer_;
  std::shared_ptr<model::LanguageModel> model_;
};

TEST_F(CompleteBatchTest, WithoutStopStringsIsTheDecodedTokens) {
  const CompletionOptions completion = options(4);
  std::string joined;
  for (const std::string& piece : token_texts("ab", completion.sampling))
    joined += piece;
  std::string streamed;
  EXPECT_EQ(complete_text(*model_, *tokenizer_, "ab", completion.sampling,
                          [&](const std::string& piece) { streamed += piece; }),
            joined);
  EXPECT_EQ(streamed, joined);
  const std::vector<Completion> batch = complete_batch(*model_, *tokenizer_, {"ab"}, completion);
  EXPECT_EQ(batch[0].text, joined);
  EXPECT_EQ(batch[0].tokens, 60);
  EXPECT_EQ(batch[0].finish_reason, FinishReason::length);
}

// Three characters from the middle of the unstopped text, so the stop
// string spans tokens; the text ends before its first occurrence, and the
// token count is where it completed.
TEST_F(CompleteBatchTest, EndsJustBeforeTheFirstStopString) {
  CompletionOptions completion = options(7);
  const std::vector<std::string> pieces = token_texts("ab", completion.sampling);
  std::string plain;
  for (const std::string& piece : pieces)
    plain += piece;
  ASSERT_GT(plain.size(), 30u);
  const std::string stop = plain.substr(25, 3);
  const std::size_t cut = plain.find(stop);
  std::int64_t tokens = 0;
  for (std::string so_far; so_far.find(stop) == std::string::npos; ++tokens)
    so_far += pieces[static_cast<std::size_t>(tokens)];

  completion.stop = {"never there", stop};
  std::string streamed;
  const std::vector<Completion> stopped = complete_batch(
      *model_, *tokenizer_, {"ab"}, completion, [&](std::size_t, const std::string& piece) {
        streamed += piece;
        return true;
      });
  EXPECT_EQ(stopped[0].text, plain.substr(0, cut));
  EXPECT_EQ(stopped[0].finish_reason, FinishReason::stop);
  EXPECT_EQ(stopped[0].tokens, tokens);
  EXPECT_EQ(streamed, stopped[0].text);
}

TEST_F(CompleteBatchTest, EachRowIsItsPromptAloneWithItsSeed) {
  CompletionOptions completion = options(11);
  completion.stop = {"h", "\n"};
  const std::vector<std::string> prompts = {"ab", "", "hhhh gg ffff eee"};
  std::vector<std::string> streamed(prompts.size());
  const std::vector<Completion> batch = complete_batch(
      *model_, *tokenizer_, prompts, completion, [&](std::size_t row, const std::string& piece) {
        streamed[row] += piece;
        return true;
      });
  for (std::size_t row = 0; row < prompts.size(); ++row) {
    CompletionOptions alone = completion;
    alone.sampling.seed = completion.sampling.seed + row;
    const Completion expected = complete_batch(*model_, *tokenizer_, {prompts[row]}, alone)[0];
    EXPECT_EQ(batch[row].text, expected.text) << "row " << row;
    EXPECT_EQ(batch[row].tokens, expected.tokens) << "row " << row;
    EXPECT_EQ(batch[row].finish_reason, expected.finish_reason) << "row " << row;
    EXPECT_EQ(streamed[row], batch[row].text) << "row " << row;
  }
}

TEST_F(CompleteBatchTest, TheCallerCanCancelARow) {
  const CompletionOptions completion = options(2);
  const std::string plain = complete_batch(*model_, *tokenizer_, {"ab", "cd"}, completion)[0].text;
  std::vector<std::string> pieces;
  const std::vector<Completion> batch =
      complete_batch(*model_, *tokenizer_, {"ab", "cd"}, completion,
                     [&](std::size_t row, const std::string& piece) {
                       if (row == 0) pieces.push_back(piece);
                       return row != 0 || pieces.size() < 5;
                     });
  ASSERT_EQ(pieces.size(), 5u);
  std::string joined;
  for (const std::string& piece : pieces)
    joined += piece;
  EXPECT_EQ(batch[0].text, joined);
  EXPECT_EQ(plain.rfind(joined, 0), 0u);
  EXPECT_EQ(batch[0].finish_reason, FinishReason::cancelled);
  EXPECT_EQ(batch[1].finish_reason, FinishReason::length);
  EXPECT_EQ(batch[1].tokens, 60);
}

}  // namespace
}  // namespace loom::infer
