// Text completion: the stop-string filter on hand-made streams (a stop
// string inside one piece, across pieces, overlapping its own prefix, the
// earliest of several), and complete_batch() on an untrained model with a
// character tokenizer: the text ends just before the first stop string, the
// streamed pieces join up to the returned text, rows equal their prompts
// alone, and the caller can cancel a row; with logprobs, the tokens of the
// text (up to a stop string) and of a prompt.
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
  const std::vector<Completion> stopped = complete_batch(*model_, *tokenizer_, {"ab"}, completion,
                                                         [&](std::size_t, const TextPiece& piece) {
                                                           streamed += piece.text;
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
      *model_, *tokenizer_, prompts, completion, [&](std::size_t row, const TextPiece& piece) {
        streamed[row] += piece.text;
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

// The tokens of a text: consecutive, each beginning where the one before
// ended, covering `text` and beginning inside it.
void expect_tokens_cover(const std::vector<TextLogprob>& tokens, const std::string& text) {
  std::string joined;
  for (const TextLogprob& token : tokens) {
    EXPECT_EQ(token.offset, static_cast<std::int64_t>(joined.size()));
    EXPECT_LT(token.offset, static_cast<std::int64_t>(text.size()));
    joined += token.text;
  }
  EXPECT_EQ(joined.substr(0, text.size()), text);
}

// With logprobs a completion carries the tokens of its text: those of the
// unstopped text up to the one the stop string begins in, each with the
// figures generate_batch() reported, and the streamed pieces carry the
// same tokens, each with the piece that shows its first byte.
TEST_F(CompleteBatchTest, LogprobsAreTheTokensOfTheTextUpToTheStopString) {
  CompletionOptions completion = options(7);
  completion.sampling.logprobs = true;
  completion.sampling.top_logprobs = 2;
  const Generation generation =
      generate_batch(*model_, {prompt_ids(*tokenizer_, "ab")}, completion.sampling).front();
  const Completion plain = complete_batch(*model_, *tokenizer_, {"ab"}, completion).front();
  ASSERT_EQ(plain.logprobs.size(), generation.ids.size());
  expect_tokens_cover(plain.logprobs, plain.text);
  for (std::size_t i = 0; i < plain.logprobs.size(); ++i) {
    const auto id = static_cast<text::TokenId>(generation.ids[i]);
    EXPECT_EQ(plain.logprobs[i].text, tokenizer_->decode(&id, 1));
    EXPECT_EQ(plain.logprobs[i].logprob, generation.logprobs[i].chosen.logprob);
    ASSERT_EQ(plain.logprobs[i].top.size(), 2u);
    const auto top = static_cast<text::TokenId>(generation.logprobs[i].top[0].id);
    EXPECT_EQ(plain.logprobs[i].top[0],
              std::make_pair(tokenizer_->decode(&top, 1), generation.logprobs[i].top[0].logprob));
  }

  const std::string stop = plain.text.substr(20, 2);
  completion.stop = {stop};
  std::vector<TextLogprob> streamed;
  const Completion stopped =
      complete_batch(*model_, *tokenizer_, {"ab"}, completion,
                     [&](std::size_t, const TextPiece& piece) {
                       streamed.insert(streamed.end(), piece.logprobs.begin(),
                                       piece.logprobs.end());
                       return true;
                     })
          .front();
  ASSERT_EQ(stopped.text, plain.text.substr(0, plain.text.find(stop)));
  ASSERT_LE(stopped.logprobs.size(), plain.logprobs.size());
  expect_tokens_cover(stopped.logprobs, stopped.text);
  for (std::size_t i = 0; i < stopped.logprobs.size(); ++i) {
    EXPECT_EQ(stopped.logprobs[i].text, plain.logprobs[i].text);
    EXPECT_EQ(stopped.logprobs[i].logprob, plain.logprobs[i].logprob);
    EXPECT_EQ(streamed[i].offset, stopped.logprobs[i].offset);
    EXPECT_EQ(streamed[i].text, stopped.logprobs[i].text);
  }
  EXPECT_EQ(streamed.size(), stopped.logprobs.size());
}

// A prompt's tokens scored: they join up to the prompt, the first has no
// figure, the others score_tokens()'s.
TEST_F(CompleteBatchTest, PromptLogprobsScoreEachTokenAfterTheOnesBefore) {
  SamplingOptions sampling = options(1).sampling;
  sampling.top_logprobs = 3;
  const std::string prompt = "abba cd ef";
  const std::vector<TextLogprob> tokens = prompt_logprobs(*model_, *tokenizer_, prompt, sampling);
  ASSERT_EQ(tokens.size(), prompt.size());
  expect_tokens_cover(tokens, prompt);
  EXPECT_FALSE(tokens[0].logprob.has_value());
  EXPECT_TRUE(tokens[0].top.empty());
  const std::vector<StepLogprobs> scored =
      score_tokens(*model_, prompt_ids(*tokenizer_, prompt), sampling);
  for (std::size_t i = 1; i < tokens.size(); ++i) {
    EXPECT_EQ(tokens[i].logprob, scored[i - 1].chosen.logprob);
    EXPECT_EQ(tokens[i].top.size(), 3u);
  }
  EXPECT_TRUE(prompt_logprobs(*model_, *tokenizer_, "", sampling).empty());
}

TEST_F(CompleteBatchTest, TheCallerCanCancelARow) {
  const CompletionOptions completion = options(2);
  const std::string plain = complete_batch(*model_, *tokenizer_, {"ab", "cd"}, completion)[0].text;
  std::vector<std::string> pieces;
  const std::vector<Completion> batch = complete_batch(
      *model_, *tokenizer_, {"ab", "cd"}, completion, [&](std::size_t row, const TextPiece& piece) {
        if (row == 0) pieces.push_back(piece.text);
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
