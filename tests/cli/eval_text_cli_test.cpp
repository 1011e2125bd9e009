// `loom eval RUN --text FILE` on a tiny run trained with the built loom: the
// loss it prints is the one computed here window by window with the model's
// own forward pass, it counts the file's tokens and characters, --batches
// cuts it short, and bad input exits with code 2 and a message.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "test_support.hpp"
#include "tiny_run.hpp"
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "loom/run_dir/run_model.hpp"
#include "loom/text/utf8.hpp"

namespace loom {
namespace {

using namespace loom::test;

// Verse with characters the tiny run never saw ('Z', 'é': each one <unk>),
// 2-byte UTF-8 included, so bytes and characters differ.
std::string verse() {
  std::string text;
  for (int i = 0; i < 6; ++i)
    text += "the king shall speak of rome,\nmy lord é fair Zion night.\n\n";
  return text;
}

// The mean loss over the first `max_tokens` tokens of `text` read as
// `loom eval --text` promises: <eos> then the text's tokens, cut into
// non-overlapping windows of block_size predictions, each window on its own.
double expected_loss(run_dir::TrainedModel& trained, const std::string& text,
                     std::size_t max_tokens) {
  std::vector<text::TokenId> sequence = {text::kEosId};
  trained.tokenizer->encode(text, sequence);
  const std::size_t predictions = std::min(sequence.size() - 1, max_tokens);
  const auto block = static_cast<std::size_t>(trained.model->block_size());
  torch::NoGradGuard no_grad;
  double sum = 0;
  for (std::size_t start = 0; start < predictions; start += block) {
    const std::size_t length = std::min(block, predictions - start);
    const std::vector<std::int64_t> inputs(sequence.begin() + start,
                                           sequence.begin() + start + length);
    const std::vector<std::int64_t> targets(sequence.begin() + start + 1,
                                            sequence.begin() + start + length + 1);
    const torch::Tensor logits = trained.model->forward(torch::tensor(inputs).unsqueeze(0))[0];
    sum += torch::nn::functional::cross_entropy(
               logits, torch::tensor(targets),
               torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
               .item<double>();
  }
  return sum / static_cast<double>(predictions);
}

// The number printed before `unit` in `line` ("loss 2.1234 nats/token").
double number_before(const std::string& line, const std::string& unit) {
  const std::size_t end = line.find(" " + unit);
  EXPECT_NE(end, std::string::npos) << unit << " in " << line;
  const std::size_t begin = line.rfind(' ', end - 1) + 1;
  return std::stod(line.substr(begin, end - begin));
}

class EvalTextCli : public TinyRunTest {
 protected:
  const std::string checkpoint_ = run_ + "/checkpoints/step-00000012";
  const std::string text_ = write_file(dir_.file("verse.txt"), verse());
};

TEST_F(EvalTextCli, ScoresTheFileAsTheModelsForwardPassDoes) {
  // fp32, the precision expected_loss computes in (the tiny run's auto may
  // be bf16 here).
  const auto evaluated = run_loom("eval '" + run_ + "' --text '" + text_ + "' --precision fp32");
  ASSERT_EQ(evaluated.exit_code, 0) << evaluated.err;
  const std::string text = verse();
  const std::uint64_t characters = text::count_utf8(text).characters;
  ASSERT_EQ(characters, 6 * 58U);  // one token per character: a char tokenizer
  ASSERT_EQ(text.size(), 6 * 59U);
  // 348 predictions: 22 windows of 16, 3 batches of 8 windows (micro_batch).
  const std::size_t line_end = evaluated.out.find('\n');
  EXPECT_EQ(evaluated.out.substr(0, line_end + 1),
            fmt::format("{} step 12, text {}: 3 batches, 348 tokens, 348 characters\n", checkpoint_,
                        text_));

  run_dir::TrainedModel trained = run_dir::load_run_model(checkpoint_);
  const double loss = expected_loss(trained, text, /*max_tokens=*/348);
  const std::string report = evaluated.out.substr(line_end + 1);
  // Printed to 4 decimals: equal to within half the last digit.
  EXPECT_NEAR(number_before(report, "nats/token"), loss, 0.5e-4 + 1e-9) << report;
  EXPECT_NEAR(number_before(report, "bits/token"), loss / std::log(2.0), 0.5e-4 + 1e-9);
  EXPECT_NEAR(number_before(report, "bits/character"), loss / std::log(2.0), 0.5e-4 + 1e-9);
  EXPECT_NEAR(std::stod(report.substr(report.find("perplexity ") + 11)), std::exp(loss),
              0.5e-3 + 1e-9);

  // --batches cuts it short: the first 8 windows.
  const auto first =
      run_loom("eval '" + run_ + "' --text '" + text_ + "' --batches 1 --precision fp32");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.out.substr(0, first.out.find('\n') + 1),
            fmt::format("{} step 12, text {}: 1 batches, 128 of 348 tokens, 128 characters\n",
                        checkpoint_, text_));
  EXPECT_NEAR(number_before(first.out, "nats/token"), expected_loss(trained, text, 128),
              0.5e-4 + 1e-9);

  const std::string empty = write_file(dir_.file("empty.txt"), "");
  const auto no_text = run_loom("eval '" + run_ + "' --text '" + empty + "'");
  EXPECT_EQ(no_text.exit_code, 2);
  EXPECT_EQ(no_text.err, "error: " + empty + " holds no text to evaluate\n");
}

// Checked before any run is read: no run is needed.
TEST(EvalTextArguments, BadInputExitsWithCodeTwo) {
  TempDir dir;
  const std::string run = dir.file("runs/tiny");
  const std::string missing = dir.file("missing.txt");
  const auto no_file = run_loom("eval '" + run + "' --text '" + missing + "'");
  EXPECT_EQ(no_file.exit_code, 2);
  EXPECT_EQ(no_file.err, "error: " + missing + ": no such file\n");

  const auto folder = run_loom("eval '" + run + "' --text '" + dir.path().string() + "'");
  EXPECT_EQ(folder.exit_code, 2);
  EXPECT_EQ(folder.err, "error: " + dir.path().string() + " is not a file\n");

  const auto both = run_loom("eval '" + run + "' --text '" + missing + "' --split train");
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_EQ(both.err.rfind("--split excludes --text", 0), 0U) << both.err;

  const auto negative = run_loom("eval '" + run + "' --text '" + missing + "' --batches -1");
  EXPECT_EQ(negative.exit_code, 2);
  EXPECT_EQ(negative.err,
            "error: --batches must be 0 (eval.iters, or all of a --text file) or more, got -1\n");
}

}  // namespace
}  // namespace loom
