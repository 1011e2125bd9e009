// Every class of config mistake is reported with where it is, the key, what
// was found and what was expected; these assert the exact messages.
#include <string>
#include <vector>

#include "test_support.hpp"
#include <gtest/gtest.h>

#include "loom/config/loader.hpp"

namespace loom::config {
namespace {

const char* kStore = "data:\n  store: corpus.h5\n";

// The issues a config text produces, one formatted line each.
std::vector<std::string> issues_of(const std::string& yaml,
                                   const std::vector<std::string>& overrides = {}) {
  try {
    load_config_text(yaml, "run.yaml", overrides);
  } catch (const ConfigError& e) {
    std::vector<std::string> lines;
    for (const ConfigIssue& issue : e.issues())
      lines.push_back(issue.to_string());
    return lines;
  }
  return {};
}

using Lines = std::vector<std::string>;

TEST(ConfigErrors, UnknownKeySuggestsTheNearestKey) {
  EXPECT_EQ(issues_of(std::string(kStore) + "optim:\n  lerning_rate: 3e-4\n"),
            Lines{"run.yaml:4:3: unknown key 'optim.lerning_rate'; did you mean 'optim.lr'?"});
  EXPECT_EQ(issues_of(std::string(kStore) + "model:\n  n_embed: 64\n"),
            Lines{"run.yaml:4:3: unknown key 'model.n_embed'; did you mean 'model.n_embd'?"});
}

TEST(ConfigErrors, NanoGptNameIsPointedToLoomsKey) {
  EXPECT_EQ(issues_of(std::string(kStore) + "optim:\n  learning_rate: 3e-4\n"),
            Lines{"run.yaml:4:3: unknown key 'optim.learning_rate'; Loom calls it 'optim.lr' "
                  "(peak learning rate, reached after warmup)"});
}

TEST(ConfigErrors, NanoGptNameThatMeansSomethingElseGetsItsOwnHint) {
  EXPECT_EQ(issues_of(std::string(kStore) + "train:\n  gradient_accumulation_steps: 5\n"),
            Lines{"run.yaml:4:3: unknown key 'train.gradient_accumulation_steps'; Loom derives "
                  "accumulation: set train.batch_size to nanoGPT's batch_size x "
                  "gradient_accumulation_steps (nanoGPT's value already counts every rank) and "
                  "train.micro_batch to nanoGPT's batch_size"});
  EXPECT_EQ(issues_of(std::string(kStore) + "train:\n  dtype: bfloat16\n"),
            Lines{"run.yaml:4:3: unknown key 'train.dtype'; Loom calls it 'train.precision': "
                  "auto | fp32 | bf16 | fp16 (nanoGPT's float32 | bfloat16 | float16)"});
  EXPECT_EQ(issues_of(std::string(kStore) + "checkpoint:\n  init_from: resume\n"),
            Lines{"run.yaml:4:3: unknown key 'checkpoint.init_from'; Loom calls it "
                  "'checkpoint.resume': auto | never (nanoGPT's 'resume' | 'scratch'); auto "
                  "starts from scratch when there is no checkpoint yet"});
  // The hint does not depend on the section the name was put in.
  EXPECT_EQ(issues_of(std::string(kStore) + "train:\n  decay_lr: true\n"),
            Lines{"run.yaml:4:3: unknown key 'train.decay_lr'; Loom calls it 'optim.schedule': "
                  "cosine | constant (nanoGPT's decay_lr: True | False)"});
}

TEST(ConfigErrors, KeyInTheWrongSectionNamesTheRightOne) {
  EXPECT_EQ(issues_of(std::string(kStore) + "train:\n  lr: 3e-4\n"),
            Lines{"run.yaml:4:3: unknown key 'train.lr'; did you mean 'optim.lr'?"});
  EXPECT_EQ(issues_of(std::string(kStore) + "lr: 3e-4\n"),
            Lines{"run.yaml:3:1: unknown section 'lr'; keys go inside their section: did you "
                  "mean 'optim.lr'?"});
}

TEST(ConfigErrors, ExactKeyElsewhereBeatsATypoInTheSameSection) {
  // block_size is one edit from train.batch_size, but it is model's key.
  EXPECT_EQ(issues_of(std::string(kStore) + "train:\n  block_size: 128\n"),
            Lines{"run.yaml:4:3: unknown key 'train.block_size'; did you mean "
                  "'model.block_size'?"});
  // A key two sections have: both are named, in schema order.
  EXPECT_EQ(issues_of(std::string(kStore) + "eval:\n  threads: 2\n"),
            Lines{"run.yaml:4:3: unknown key 'eval.threads'; did you mean 'run.threads' or "
                  "'prepare.threads'?"});
  EXPECT_EQ(issues_of(std::string(kStore) + "train:\n  interval: 10\n"),
            Lines{"run.yaml:4:3: unknown key 'train.interval'; did you mean 'eval.interval' or "
                  "'checkpoint.interval'?"});
  EXPECT_EQ(issues_of(std::string(kStore) + "threads: 2\n"),
            Lines{"run.yaml:3:1: unknown section 'threads'; keys go inside their section: did "
                  "you mean 'run.threads' or 'prepare.threads'?"});
}

TEST(ConfigErrors, UnknownKeyWithNothingCloseListsTheSectionsKeys) {
  EXPECT_EQ(issues_of(std::string(kStore) + "dist:\n  zzzzzzzz: 1\n"),
            Lines{"run.yaml:4:3: unknown key 'dist.zzzzzzzz'; 'dist' has: backend, bucket_mb, "
                  "timeout, interface, timeline"});
}

TEST(ConfigErrors, UnknownSectionSuggestsTheNearestSection) {
  EXPECT_EQ(issues_of(std::string(kStore) + "optimm:\n  lr: 1\n"),
            Lines{"run.yaml:3:1: unknown section 'optimm'; did you mean 'optim'?"});
}

TEST(ConfigErrors, WrongTypeSaysWhatWasExpected) {
  EXPECT_EQ(issues_of(std::string(kStore) + "model:\n  n_layer: six\n"),
            Lines{"run.yaml:4:12: model.n_layer: expected an integer, got 'six'"});
  EXPECT_EQ(issues_of(std::string(kStore) + "model:\n  n_layer: 2.5\n"),
            Lines{"run.yaml:4:12: model.n_layer: expected an integer, got '2.5'"});
  EXPECT_EQ(issues_of(std::string(kStore) + "optim:\n  lr: fast\n"),
            Lines{"run.yaml:4:7: optim.lr: expected a number, got 'fast'"});
  EXPECT_EQ(issues_of(std::string(kStore) + "model:\n  bias: maybe\n"),
            Lines{"run.yaml:4:9: model.bias: expected true or false, got 'maybe'"});
  EXPECT_EQ(
      issues_of(std::string(kStore) + "train:\n  precision: fp8\n"),
      Lines{
          "run.yaml:4:14: train.precision: got 'fp8', expected one of auto | fp32 | bf16 | fp16"});
  EXPECT_EQ(issues_of(std::string(kStore) + "model:\n  n_head: [1, 2]\n"),
            Lines{"run.yaml:4:11: model.n_head: expected integer, got a list"});
  EXPECT_EQ(issues_of(std::string(kStore) + "optim:\n  lr:\n"),
            Lines{"run.yaml:4:3: optim.lr: expected number, got nothing"});
}

TEST(ConfigErrors, OutOfRangeStatesTheBounds) {
  EXPECT_EQ(issues_of(std::string(kStore) + "optim:\n  lr: -0.1\n"),
            Lines{"run.yaml:4:7: optim.lr: got -0.1, expected a number > 0"});
  EXPECT_EQ(issues_of(std::string(kStore) + "model:\n  dropout: 1\n"),
            Lines{"run.yaml:4:12: model.dropout: got 1, expected a number >= 0 and < 1"});
  EXPECT_EQ(issues_of(std::string(kStore) + "model:\n  n_layer: 0\n"),
            Lines{"run.yaml:4:12: model.n_layer: got 0, expected an integer >= 1"});
  EXPECT_EQ(issues_of(std::string(kStore) + "optim:\n  lr: .nan\n"),
            Lines{"run.yaml:4:7: optim.lr: expected a number, got '.nan'"});
}

TEST(ConfigErrors, MissingRequiredKeyIsNamedWithItsMeaning) {
  EXPECT_EQ(issues_of("model:\n  n_layer: 2\n"),
            Lines{"run.yaml: missing required key 'data.store' (token store written by `loom "
                  "prepare` (.h5))"});
  EXPECT_EQ(issues_of("data:\n  store: ''\n"),
            Lines{"run.yaml:2:10: data.store: must not be empty"});
}

TEST(ConfigErrors, MalformedYamlGivesTheLineNumber) {
  const Lines lines = issues_of("data:\n  store: corpus.h5\nmodel:\n  n_layer: [1, 2\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind("run.yaml:5:1: malformed YAML: ", 0), 0u) << lines[0];
  const Lines tabs = issues_of("data:\n  store: x\n  windows: packed\n bad indent: 1\n");
  ASSERT_EQ(tabs.size(), 1u);
  EXPECT_NE(tabs[0].find("run.yaml:4:"), std::string::npos) << tabs[0];
  EXPECT_NE(tabs[0].find("malformed YAML"), std::string::npos) << tabs[0];
}

TEST(ConfigErrors, StructuralMistakes) {
  EXPECT_EQ(issues_of("- data\n- model\n"),
            Lines{"run.yaml:1:1: the top level must be a mapping of sections (run:, data:, "
                  "model:, ...)"});
  EXPECT_EQ(issues_of(std::string(kStore) + "optim: 3e-4\n"),
            Lines{"run.yaml:3:8: section 'optim' must be a mapping of keys, got '3e-4'"});
  EXPECT_EQ(issues_of(std::string(kStore) + "model:\n  n_layer: 2\n  n_layer: 3\n"),
            Lines{"run.yaml:5:3: 'model.n_layer' is given twice (first at line 4)"});
}

TEST(ConfigErrors, KeysThatDisagreeAreReportedAtTheKeyToChange) {
  EXPECT_EQ(issues_of(std::string(kStore) + "model:\n  n_head: 5\n  n_embd: 64\n"),
            Lines{"run.yaml:5:11: model.n_embd: 64 is not divisible by model.n_head = 5"});
  EXPECT_EQ(issues_of(std::string(kStore) + "optim:\n  lr: 1e-4\n  min_lr: 1e-3\n"),
            Lines{"run.yaml:5:11: optim.min_lr: 0.001 is above optim.lr = 0.0001"});
  EXPECT_EQ(issues_of(std::string(kStore) + "train:\n  batch_size: 10\n  micro_batch: 4\n"),
            Lines{"run.yaml:5:16: train.micro_batch: 4 does not divide train.batch_size = 10"});
  EXPECT_EQ(
      issues_of(std::string(kStore) + "model:\n  n_head: 4\n  n_embd: 60\n  positions: rope\n"),
      Lines{"run.yaml:6:14: model.positions: rope turns pairs of channels, and the head "
            "width n_embd / n_head = 15 is odd"});
  EXPECT_EQ(issues_of(std::string(kStore) + "model:\n  mlp: swiglu\n  activation: relu\n"),
            Lines{"run.yaml:5:15: model.activation: relu applies to mlp: standard; mlp: swiglu "
                  "gates with SiLU (leave activation at gelu)"});
  EXPECT_EQ(issues_of(std::string(kStore) + "train:\n  max_iters: 50\n"),
            Lines{"run.yaml: optim.warmup_iters: 100 is past the end of the decay at step 50 "
                  "(train.max_iters is set at run.yaml:4:14)"});
}

TEST(ConfigErrors, CharVocabularyCapMustLeaveRoomForACharacter) {
  EXPECT_EQ(issues_of(std::string(kStore) + "prepare:\n  max_vocab: 3\n"),
            Lines{"run.yaml:4:14: prepare.max_vocab: 3 leaves no room beyond the 4 special "
                  "tokens; use 0 (no cap) or at least 5"});
  EXPECT_EQ(issues_of(kStore, {"prepare.max_vocab=4"}),
            Lines{"--set prepare.max_vocab=4: prepare.max_vocab: 4 leaves no room beyond the 4 "
                  "special tokens; use 0 (no cap) or at least 5"});
  EXPECT_EQ(issues_of(std::string(kStore) + "prepare:\n  max_vocab: 5\n"), Lines{});
  EXPECT_EQ(issues_of(std::string(kStore) + "prepare:\n  max_vocab: 0\n"), Lines{});
}

TEST(ConfigErrors, AllProblemsAreReportedAtOnce) {
  const Lines lines = issues_of("optim:\n  lerning_rate: 1\n  beta1: 2\nmodel:\n  n_layer: x\n");
  EXPECT_EQ(lines,
            (Lines{"run.yaml:2:3: unknown key 'optim.lerning_rate'; did you mean 'optim.lr'?",
                   "run.yaml:3:10: optim.beta1: got 2, expected a number >= 0 and < 1",
                   "run.yaml:5:12: model.n_layer: expected an integer, got 'x'",
                   "run.yaml: missing required key 'data.store' (token store written by "
                   "`loom prepare` (.h5))"}));
}

TEST(ConfigErrors, OverridesAreCheckedLikeTheFile) {
  EXPECT_EQ(issues_of(kStore, {"optim.lr=abc"}),
            Lines{"--set optim.lr=abc: optim.lr: expected a number, got 'abc'"});
  EXPECT_EQ(issues_of(kStore, {"optim.lr=-1"}),
            Lines{"--set optim.lr=-1: optim.lr: got -1, expected a number > 0"});
  EXPECT_EQ(issues_of(kStore, {"optim.lerning_rate=1"}),
            Lines{"--set optim.lerning_rate=1: unknown key 'optim.lerning_rate'; did you mean "
                  "'optim.lr'?"});
  EXPECT_EQ(issues_of(kStore, {"optim.lr"}),
            Lines{"--set optim.lr: expected SECTION.KEY=VALUE, for example optim.lr=3e-4"});
  EXPECT_EQ(issues_of(kStore, {"optim=1"}),
            Lines{"--set optim=1: 'optim' is a section; name one of its keys, e.g. optim.lr"});
  EXPECT_EQ(issues_of(kStore, {"model.n_layer="}),
            Lines{"--set model.n_layer=: model.n_layer: expected an integer, got ''"});
}

TEST(ConfigErrors, MissingFileIsNamed) {
  try {
    load_config_file("/nonexistent/run.yaml");
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "/nonexistent/run.yaml: cannot open the config file: No such file or "
                 "directory");
    EXPECT_EQ(e.exit_code(), ExitCode::kUsage);
  }
}

}  // namespace
}  // namespace loom::config
