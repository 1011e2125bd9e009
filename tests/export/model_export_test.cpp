// A model's export: the tensor names and shapes of each family (the scheme
// model_export.hpp documents), the tied alias, config.json, the bytes in
// model.safetensors, and the folder's refusals to overwrite.
#include "loom/export/model_export.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "test_support.hpp"
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include "loom/core/build_info.hpp"
#include "loom/core/error.hpp"

namespace loom::exporting {
namespace {

using namespace loom::test;

namespace fs = std::filesystem;
using nlohmann::json;

config::ModelConfig small_gpt() {
  config::ModelConfig config;
  config.block_size = 4;
  config.n_layer = 2;
  config.n_head = 2;
  config.n_embd = 8;
  config.dropout = 0;
  return config;
}

std::shared_ptr<model::LanguageModel> build(const config::ModelConfig& config) {
  torch::manual_seed(3);
  return model::make_model(config, /*vocab_size=*/10);
}

// "name [d0, d1]" for each exported tensor, in export order.
std::vector<std::string> names_and_shapes(const model::LanguageModel& model) {
  std::vector<std::string> rows;
  for (const NamedTensor& named : export_tensors(model, Dtype::F32))
    rows.push_back(fmt::format("{} [{}]", named.name, fmt::join(named.tensor.sizes(), ", ")));
  return rows;
}

TEST(ModelExport, NamesEveryGptTensorAsDocumented) {
  config::ModelConfig config = small_gpt();
  config.bias = true;
  config.tie_weights = false;
  const auto model = build(config);
  std::vector<std::string> expected = {"wte.weight [10, 8]", "lm_head.weight [10, 8]",
                                       "wpe.weight [4, 8]"};
  for (int i = 0; i < 2; ++i) {
    for (const char* row :
         {"ln_1.weight [8]", "ln_1.bias [8]", "attn.c_attn.weight [24, 8]", "attn.c_attn.bias [24]",
          "attn.c_proj.weight [8, 8]", "attn.c_proj.bias [8]", "ln_2.weight [8]", "ln_2.bias [8]",
          "mlp.c_fc.weight [32, 8]", "mlp.c_fc.bias [32]", "mlp.c_proj.weight [8, 32]",
          "mlp.c_proj.bias [8]"})
      expected.push_back(fmt::format("h.{}.{}", i, row));
  }
  expected.insert(expected.end(), {"ln_f.weight [8]", "ln_f.bias [8]"});
  EXPECT_EQ(names_and_shapes(*model), expected);
  EXPECT_TRUE(tied_aliases(*model).empty());
}

TEST(ModelExport, StoresATiedOutputProjectionOnceUnderAnAlias) {
  const auto model = build(small_gpt());  // tie_weights and no biases by default
  const std::vector<std::string> rows = names_and_shapes(*model);
  EXPECT_EQ(rows.front(), "wte.weight [10, 8]");
  EXPECT_EQ(std::count_if(rows.begin(), rows.end(),
                          [](const std::string& row) { return row.rfind("lm_head", 0) == 0; }),
            0);
  EXPECT_EQ(rows.size(), 2 + 2 * 6 + 1U);  // wte, wpe, 6 weights a block, ln_f
  EXPECT_EQ(tied_aliases(*model),
            (std::map<std::string, std::string>{{"lm_head.weight", "wte.weight"}}));
}

TEST(ModelExport, ExportsTheSinusoidTableAndNoLearnedPositions) {
  config::ModelConfig config = small_gpt();
  config.positions = config::Positions::sinusoidal;
  const std::vector<std::string> rows = names_and_shapes(*build(config));
  EXPECT_EQ(rows.back(), "sinusoids [4, 8]");  // buffers follow the parameters
  EXPECT_EQ(std::find(rows.begin(), rows.end(), "wpe.weight [4, 8]"), rows.end());
}

TEST(ModelExport, NamesLstmTensorsAsTorchNnLstmDoes) {
  config::ModelConfig config = small_gpt();
  config.arch = config::ModelArch::lstm;
  config.bias = true;
  config.tie_weights = false;
  EXPECT_EQ(names_and_shapes(*build(config)),
            (std::vector<std::string>{"wte.weight [10, 8]", "lm_head.weight [10, 8]",
                                      "lstm.weight_ih_l0 [32, 8]", "lstm.weight_hh_l0 [32, 8]",
                                      "lstm.bias_ih_l0 [32]", "lstm.bias_hh_l0 [32]",
                                      "lstm.weight_ih_l1 [32, 8]", "lstm.weight_hh_l1 [32, 8]",
                                      "lstm.bias_ih_l1 [32]", "lstm.bias_hh_l1 [32]"}));
}

TEST(ModelExport, ConfigJsonHoldsEveryModelKeyAndHowToReadTheTensors) {
  const auto model = build(small_gpt());
  const json source = {{"checkpoint", "runs/x/checkpoints/step-00000012"}, {"step", 12}};
  EXPECT_EQ(export_config(*model, Dtype::BF16, source), json::parse(R"({
    "loom_version": ")" LOOM_VERSION R"(", "tensor_naming": "loom-1", "dtype": "bfloat16",
    "vocab_size": 10, "tied_weights": {"lm_head.weight": "wte.weight"},
    "arch": "gpt", "block_size": 4, "n_layer": 2, "n_head": 2, "n_embd": 8, "dropout": 0.0,
    "bias": false, "positions": "learned", "rope_base": 10000.0, "norm": "layernorm",
    "mlp": "standard", "mlp_hidden": 0, "activation": "gelu", "qk_norm": false,
    "tie_weights": true, "layer_norm_eps": 1e-5,
    "source": {"checkpoint": "runs/x/checkpoints/step-00000012", "step": 12}})"));

  config::ModelConfig lstm = small_gpt();
  lstm.arch = config::ModelArch::lstm;
  const json exported = export_config(*build(lstm), Dtype::F32);
  EXPECT_FALSE(exported.contains("layer_norm_eps"));
  EXPECT_FALSE(exported.contains("source"));
  EXPECT_EQ(exported["dtype"], "float32");
}

class ExportFolder : public ::testing::Test {
 protected:
  ExportSummary export_to(const std::string& out, ExportOptions options = {}) {
    return export_model(*model_, tokenizer_, out, options);
  }
  std::string refusal(const std::string& out, bool force) {
    ExportOptions options;
    options.force = force;
    return error_message<UsageError>([&] { export_to(out, options); });
  }

