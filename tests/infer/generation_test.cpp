// generate_batch(): GPT's key/value cache and the LSTM's carried state give
// the tokens that re-running the window gives, greedy and sampled, inside
// block_size and long past it; each row of a batch of prompts of different
// lengths gives what its prompt gives alone with seed + row; rows that end
// early (<eos>, the callback) leave the others as they were; and each row
// says why it ended. With logprobs, each step's figures are the model's
// log-softmax there, and scoring a generated text gives the same figures.
#include <algorithm>
#include <ostream>
#include <set>
#include <string>
#include <thread>

#include "generation_test_support.hpp"
#include <gtest/gtest.h>

#include "loom/core/error.hpp"
#include "loom/infer/sampling.hpp"
#include "loom/text/tokenizer.hpp"

namespace loom::infer {
namespace {

using namespace loom::test;

using config::ModelArch;

const std::vector<std::int64_t> kShortPrompt = {3, 1, 4, 1, 5};
// Longer than the context of 8: the window slides before the first token.
const std::vector<std::int64_t> kLongPrompt = {2, 9, 2, 9, 2, 9, 12, 13, 2, 9, 11};

SamplingOptions without_cache(SamplingOptions options) {
  options.use_kv_cache = false;
  return options;
}

struct Family {
  std::string name;
  ModelArch arch;
  bool modern;  // rotary positions, RMSNorm, SwiGLU, QK-norm: a cache that slides
};

void PrintTo(const Family& family, std::ostream* out) {
  *out << family.name;
}

class GenerationTest : public ::testing::TestWithParam<Family> {
 protected:
  static std::shared_ptr<model::LanguageModel> make_model() {
    return context_sensitive_model(GetParam().arch, GetParam().modern);
  }
};

// The acceptance test: 30 greedy tokens after prompts of 5 and 11 ids with a
// context of 8, so most tokens come after the window slid.
TEST_P(GenerationTest, GreedyWithTheCacheEqualsWithoutItTokenForToken) {
  const auto model = GenerationTest::make_model();
  for (const auto& prompt : {kShortPrompt, kLongPrompt}) {
    const SamplingOptions options = options_with(30, 0.0, 1);
    const std::vector<std::int64_t> cached = generate(*model, prompt, options);
    EXPECT_EQ(cached, generate(*model, prompt, without_cache(options)));
    EXPECT_EQ(cached, reference_greedy(*model, prompt, 30));
    // Not one token repeated, which any window would reproduce.
    EXPECT_GE(std::set<std::int64_t>(cached.begin(), cached.end()).size(), 3u);
  }
}

TEST_P(GenerationTest, SampledWithTheCacheEqualsWithoutIt) {
  const auto model = GenerationTest::make_model();
  for (std::uint64_t seed = 0; seed < 4; ++seed) {
    SamplingOptions options = options_with(30, 1.0, seed);
    options.top_k = 12;
    options.top_p = 0.95;
    options.repetition_penalty = 1.2;
    EXPECT_EQ(generate(*model, kShortPrompt, options),
              generate(*model, kShortPrompt, without_cache(options)))
        << "seed " << seed;
  }
}

// Prompts of 5, 1, 11 and 2 ids: one batch, yet each row is its prompt
// alone with seed + row, with the cache and without.
TEST_P(GenerationTest, EachRowOfABatchIsItsPromptAloneWithItsSeed) {
  const auto model = GenerationTest::make_model();
  const std::vector<std::vector<std::int64_t>> prompts = {kShortPrompt, {7}, kLongPrompt, {0, 19}};
  for (const bool use_cache : {true, false}) {
    SamplingOptions options = options_with(25, 0.9, 21);
    options.top_k = 12;
    options.use_kv_cache = use_cache;
    const std::vector<Generation> batch = generate_batch(*model, prompts, options);
    ASSERT_EQ(batch.size(), prompts.size());
    for (std::size_t row = 0; row < prompts.size(); ++row) {
      SamplingOptions alone = options;
      alone.seed = options.seed + row;
      EXPECT_EQ(batch[row].ids, generate(*model, prompts[row], alone))
          << "row " << row << (use_cache ? " with" : " without") << " the cache";
      EXPECT_EQ(batch[row].finish_reason, FinishReason::length);
    }
  }
}

// The model's log-softmax [V] (float64) for the token after `text`.
torch::Tensor reference_logprobs(model::LanguageModel& model,
                                 const std::vector<std::int64_t>& text) {
  return torch::log_softmax(reference_logits(model, text).to(torch::kDouble), 0);
}

// Each step's figures are the model's own distribution at that step (past
// the window too), whatever the sampling options shaped the draw with, and
// asking for them changes no token.
TEST_P(GenerationTest, LogprobsAreTheModelsLogSoftmaxAtEachStep) {
  const auto model = GenerationTest::make_model();
  SamplingOptions options = options_with(20, 0.7, 9);
  options.top_k = 6;
  options.repetition_penalty = 1.3;
  const std::vector<std::int64_t> plain = generate(*model, kShortPrompt, options);
  options.logprobs = true;
  options.top_logprobs = 4;
  const Generation generation = generate_batch(*model, {kShortPrompt}, options).front();
  ASSERT_EQ(generation.ids, plain);
  ASSERT_EQ(generation.logprobs.size(), generation.ids.size());
  std::vector<std::int64_t> text = kShortPrompt;
  for (std::size_t step = 0; step < generation.ids.size(); ++step) {
    const torch::Tensor expected = reference_logprobs(*model, text);
    const StepLogprobs& figures = generation.logprobs[step];
    EXPECT_EQ(figures.chosen.id, generation.ids[step]);
    EXPECT_NEAR(figures.chosen.logprob, expected[figures.chosen.id].item<double>(), 1e-4)
        << "step " << step;
    const auto [values, order] = expected.sort(/*stable=*/true, /*dim=*/0, /*descending=*/true);
    ASSERT_EQ(figures.top.size(), 4u);
    for (std::size_t k = 0; k < figures.top.size(); ++k) {
      const auto rank = static_cast<std::int64_t>(k);
      EXPECT_EQ(figures.top[k].id, order[rank].item<std::int64_t>()) << "step " << step;
      EXPECT_NEAR(figures.top[k].logprob, values[rank].item<double>(), 1e-4) << "step " << step;
    }
    text.push_back(generation.ids[step]);
  }
  options.logprobs = false;
  EXPECT_TRUE(generate_batch(*model, {kShortPrompt}, options).front().logprobs.empty());
}

// Scoring a prompt and the text generated after it gives, for the
// generated ids, the figures generation reported (the prompt is longer than
// the window, so every step is past it), and for the prompt's, the model's
// log-softmax after the ids before each.
TEST_P(GenerationTest, ScoringAGeneratedTextGivesTheLogprobsGenerationReported) {
  const auto model = GenerationTest::make_model();
  SamplingOptions options = options_with(12, 1.0, 4);
  options.logprobs = true;
  options.top_logprobs = 3;
  const Generation generation = generate_batch(*model, {kLongPrompt}, options).front();
  std::vector<std::int64_t> text = kLongPrompt;
  text.insert(text.end(), generation.ids.begin(), generation.ids.end());
  const std::vector<StepLogprobs> scored = score_tokens(*model, text, options);
  ASSERT_EQ(scored.size(), text.size() - 1);
  for (std::size_t next = 1; next < text.size(); ++next) {
    const StepLogprobs& figures = scored[next - 1];
    EXPECT_EQ(figures.chosen.id, text[next]);
    const std::vector<std::int64_t> before(text.begin(),
                                           text.begin() + static_cast<std::ptrdiff_t>(next));
    EXPECT_NEAR(figures.chosen.logprob,
                reference_logprobs(*model, before)[text[next]].item<double>(), 1e-4)
        << "token " << next;
    if (next < kLongPrompt.size()) continue;
    const StepLogprobs& reported = generation.logprobs[next - kLongPrompt.size()];
    EXPECT_NEAR(figures.chosen.logprob, reported.chosen.logprob, 1e-4) << "token " << next;
    ASSERT_EQ(figures.top.size(), reported.top.size());
    for (std::size_t k = 0; k < figures.top.size(); ++k)
      EXPECT_EQ(figures.top[k].id, reported.top[k].id) << "token " << next;
  }
}

INSTANTIATE_TEST_SUITE_P(EveryFamily, GenerationTest,
                         ::testing::Values(Family{"gpt", ModelArch::gpt, false},
                                           Family{"lstm", ModelArch::lstm, false},
                                           Family{"gpt_modern", ModelArch::gpt, true}),
                         [](const ::testing::TestParamInfo<Family>& param) {
                           return param.param.name;
                         });

TEST(GenerateBatch, RowsThatEndEarlyLeaveTheOthersAsTheyWere) {
  const auto model = context_sensitive_model(ModelArch::gpt);
  const std::vector<std::vector<std::int64_t>> prompts = {kShortPrompt, {7}, kLongPrompt};
  const SamplingOptions options = options_with(20, 1.0, 5);
  const std::vector<Generation> full = generate_batch(*model, prompts, options);

  // Row 1 stops after its 3rd token, row 2 after its 7th.
  const std::vector<std::size_t> stop_after = {100, 3, 7};
  std::vector<std::vector<std::int64_t>> seen(prompts.size());
  const std::vector<Generation> stopped =
      generate_batch(*model, prompts, options, [&](std::size_t row, const Generation& so_far) {
        seen[row].push_back(so_far.ids.back());
        return seen[row].size() < stop_after[row];
      });
  EXPECT_EQ(stopped[0].ids, full[0].ids);
  EXPECT_EQ(stopped[0].finish_reason, FinishReason::length);
  for (std::size_t row : {1, 2}) {
    const std::vector<std::int64_t> prefix(full[row].ids.begin(),
                                           full[row].ids.begin() + stop_after[row]);
    EXPECT_EQ(stopped[row].ids, prefix) << "row " << row;
    EXPECT_EQ(stopped[row].finish_reason, FinishReason::stop);
  }
  for (std::size_t row = 0; row < prompts.size(); ++row)
    EXPECT_EQ(seen[row], stopped[row].ids) << "row " << row;
}

// The flat model draws <eos> now and then; with stop_at_eos a row ends just
// before it, and the callback never sees it.
TEST(GenerateBatch, StopAtEosEndsARowBeforeItsEos) {
  const auto model = flat_model(ModelArch::gpt);
  const auto eos = static_cast<std::int64_t>(text::kEosId);
  SamplingOptions options = options_with(60, 1.0, 0);
  std::vector<std::int64_t> plain;
  for (; options.seed < 20; ++options.seed) {
    plain = generate(*model, kShortPrompt, options);
    if (std::count(plain.begin(), plain.end(), eos) > 0) break;
  }
  ASSERT_LT(options.seed, 20u) << "no seed drew <eos> in 60 tokens";
  const auto first_eos = std::find(plain.begin(), plain.end(), eos);

  options.stop_at_eos = true;
  std::vector<std::int64_t> seen;
  const std::vector<Generation> stopped =
      generate_batch(*model, {kShortPrompt}, options, [&](std::size_t, const Generation& so_far) {
        seen.push_back(so_far.ids.back());
        return true;
      });
  EXPECT_EQ(stopped[0].ids, std::vector<std::int64_t>(plain.begin(), first_eos));
  EXPECT_EQ(stopped[0].finish_reason, FinishReason::eos);
  EXPECT_EQ(seen, stopped[0].ids);
}

// What the server does: one model in eval mode, a generation per thread.
TEST(GenerateBatch, ThreadsMayGenerateFromOneModelInEvalMode) {
  const auto model = context_sensitive_model(ModelArch::gpt);
  model->eval();
  const std::vector<std::int64_t> first = generate(*model, kShortPrompt, options_with(30, 1.0, 1));
  const std::vector<std::int64_t> second = generate(*model, kLongPrompt, options_with(30, 1.0, 2));
  std::vector<std::int64_t> first_again, second_again;
  std::thread one([&] { first_again = generate(*model, kShortPrompt, options_with(30, 1.0, 1)); });
  std::thread two([&] { second_again = generate(*model, kLongPrompt, options_with(30, 1.0, 2)); });
  one.join();
  two.join();
  EXPECT_EQ(first_again, first);
  EXPECT_EQ(second_again, second);
  EXPECT_FALSE(model->is_training());
}

TEST(GenerateBatch, ZeroNewTokensEndsEveryRowAtOnce) {
  const auto model = flat_model(ModelArch::lstm);
  const std::vector<Generation> none =
      generate_batch(*model, {{1}, {2, 3}}, options_with(0, 1.0, 1));
  ASSERT_EQ(none.size(), 2u);
  for (const Generation& generation : none) {
    EXPECT_TRUE(generation.ids.empty());
    EXPECT_EQ(generation.finish_reason, FinishReason::length);
  }
}

TEST(GenerateBatch, RefusesANegativeTopLogprobs) {
  const auto model = flat_model(ModelArch::gpt);
  SamplingOptions options = options_with(3, 1.0, 1);
  options.logprobs = true;
  options.top_logprobs = -1;
  EXPECT_EQ(error_message<UsageError>([&] { generate_batch(*model, {{1}}, options); }),
            "top_logprobs must be >= 0, got -1");
  EXPECT_EQ(error_message<UsageError>([&] { score_tokens(*model, {}, options_with(3, 1.0, 1)); }),
            "generate: prompt 0 is empty, expected at least one token");
}

TEST(FinishReason, HasTheNamesTheServerReports) {
  EXPECT_EQ(finish_reason_name(FinishReason::length), "length");
  EXPECT_EQ(finish_reason_name(FinishReason::eos), "eos");
  EXPECT_EQ(finish_reason_name(FinishReason::stop), "stop");
  EXPECT_EQ(finish_reason_name(FinishReason::cancelled), "cancelled");
}

}  // namespace
}  // namespace loom::infer
