// `loom sample` as a user runs it, on the tiny run of tiny_run.hpp trained
// once for the suite: prompts from flags, files and stdin, in their order;
// the text of a sample depends on its prompt and seed only (not on the
// batch it ran in, nor on the cache); stop strings cut the text; and every
// bad flag is refused with exit code 2 and a message naming it.
#include <string>
#include <vector>

#include "test_support.hpp"
#include "tiny_run.hpp"
#include <gtest/gtest.h>

namespace loom {
namespace {

using namespace loom::test;

constexpr const char* kSeparator = "\n---------------\n";
constexpr const char* kModernLayout =
    "--set model.positions=rope --set model.norm=rmsnorm --set model.mlp=swiglu --set "
    "model.qk_norm=true";

std::vector<std::string> split_samples(const std::string& out) {
  std::vector<std::string> samples;
  std::size_t start = 0;
  for (std::size_t at; (at = out.find(kSeparator, start)) != std::string::npos;) {
    samples.push_back(out.substr(start, at - start));
    start = at + std::string(kSeparator).size();
  }
  samples.push_back(out.substr(start));
  return samples;
}

class SampleCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const std::string config = dir_->file("tiny.yaml");
    const auto prepared = prepare_tiny_run_with_loom(dir_->path().string(), config);
    ASSERT_EQ(prepared.exit_code, 0) << prepared.err;
    const auto trained = run_loom("train '" + config + "'");
    ASSERT_EQ(trained.exit_code, 0) << trained.err;
    // The same run in the modern layout: rotary positions, RMSNorm, SwiGLU, QK-norm.
    const auto modern = run_loom("train '" + config + "' --set run.name=modern " + kModernLayout);
    ASSERT_EQ(modern.exit_code, 0) << modern.err;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  // stdout of `loom sample RUN ARGS`, which must succeed.
  static std::string sample(const std::string& args) {
    const auto result =
        run_loom("sample '" + (dir_->path() / "runs" / "tiny").string() + "' " + args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return result.out;
  }

  // stderr of `loom sample RUN ARGS`, which must fail with exit code 2.
  static std::string refused(const std::string& args) {
    const auto result =
        run_loom("sample '" + (dir_->path() / "runs" / "tiny").string() + "' " + args);
    EXPECT_EQ(result.exit_code, 2) << result.out;
    return result.err;
  }

  static std::string file(const std::string& name) { return dir_->file(name); }

  static TempDir* dir_;
};

TempDir* SampleCli::dir_ = nullptr;

// Four prompts from three sources: sample r of the run is its prompt alone
// with seed 3 + r, here given on stdin, whatever the batch size.
TEST_F(SampleCli, SampleRIsItsPromptAloneWithSeedPlusR) {
  write_file(file("one.txt"), "my lord\n");
  write_file(file("lines.txt"), "fair rome\n\nof love\n");
  const std::string sources = "--prompt 'the king' --prompt-file '" + file("one.txt") +
                              "' --prompts-file '" + file("lines.txt") + "' --tokens 12 --seed 3";
  const std::string out = sample(sources);
  const std::vector<std::string> samples = split_samples(out);
  const std::vector<std::string> prompts = {"the king", "my lord\n", "fair rome", "of love"};
  ASSERT_EQ(samples.size(), prompts.size()) << out;
  for (std::size_t r = 0; r < samples.size(); ++r)
    EXPECT_EQ(samples[r].rfind(prompts[r], 0), 0u) << samples[r];

  write_file(file("stdin.txt"), "my lord\n");
  EXPECT_EQ(sample("--prompt - --tokens 12 --seed 4 < '" + file("stdin.txt") + "'"), samples[1]);
  write_file(file("stdin.txt"), "of love\n");
  EXPECT_EQ(sample("--prompts-file - --tokens 12 --seed 6 < '" + file("stdin.txt") + "'"),
            samples[3]);
  EXPECT_EQ(sample(sources + " --batch-size 3"), out);
}

TEST_F(SampleCli, TheCacheChangesNoText) {
  // 40 tokens after prompts of 8 and 7: past the context of 16.
  const std::string flags = "--prompt 'the king' --prompt 'my lord' -n 2 --tokens 40 --seed 4";
  EXPECT_EQ(sample(flags + " --no-kv-cache"), sample(flags));
}

// With rotary positions the cache slides in place past the context, and
// the path without it computes the same sliding-window attention: the same
// text, greedy and sampled. eval and a safetensors export read the run too.
TEST_F(SampleCli, AModernLayoutRunSamplesTheSameWithAndWithoutTheCacheEvaluatesAndExports) {
  const std::string run = dir_->file("runs/modern");
  const auto modern_sample = [&](const std::string& args) {
    const auto result = run_loom("sample '" + run + "' " + args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return result.out;
  };
  for (const std::string flags :
       {"--prompt 'the king' --tokens 60 --temperature 0 --precision fp32",
        "--prompt 'the king' --prompt 'my lord' -n 2 --tokens 60 "
        "--seed 4 --precision fp32"}) {
    const std::string cached = modern_sample(flags);
    EXPECT_GT(cached.size(), 60u) << cached;
    EXPECT_EQ(modern_sample(flags + " --no-kv-cache"), cached) << flags;
  }
  const auto evaluated = run_loom("eval '" + run + "' --split val --batches 2");
  EXPECT_EQ(evaluated.exit_code, 0) << evaluated.err;
  EXPECT_NE(evaluated.out.find("nats/token"), std::string::npos) << evaluated.out;
  const auto exported =
      run_loom("export '" + run + "' --out '" + dir_->file("modern-export") + "'");
  EXPECT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_NE(read_file(dir_->file("modern-export/config.json")).find("\"qk_norm\": true"),
            std::string::npos);
}

// The stop string is a character of the unstopped text, so it occurs
// (--no-eos-stop: the text is 40 tokens long whatever the model draws).
TEST_F(SampleCli, StopsBeforeTheFirstStopString) {
  const std::string flags = "--prompt 'the king' --tokens 40 --seed 6 --no-eos-stop";
  const std::string plain = sample(flags);
  const std::string completion = plain.substr(std::string("the king").size());
  ASSERT_GT(completion.size(), 20u) << plain;
  const std::string stop = completion.substr(15, 1);
  EXPECT_EQ(sample(flags + " --stop '" + stop + "' --stop 'never there'"),
            "the king" + completion.substr(0, completion.find(stop)) + "\n");
}

TEST_F(SampleCli, RefusesBadFlagsNamingThem) {
  EXPECT_EQ(refused("--batch-size 0"), "error: --batch-size must be at least 1, got 0\n");
  EXPECT_EQ(refused("-n 0"), "error: --num-samples must be at least 1, got 0\n");
  EXPECT_EQ(refused("--stop ''"),
            "error: stop string 0 is empty; a stop string needs a character\n");
  EXPECT_EQ(refused("--repetition-penalty 0"),
            "error: repetition_penalty must be finite and > 0, got 0\n");
  EXPECT_EQ(refused("--prompt-file '" + file("missing.txt") + "'"),
            "error: --prompt-file '" + file("missing.txt") +
                "': cannot read it: No such file or directory\n");
  EXPECT_EQ(refused("--prompt - --prompt-file - < /dev/null"),
            "error: --prompt-file -: stdin was already read\n");
  write_file(file("blank.txt"), "\n\n");
  EXPECT_EQ(
      refused("--prompts-file '" + file("blank.txt") + "'"),
      "error: --prompts-file '" + file("blank.txt") + "' holds no prompt (no non-empty line)\n");
}

}  // namespace
}  // namespace loom