  TempDir dir_;
  const std::string out_ = dir_.file("out");
  std::shared_ptr<model::LanguageModel> model_ = build(small_gpt());
  const json tokenizer_ = {{"kind", "byte"}, {"vocab_size", 10}};
};

TEST_F(ExportFolder, WritesTheWeightsConfigAndTokenizer) {
  const ExportSummary summary = export_to(out_);
  EXPECT_EQ(summary.tensors, 15U);
  EXPECT_EQ(summary.weights_bytes, fs::file_size(out_ + "/model.safetensors"));
  EXPECT_EQ(read_file(out_ + "/tokenizer.json"), tokenizer_.dump() + "\n");
  EXPECT_EQ(json::parse(read_file(out_ + "/config.json")), export_config(*model_, Dtype::F32));
  EXPECT_FALSE(fs::exists(out_ + ".tmp"));

  const SafetensorsHeader header = read_safetensors_header(out_ + "/model.safetensors");
  EXPECT_EQ(header.metadata, (Metadata{{"format", "pt"},
                                       {"loom_version", LOOM_VERSION},
                                       {"tensor_naming", "loom-1"},
                                       {"arch", "gpt"},
                                       {"alias:lm_head.weight", "wte.weight"}}));
  const std::string bytes = read_file(out_ + "/model.safetensors");
  std::size_t checked = 0;
  for (const auto& parameter : model_->named_parameters()) {
    const auto entry =
        std::find_if(header.tensors.begin(), header.tensors.end(),
                     [&](const TensorEntry& e) { return e.name == parameter.key(); });
    ASSERT_NE(entry, header.tensors.end()) << parameter.key();
    const torch::Tensor values = parameter.value().contiguous();
    ASSERT_EQ(entry->end - entry->begin, values.nbytes()) << parameter.key();
    EXPECT_EQ(std::memcmp(bytes.data() + header.data_start + entry->begin, values.data_ptr(),
                          values.nbytes()),
              0)
        << parameter.key();
    ++checked;
  }
  EXPECT_EQ(checked, header.tensors.size());
}

TEST_F(ExportFolder, StoresEachWeightRoundedToBf16) {
  ExportOptions options;
  options.dtype = Dtype::BF16;
  export_to(out_, options);
  const SafetensorsHeader header = read_safetensors_header(out_ + "/model.safetensors");
  const std::string bytes = read_file(out_ + "/model.safetensors");
  const auto entry = std::find_if(header.tensors.begin(), header.tensors.end(),
                                  [](const TensorEntry& e) { return e.name == "wte.weight"; });
  ASSERT_NE(entry, header.tensors.end());
  EXPECT_EQ(entry->dtype, Dtype::BF16);
  const torch::Tensor rounded = model_->token_embedding_weight().to(torch::kBFloat16).contiguous();
  ASSERT_EQ(entry->end - entry->begin, rounded.nbytes());
  EXPECT_EQ(std::memcmp(bytes.data() + header.data_start + entry->begin, rounded.data_ptr(), 160),
            0);
  EXPECT_EQ(json::parse(read_file(out_ + "/config.json"))["dtype"], "bfloat16");
}

TEST_F(ExportFolder, ReplacesAnExportOnlyWhenForced) {
  export_to(out_);
  EXPECT_EQ(refusal(out_, /*force=*/false), out_ + " already exists; pass --force to replace it");
  ExportOptions options;
  options.force = true;
  options.dtype = Dtype::F16;
  export_to(out_, options);
  EXPECT_EQ(json::parse(read_file(out_ + "/config.json"))["dtype"], "float16");
  EXPECT_FALSE(fs::exists(out_ + ".tmp"));
}

TEST_F(ExportFolder, NeverRemovesAFolderOfOtherThings) {
  fs::create_directories(out_);
  write_file(out_ + "/notes.txt", "mine");
  EXPECT_EQ(refusal(out_, /*force=*/true),
            out_ +
                " holds 'notes.txt', which is not part of an export; refusing to replace it "
                "with an export");
  EXPECT_EQ(read_file(out_ + "/notes.txt"), "mine");

  write_file(dir_.file("file"), "mine");
  EXPECT_EQ(
      refusal(dir_.file("file"), /*force=*/true),
      dir_.file("file") + " exists and is not a folder; refusing to replace it with an export");
  EXPECT_EQ(read_file(dir_.file("file")), "mine");
}

TEST_F(ExportFolder, ReplacesWhatAnInterruptedExportLeftButNothingElse) {
  fs::create_directories(out_ + ".tmp");
  write_file(out_ + ".tmp/model.safetensors", "half");
  export_to(out_);
  EXPECT_FALSE(fs::exists(out_ + ".tmp"));
  EXPECT_TRUE(fs::exists(out_ + "/model.safetensors"));

  const std::string other = dir_.file("other");
  fs::create_directories(other + ".tmp");
  write_file(other + ".tmp/notes.txt", "mine");
  EXPECT_EQ(refusal(other, /*force=*/false),
            other +
                ".tmp holds 'notes.txt', which is not part of an export; move it away: an "
                "export is written there first");
  EXPECT_FALSE(fs::exists(other));
}

TEST_F(ExportFolder, ATrailingSlashNamesTheFolderAndParentsAreMade) {
  export_to(dir_.file("a/b/out/"));
  EXPECT_TRUE(fs::exists(dir_.file("a/b/out/config.json")));
  EXPECT_FALSE(fs::exists(dir_.file("a/b/out.tmp")));
}

}  // namespace
}  // namespace loom::exporting
