// Incremental decoding: for every family and position mode, the cached
// decode and the recompute path give forward_context()'s logits over each
// row's last context_length() ids (block_size, or with rotary positions the
// sliding-window attention's reach), inside the window and long after it
// slid; rows of a batch
// with different lengths and different numbers of new ids each match their
// own reference; dropping rows keeps the others; and every misuse is an
// error that names it.
#include <algorithm>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "model_test_support.hpp"
#include <gtest/gtest.h>

#include "loom/core/error.hpp"
#include "loom/model/decode_state.hpp"
#include "loom/model/language_model.hpp"

namespace loom::model {
namespace {

using namespace loom::test;

using config::ModelArch;
using config::Positions;

constexpr std::int64_t kVocab = 17;
constexpr std::int64_t kBlock = 8;

struct Family {
  std::string name;
  ModelArch arch;
  Positions positions;
  bool modern = false;  // RMSNorm, SwiGLU and normalised queries and keys
};

// What a failing test's GetParam() prints.
void PrintTo(const Family& family, std::ostream* out) {
  *out << family.name;
}

// 2 layers, 2 heads, 32 wide, context 8, every weight from N(0, 0.5): far
// from GPT-2's near-uniform init, so that a wrong position, a stale key or
// a wrong state moves the logits well past the tolerance.
std::shared_ptr<LanguageModel> scrambled_model(const Family& family) {
  config::ModelConfig config = tiny_config(family.arch);
  config.block_size = kBlock;
  config.positions = family.positions;
  if (family.modern) {
    config.norm = config::Norm::rmsnorm;
    config.mlp = config::MlpKind::swiglu;
    config.qk_norm = true;
  }
  config.bias = true;
  config.dropout = 0.1;
  torch::manual_seed(11);
  auto model = make_model(config, kVocab);
  torch::NoGradGuard no_grad;
  for (torch::Tensor& parameter : model->parameters())
    parameter.normal_(0.0, 0.5);
  model->eval();
  return model;
}

// The last context_length() ids of `text`: what its next logits depend on.
std::vector<std::int64_t> last_ids(const LanguageModel& model,
                                   const std::vector<std::int64_t>& text) {
  const auto start = text.end() - std::min<std::ptrdiff_t>(text.size(), model.context_length());
  return {start, text.end()};
}

// forward_context()'s logits [V] for the token after `text`.
torch::Tensor reference_logits(LanguageModel& model, const std::vector<std::int64_t>& text) {
  torch::NoGradGuard no_grad;
  const torch::Tensor window = torch::tensor(last_ids(model, text));
  return model.forward_context(window.unsqueeze(0))[0][-1];
}

// Feeds `steps` to a fresh state with `mode` (steps[s][r]: the new ids of row
// r at step s) and checks every step's logits against the reference over
// each row's whole text so far, and each row's window.
void expect_matches_reference(LanguageModel& model, DecodeMode mode,
                              const std::vector<std::vector<std::vector<std::int64_t>>>& steps) {
  const std::size_t rows = steps.front().size();
  DecodeState state = model.start_decoding(static_cast<std::int64_t>(rows), mode);
  std::vector<std::vector<std::int64_t>> texts(rows);
  for (std::size_t step = 0; step < steps.size(); ++step) {
    const torch::Tensor logits = model.decode(state, steps[step]);
    ASSERT_EQ(logits.sizes(), torch::IntArrayRef({static_cast<std::int64_t>(rows), kVocab}));
    for (std::size_t row = 0; row < rows; ++row) {
      texts[row].insert(texts[row].end(), steps[step][row].begin(), steps[step][row].end());
      const torch::Tensor expected = reference_logits(model, texts[row]);
      EXPECT_TRUE(torch::allclose(logits[static_cast<std::int64_t>(row)], expected, 1e-5, 1e-5))
          << "step " << step << ", row " << row << ", text length " << texts[row].size()
          << ": largest difference "
          << (logits[static_cast<std::int64_t>(row)] - expected).abs().max().item<double>();
      EXPECT_EQ(state.window(static_cast<std::int64_t>(row)), last_ids(model, texts[row]));
    }
  }
}

// One row: a 5-id prompt, then 20 single ids (the window slides at the 4th;
// a sliding cache's context, 15 ids with 2 layers, at the 11th).
std::vector<std::vector<std::vector<std::int64_t>>> one_row_script() {
  std::vector<std::vector<std::vector<std::int64_t>>> steps = {{{3, 1, 4, 1, 5}}};
  for (std::int64_t i = 0; i < 20; ++i)
    steps.push_back({{(i * 7 + 2) % kVocab}});
  return steps;
}

// Three rows whose prompts are shorter than, as long as, and longer than the
// window, then steps that give the rows different numbers of ids, so that
// rows slide at different steps and some restart while others continue.
std::vector<std::vector<std::vector<std::int64_t>>> three_row_script() {
  std::vector<std::vector<std::vector<std::int64_t>>> steps = {
      {{1, 2, 3}, {9, 8, 7, 6, 5, 4, 3, 2}, {5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10}},
      {{4, 5}, {16}, {0, 1, 2}},
      {{6}, {15, 14, 13}, {3}},
  };
  for (std::int64_t i = 0; i < 10; ++i)
    steps.push_back({{(i * 5 + 1) % kVocab}, {(i * 3 + 2) % kVocab}, {(i * 11 + 4) % kVocab}});
  steps.push_back({{1, 2, 3, 4, 5, 6, 7, 8, 9}, {12}, {13, 14}});
  return steps;
}

// Two rows in lockstep (the same number of ids at every step: the feed's
// uniform path), with different ids, past the window.
std::vector<std::vector<std::vector<std::int64_t>>> lockstep_script() {
  std::vector<std::vector<std::vector<std::int64_t>>> steps = {{{3, 1, 4, 1, 5}, {2, 7, 1, 8, 2}}};
  for (std::int64_t i = 0; i < 12; ++i)
    steps.push_back({{(i * 7 + 2) % kVocab}, {(i * 3 + 5) % kVocab}});
  return steps;
}

class DecodeTest : public ::testing::TestWithParam<Family> {};

TEST_P(DecodeTest, CachedMatchesForwardOverTheWindowBeforeAndAfterItSlides) {
  const auto model = scrambled_model(GetParam());
  expect_matches_reference(*model, DecodeMode::cached, one_row_script());
}

TEST_P(DecodeTest, RecomputeMatchesForwardOverTheWindow) {
  const auto model = scrambled_model(GetParam());
  expect_matches_reference(*model, DecodeMode::recompute, one_row_script());
}

TEST_P(DecodeTest, RowsOfDifferentLengthsEachMatchTheirOwnReference) {
  const auto model = scrambled_model(GetParam());
  expect_matches_reference(*model, DecodeMode::cached, three_row_script());
  expect_matches_reference(*model, DecodeMode::recompute, three_row_script());
}

TEST_P(DecodeTest, RowsInLockstepEachMatchTheirOwnReference) {
  const auto model = scrambled_model(GetParam());
  expect_matches_reference(*model, DecodeMode::cached, lockstep_script());
}

TEST_P(DecodeTest, GreedyDecodingWithTheCacheEqualsRecomputing) {
  const auto model = scrambled_model(GetParam());
  const auto greedy = [&](DecodeMode mode) {
    DecodeState state = model->start_decoding(1, mode);
    std::vector<std::int64_t> ids = {2, 7, 1};
    torch::Tensor logits = model->decode(state, {ids});
    for (int step = 0; step < 30; ++step) {
      ids.push_back(logits[0].argmax().item<std::int64_t>());
      logits = model->decode(state, {{ids.back()}});
    }
    return ids;
  };
  const std::vector<std::int64_t> cached = greedy(DecodeMode::cached);
  EXPECT_EQ(cached, greedy(DecodeMode::recompute));
  // Not one id repeated, which would hide a wrong window.
  EXPECT_GE(std::set<std::int64_t>(cached.begin(), cached.end()).size(), 4u);
}

TEST_P(DecodeTest, KeepRowsDropsRowsAndKeepsTheOthersGoing) {
  const auto model = scrambled_model(GetParam());
  DecodeState state = model->start_decoding(3);
  std::vector<std::vector<std::int64_t>> texts = {{1, 2, 3}, {4, 5, 6, 7, 8, 9}, {10, 11}};
  model->decode(state, texts);
  state.keep_rows({2, 0});
  ASSERT_EQ(state.rows(), 2);
  EXPECT_EQ(state.window(0), texts[2]);
  EXPECT_EQ(state.window(1), texts[0]);
  for (std::int64_t step = 0; step < 8; ++step) {
    const std::vector<std::int64_t> next = {(step + 3) % kVocab, (step * 2) % kVocab};
    const torch::Tensor logits = model->decode(state, {{next[0]}, {next[1]}});
    texts[2].push_back(next[0]);
    texts[0].push_back(next[1]);
    EXPECT_TRUE(torch::allclose(logits[0], reference_logits(*model, texts[2]), 1e-5, 1e-5));
    EXPECT_TRUE(torch::allclose(logits[1], reference_logits(*model, texts[0]), 1e-5, 1e-5));
  }
}

INSTANTIATE_TEST_SUITE_P(
    EveryFamily, DecodeTest,
    ::testing::Values(Family{"gpt_learned", ModelArch::gpt, Positions::learned},
                      Family{"gpt_sinusoidal", ModelArch::gpt, Positions::sinusoidal},
                      Family{"gpt_no_positions", ModelArch::gpt, Positions::none},
                      Family{"gpt_rope", ModelArch::gpt, Positions::rope},
                      Family{"gpt_rope_rmsnorm_swiglu_qk_norm", ModelArch::gpt, Positions::rope,
                             /*modern=*/true},
                      Family{"lstm", ModelArch::lstm, Positions::learned}),
    [](const ::testing::TestParamInfo<Family>& param) { return param.param.name; });

TEST(DecodeErrors, NameTheMisuse) {
  const auto model = scrambled_model({"gpt", ModelArch::gpt, Positions::learned});
  const auto other = scrambled_model({"gpt", ModelArch::gpt, Positions::learned});
  EXPECT_EQ(error_message<UsageError>([&] { model->start_decoding(0); }),
            "decode: expected at least 1 row, got 0");
  DecodeState state = model->start_decoding(2);
  EXPECT_EQ(error_message<Error>([&] {
              other->decode(state, {{1}, {2}});
            }),
            "decode: the decode state was started by another model");
  EXPECT_EQ(error_message<Error>([&] { model->decode(state, {{1}}); }),
            "decode: got new ids for 1 rows, the decode state has 2");
  EXPECT_EQ(error_message<Error>([&] {
              model->decode(state, {{1}, {}});
            }),
            "decode: row 1 got no new ids");
  EXPECT_EQ(error_message<Error>([&] {
              model->decode(state, {{1, 17}, {2}});
            }),
            "decode: row 0 got id 17, expected an id in [0, 17)");
  EXPECT_EQ(error_message<Error>([&] {
              model->decode(state, {{-1}, {2}});
            }),
            "decode: row 0 got id -1, expected an id in [0, 17)");
  model->train();
  EXPECT_EQ(error_message<Error>([&] {
              model->decode(state, {{1}, {2}});
            }),
            "decode: the model is in training mode; decoding applies no dropout, call eval()");
  model->eval();
  // None of the refused calls changed the state.
  EXPECT_TRUE(state.window(0).empty());
  EXPECT_EQ(error_message<Error>([&] { state.window(2); }),
            "decode state: row 2 does not exist, it has 2");
  EXPECT_EQ(error_message<Error>([&] {
              state.keep_rows({0, -1});
            }),
            "decode state: row -1 does not exist, it has 2");
  EXPECT_EQ(state.rows(), 2);
  EXPECT_EQ(state.mode(), DecodeMode::cached);
  EXPECT_EQ(model->start_decoding(1, DecodeMode::recompute).mode(), DecodeMode::recompute);
}

}  // namespace
}  // namespace loom::model
