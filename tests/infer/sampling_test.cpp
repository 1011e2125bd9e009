// generate(): determinism by seed, greedy against a hand-rolled argmax loop
// (past block_size too), the top-k and top-p cuts against candidate sets
// worked out from the model's own logits, the repetition penalty against a
// hand-rolled penalised loop, the early stop, the model's mode and torch's
// global generator left as they were, and every option check.
// Small untrained models, whose near-uniform distributions make every token
// a plausible draw, so a cut that lets through too much or too little shows.
#include "loom/infer/sampling.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <stdexcept>

#include "generation_test_support.hpp"
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include "loom/core/error.hpp"

namespace loom::infer {
namespace {

using namespace loom::test;

using config::ModelArch;

constexpr std::int64_t kVocab = kGenerationVocab;

// The distinct tokens generate() draws as the one token after `prompt`,
// over seeds 0 to draws-1.
std::set<std::int64_t> drawn_tokens(model::LanguageModel& model,
                                    const std::vector<std::int64_t>& prompt,
                                    SamplingOptions options, std::uint64_t draws) {
  std::set<std::int64_t> drawn;
  options.max_new_tokens = 1;
  for (std::uint64_t seed = 0; seed < draws; ++seed) {
    options.seed = seed;
    drawn.insert(generate(model, prompt, options).at(0));
  }
  return drawn;
}

const std::vector<std::int64_t> kPrompt = {3, 1, 4, 1, 5};

using GenerateTest = ::testing::TestWithParam<ModelArch>;

TEST_P(GenerateTest, SameSeedSameIdsOtherSeedOtherIds) {
  const auto model = flat_model(GetParam());
  const auto first = generate(*model, kPrompt, options_with(20, 1.0, 7));
  ASSERT_EQ(first.size(), 20u);
  for (std::int64_t id : first) {
    EXPECT_GE(id, 0);
    EXPECT_LT(id, kVocab);
  }
  EXPECT_EQ(generate(*model, kPrompt, options_with(20, 1.0, 7)), first);
  EXPECT_NE(generate(*model, kPrompt, options_with(20, 1.0, 8)), first);
}

// 5 + 20 tokens with a context of 8: most steps see a sliding window. The
// model starts in train mode, so a forward with dropout would show.
TEST_P(GenerateTest, TemperatureZeroIsArgmaxThroughTheSlidingWindow) {
  const auto model = context_sensitive_model(GetParam());
  ASSERT_TRUE(model->is_training());
  const auto greedy = generate(*model, kPrompt, options_with(20, 0.0, 1));
  EXPECT_EQ(greedy, reference_greedy(*model, kPrompt, 20));
  // Not one token repeated, which any window would reproduce.
  EXPECT_GE(std::set<std::int64_t>(greedy.begin(), greedy.end()).size(), 3u);
  // Greedy draws nothing, so the seed cannot matter.
  EXPECT_EQ(generate(*model, kPrompt, options_with(20, 0.0, 2)), greedy);
}

TEST_P(GenerateTest, TopKOneIsGreedyAtAnyTemperature) {
  const auto model = context_sensitive_model(GetParam());
  const auto greedy = reference_greedy(*model, kPrompt, 12);
  for (double temperature : {0.5, 1.0, 3.0}) {
    SamplingOptions options = options_with(12, temperature, 5);
    options.top_k = 1;
    EXPECT_EQ(generate(*model, kPrompt, options), greedy) << "temperature " << temperature;
  }
}

INSTANTIATE_TEST_SUITE_P(BothFamilies, GenerateTest,
                         ::testing::Values(ModelArch::gpt, ModelArch::lstm));

TEST(Generate, TinyTopPIsGreedy) {
  const auto model = context_sensitive_model(ModelArch::gpt);
  SamplingOptions options = options_with(12, 1.0, 5);
  options.top_p = 1e-6;
  EXPECT_EQ(generate(*model, kPrompt, options), reference_greedy(*model, kPrompt, 12));
}

// The smallest positive double: raw logits divided by it overflow to inf, and
// the softmax of inf is nan.
TEST(Generate, TinyTemperatureIsGreedy) {
  const auto model = context_sensitive_model(ModelArch::gpt);
  const double temperature = std::numeric_limits<double>::denorm_min();
  EXPECT_EQ(generate(*model, kPrompt, options_with(12, temperature, 5)),
            reference_greedy(*model, kPrompt, 12));
}

TEST(Generate, TopKOfTheWholeVocabularyKeepsEverything) {
  const auto model = flat_model(ModelArch::gpt);
  const auto all = generate(*model, kPrompt, options_with(20, 1.0, 9));
  for (std::int64_t top_k : {kVocab, kVocab + 100}) {
    SamplingOptions options = options_with(20, 1.0, 9);
    options.top_k = top_k;
    EXPECT_EQ(generate(*model, kPrompt, options), all) << "top_k " << top_k;
  }
}

// Over 300 seeds, the draws are exactly the 3 largest logits: nothing else,
// and none of the three missing.
TEST(Generate, TopKDrawsExactlyTheKLikeliest) {
  const auto model = flat_model(ModelArch::gpt);
  const std::vector<std::int64_t> prompt = {7};
  const torch::Tensor top3 = std::get<1>(reference_logits(*model, prompt).topk(3));
  const std::set<std::int64_t> expected(top3.data_ptr<std::int64_t>(),
                                        top3.data_ptr<std::int64_t>() + 3);
  SamplingOptions options;
  options.top_k = 3;
  EXPECT_EQ(drawn_tokens(*model, prompt, options, 300), expected);
}

// The nucleus worked out by hand from the softmax: the likeliest tokens up
// to and including the first that brings the total to top_p.
TEST(Generate, TopPDrawsExactlyTheNucleus) {
  const auto model = flat_model(ModelArch::gpt);
  const std::vector<std::int64_t> prompt = {7};
  const double top_p = 0.3;
  const auto [probs, order] = torch::softmax(reference_logits(*model, prompt), 0).sort(0, true);
  std::set<std::int64_t> nucleus;
  double total = 0.0;
  for (std::int64_t rank = 0; total < top_p; ++rank) {
    nucleus.insert(order[rank].item<std::int64_t>());
    total += probs[rank].item<double>();
  }
  // Near-uniform over 20 tokens: the nucleus must be a real cut, neither
  // everything nor one token.
  ASSERT_GT(nucleus.size(), 2u);
  ASSERT_LT(nucleus.size(), static_cast<std::size_t>(kVocab));
  SamplingOptions options;
  options.top_p = top_p;
  EXPECT_EQ(drawn_tokens(*model, prompt, options, 300), nucleus);
}

// Greedy with CTRL's penalty, written out: every id of the prompt and of
// the text so far has its positive logit divided by the penalty, its
// negative one multiplied.
std::vector<std::int64_t> reference_penalized_greedy(model::LanguageModel& model,
                                                     std::vector<std::int64_t> text,
                                                     std::int64_t count, double penalty) {
  std::vector<std::int64_t> new_ids;
  for (std::int64_t step = 0; step < count; ++step) {
    const torch::Tensor logits = reference_logits(model, text).to(torch::kDouble);
    std::int64_t best = -1;
    double best_value = -INFINITY;
    for (std::int64_t id = 0; id < logits.size(0); ++id) {
      double value = logits[id].item<double>();
      if (std::find(text.begin(), text.end(), id) != text.end())
        value = value > 0 ? value / penalty : value * penalty;
      if (value > best_value) {
        best = id;
        best_value = value;
      }
    }
    new_ids.push_back(best);
    text.push_back(best);
  }
  return new_ids;
}

// Through the sliding window too: the penalty remembers the prompt after
// the window has left it.
TEST(Generate, RepetitionPenaltyPenalizesThePromptAndTheTextSoFar) {
  const auto model = context_sensitive_model(ModelArch::gpt);
  const std::vector<std::int64_t> plain = generate(*model, kPrompt, options_with(20, 0.0, 1));
  for (double penalty : {1.5, 0.7}) {
    SamplingOptions options = options_with(20, 0.0, 1);
    options.repetition_penalty = penalty;
    const auto penalized = generate(*model, kPrompt, options);
    EXPECT_EQ(penalized, reference_penalized_greedy(*model, kPrompt, 20, penalty))
        << "penalty " << penalty;
    EXPECT_NE(penalized, plain) << "penalty " << penalty;
  }
  // 1 is off.
  SamplingOptions options = options_with(20, 0.0, 1);
  options.repetition_penalty = 1.0;
  EXPECT_EQ(generate(*model, kPrompt, options), plain);
}

TEST(Generate, RestoresTheModelsMode) {
  const auto model = flat_model(ModelArch::gpt);
  model->train();
  generate(*model, kPrompt, options_with(3, 1.0, 1));
  EXPECT_TRUE(model->is_training());
  model->eval();
  generate(*model, kPrompt, options_with(3, 1.0, 1));
  EXPECT_FALSE(model->is_training());
  // Also when the caller's callback throws half-way.
  model->train();
  EXPECT_THROW(generate(*model, kPrompt, options_with(3, 1.0, 1),
                        [](std::int64_t) -> bool { throw std::runtime_error("stop"); }),
               std::runtime_error);
  EXPECT_TRUE(model->is_training());
}

TEST(Generate, LeavesTorchsGlobalGeneratorAlone) {
  const auto model = flat_model(ModelArch::gpt);
  SamplingOptions options = options_with(20, 1.0, 3);
  options.top_k = 5;
  options.top_p = 0.9;
  const torch::Tensor before = at::detail::getDefaultCPUGenerator().get_state();
  generate(*model, kPrompt, options);
  EXPECT_TRUE(torch::equal(at::detail::getDefaultCPUGenerator().get_state(), before));
}

TEST(Generate, OnTokenSeesEachIdAndCanStop) {
  const auto model = flat_model(ModelArch::gpt);
  std::vector<std::int64_t> seen;
  const auto stopped = generate(*model, kPrompt, options_with(20, 1.0, 4), [&](std::int64_t id) {
    seen.push_back(id);
    return seen.size() < 3;
  });
  EXPECT_EQ(stopped.size(), 3u);
  EXPECT_EQ(seen, stopped);

  seen.clear();
  const auto all = generate(*model, kPrompt, options_with(20, 1.0, 4), [&](std::int64_t id) {
    seen.push_back(id);
    return true;
  });
  EXPECT_EQ(seen, all);
  ASSERT_EQ(all.size(), 20u);
  // Stopping early changes nothing before the stop.
  EXPECT_EQ(std::vector<std::int64_t>(all.begin(), all.begin() + 3), stopped);
}

TEST(Generate, ZeroNewTokensCallsNothing) {
  const auto model = flat_model(ModelArch::gpt);
  bool called = false;
  EXPECT_TRUE(generate(*model, kPrompt, options_with(0, 1.0, 1), [&](std::int64_t) {
                return called = true;
              }).empty());
  EXPECT_FALSE(called);
}

TEST(Generate, PromptErrors) {
  const auto model = flat_model(ModelArch::gpt);
  const SamplingOptions options;
  EXPECT_EQ(error_message<UsageError>([&] { generate(*model, {}, options); }),
            "generate: prompt 0 is empty, expected at least one token");
  EXPECT_EQ(error_message<UsageError>([&] {
              generate(*model, {1, 2, 20}, options);
            }),
            "generate: prompt 0, token 2 is 20, expected an id in [0, 20)");
  EXPECT_EQ(error_message<UsageError>([&] { generate(*model, {-1}, options); }),
            "generate: prompt 0, token 0 is -1, expected an id in [0, 20)");
  EXPECT_EQ(error_message<UsageError>([&] {
              generate_batch(*model, {{1}, {1, 2}, {3, -4}}, options);
            }),
            "generate: prompt 2, token 1 is -4, expected an id in [0, 20)");
  EXPECT_EQ(error_message<UsageError>([&] { generate_batch(*model, {}, options); }),
            "generate: no prompts, expected at least one");
}

TEST(Generate, NonFiniteLogitsAreAnError) {
  const auto model = flat_model(ModelArch::gpt);
  {
    torch::NoGradGuard no_grad;
    model->parameters().back().fill_(std::numeric_limits<float>::quiet_NaN());
  }
  EXPECT_EQ(error_message<Error>([&] {
              generate(*model, {1, 2}, SamplingOptions{});
            }),
            "generate: the model returned non-finite logits for new token 0 of prompt 0 (text "
            "length 2)");
}

TEST(CheckSamplingOptions, NamesTheBadOption) {
  const auto message = [](auto&& change) {
    SamplingOptions options;
    change(options);
    return error_message<UsageError>([&] { check_sampling_options(options); });
  };
  EXPECT_EQ(message([](SamplingOptions& o) { o.max_new_tokens = -1; }),
            "max_new_tokens must be >= 0, got -1");
  EXPECT_EQ(message([](SamplingOptions& o) { o.temperature = -1; }),
            "temperature must be >= 0, got -1");
  EXPECT_EQ(message([](SamplingOptions& o) { o.temperature = std::nan(""); }),
            "temperature must be >= 0, got nan");
  EXPECT_EQ(message([](SamplingOptions& o) { o.temperature = INFINITY; }),
            "temperature must be finite, got inf");
  EXPECT_EQ(message([](SamplingOptions& o) { o.top_k = -2; }), "top_k must be >= 0, got -2");
  EXPECT_EQ(message([](SamplingOptions& o) { o.top_p = 0; }), "top_p must be in (0, 1], got 0");
  EXPECT_EQ(message([](SamplingOptions& o) { o.top_p = 1.5; }), "top_p must be in (0, 1], got 1.5");
  EXPECT_EQ(message([](SamplingOptions& o) { o.top_p = std::nan(""); }),
            "top_p must be in (0, 1], got nan");
  EXPECT_EQ(message([](SamplingOptions& o) { o.repetition_penalty = 0; }),
            "repetition_penalty must be finite and > 0, got 0");
  EXPECT_EQ(message([](SamplingOptions& o) { o.repetition_penalty = -1.5; }),
            "repetition_penalty must be finite and > 0, got -1.5");
  EXPECT_EQ(message([](SamplingOptions& o) { o.repetition_penalty = INFINITY; }),
            "repetition_penalty must be finite and > 0, got inf");
  EXPECT_EQ(message([](SamplingOptions& o) { o.repetition_penalty = std::nan(""); }),
            "repetition_penalty must be finite and > 0, got nan");
  EXPECT_NO_THROW(check_sampling_options(SamplingOptions{}));
}

// generate() checks its options before it touches the model.
TEST(Generate, ChecksItsOptions) {
  const auto model = flat_model(ModelArch::gpt);
  SamplingOptions options;
  options.top_k = -1;
  EXPECT_EQ(error_message<UsageError>([&] { generate(*model, kPrompt, options); }),
            "top_k must be >= 0, got -1");
}

}  // namespace
}  // namespace loom::infer
