// Loading, overriding and printing configs: values arrive typed, defaults
// fill the rest, and print-then-load gives back the same structs.
#include <filesystem>

#include "test_support.hpp"
#include <gtest/gtest.h>

#include "loom/config/fields.hpp"
#include "loom/config/loader.hpp"
#include "loom/config/yaml_dump.hpp"

namespace loom::config {
namespace {

TEST(ConfigLoad, ValuesArriveTypedAndDefaultsFillTheRest) {
  const Config c = load_config_text(R"(
run:
  name: tiny
  device: cpu
  log_level: warning
data:
  store: corpus.h5
  windows: document
model:
  arch: lstm
  n_layer: 2
  dropout: 0
  bias: True
optim:
  lr: 3e-4
train:
  precision: bf16
)",
                                    "run.yaml");
  EXPECT_EQ(c.run.name, "tiny");
  EXPECT_EQ(c.run.device, Device::cpu);
  EXPECT_EQ(c.run.log_level, log::Level::warn);
  EXPECT_EQ(c.data.store, "corpus.h5");
  EXPECT_EQ(c.data.windows, WindowMode::document);
  EXPECT_EQ(c.model.arch, ModelArch::lstm);
  EXPECT_EQ(c.model.n_layer, 2);
  EXPECT_EQ(c.model.dropout, 0.0);
  EXPECT_TRUE(c.model.bias);
  EXPECT_EQ(c.optim.lr, 3e-4);
  EXPECT_EQ(c.train.precision, Precision::bf16);
  // Untouched keys keep the documented defaults.
  const Config defaults;
  EXPECT_EQ(c.model.n_embd, defaults.model.n_embd);
  EXPECT_EQ(c.optim.beta2, 0.99);
  EXPECT_EQ(c.checkpoint.resume, ResumeMode::automatic);
}

TEST(ConfigLoad, ListsComeFromSequencesScalarsOrCommaSeparatedOverrides) {
  const std::string store = "data:\n  store: a.h5\n";
  EXPECT_EQ(load_config_text(store + "prepare:\n  inputs: [a.txt, 'b, c.txt']\n", "run.yaml")
                .prepare.inputs,
            (std::vector<std::string>{"a.txt", "b, c.txt"}));
  EXPECT_EQ(
      load_config_text(store + "prepare:\n  inputs:\n    - x/*.jsonl\n", "run.yaml").prepare.inputs,
      (std::vector<std::string>{"x/*.jsonl"}));
  EXPECT_EQ(
      load_config_text(store + "prepare:\n  inputs: one file.txt\n", "run.yaml").prepare.inputs,
      (std::vector<std::string>{"one file.txt"}));
  EXPECT_EQ(load_config_text(store, "run.yaml", {"prepare.inputs=a.txt,b.txt"}).prepare.inputs,
            (std::vector<std::string>{"a.txt", "b.txt"}));
  EXPECT_EQ(load_config_text(store, "run.yaml", {"prepare.inputs="}).prepare.inputs,
            (std::vector<std::string>{}));
  try {
    load_config_text(store + "prepare:\n  inputs: [a.txt, [b]]\n", "run.yaml");
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "run.yaml:4:19: prepare.inputs: expected a string in the list, got a list");
  }
}

TEST(ConfigLoad, EmptySectionsAndCommentsAreFine) {
  const Config c =
      load_config_text("# nothing but the store\ndata:\n  store: a.h5\noptim:\n", "run.yaml");
  EXPECT_EQ(c.optim.lr, Config{}.optim.lr);
}

TEST(ConfigLoad, OverridesApplyAfterTheFileInOrder) {
  const Config c = load_config_text("data:\n  store: a.h5\noptim:\n  lr: 1e-3\n", "run.yaml",
                                    {"optim.lr=3e-4", "model.n_layer=+8", "train.precision=fp16",
                                     "eval.sample_prompt=ROMEO: ", "optim.lr=5e-4"});
  EXPECT_EQ(c.optim.lr, 5e-4);
  EXPECT_EQ(c.model.n_layer, 8);
  EXPECT_EQ(c.train.precision, Precision::fp16);
  // Strings are taken verbatim, not parsed as YAML.
  EXPECT_EQ(c.eval.sample_prompt, "ROMEO: ");
}

TEST(ConfigLoad, OverrideCanSupplyARequiredKey) {
  const Config c = load_config_text("", "run.yaml", {"data.store=x.h5"});
  EXPECT_EQ(c.data.store, "x.h5");
}

TEST(ConfigLoad, PrintThenLoadGivesTheSameConfig) {
  Config original = load_config_text("data:\n  store: a.h5\n", "run.yaml");
  original.run.name = "quotes \" and 'apostrophes' # not a comment";
  original.eval.sample_prompt = "ROMEO:\n\tJuliet — ü 🌹";
  original.data.store = "123";  // a string that looks like a number
  original.run.out_dir = "true";
  original.optim.lr = 0.5;
  original.optim.min_lr = 1.0 / 3.0;
  original.optim.eps = 1e-300;
  original.model.dropout = 0.1;
  original.dist.bucket_mb = 0.5;
  original.train.precision = Precision::bf16;
  original.model.positions = Positions::none;
  original.run.seed = 9007199254740993;  // not representable as a double
  original.prepare.inputs = {"corpus.txt", "with, comma.txt", "[brackets]", ""};
  original.prepare.separator = "";
  original.prepare.tokenizer = TokenizerKind::unigram;

  for (DumpStyle style : {DumpStyle::plain, DumpStyle::documented}) {
    const std::string text = to_yaml(original, style);
    const Config reloaded = load_config_text(text, "dump.yaml");
    EXPECT_TRUE(reloaded == original) << text;
    EXPECT_EQ(reloaded.eval.sample_prompt, original.eval.sample_prompt);
    EXPECT_EQ(reloaded.optim.min_lr, original.optim.min_lr);
    EXPECT_EQ(reloaded.run.seed, original.run.seed);
  }
}

TEST(ConfigLoad, EqualityNoticesAnyField) {
  const Config a;
  Config b;
  EXPECT_TRUE(a == b);
  b.checkpoint.keep_best = false;
  EXPECT_FALSE(a == b);
}

TEST(ConfigLoad, EveryShippedConfigLoads) {
  const std::filesystem::path configs = std::filesystem::path(LOOM_SOURCE_DIR) / "configs";
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(configs)) {
    if (entry.path().extension() != ".yaml") continue;
    SCOPED_TRACE(entry.path().string());
    EXPECT_NO_THROW(load_config_file(entry.path().string()));
    ++count;
  }
  EXPECT_GE(count, 1);
}

TEST(ConfigLoad, SchemaRowsCoverEverySection) {
  const std::vector<SectionRow> sections = section_rows();
  std::vector<std::string> names;
  for (const SectionRow& s : sections)
    names.push_back(s.name);
  EXPECT_EQ(names, (std::vector<std::string>{"run", "prepare", "data", "model", "optim", "train",
                                             "eval", "checkpoint", "dist", "chat"}));
  for (const FieldRow& row : flatten(Config{})) {
    EXPECT_NE(std::string(row.spec.doc()), "") << row.path();
  }
}

}  // namespace
}  // namespace loom::config
