// `loom export RUN|CHECKPOINT --format safetensors|hf --out DIR`: a trained
// model's weights, config and tokenizer in a folder that tools outside Loom
// load (include/loom/export/model_export.hpp lists the files and the tensor
// names, scripts/load_safetensors.py loads them in Python;
// include/loom/export/hf_export.hpp is the Hugging Face layout).
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include "command.hpp"
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "loom/export/hf_export.hpp"
#include "loom/export/model_export.hpp"
#include "loom/run_dir/run_model.hpp"

namespace loom::cli {
namespace {

struct ExportArgs {
  std::string run;
  std::string format = "safetensors";
  std::string out;
  std::string dtype = "fp32";
  bool best = false;
  bool force = false;
};

// --dtype's words, those of train.precision, to the safetensors element types.
const std::map<std::string, exporting::Dtype>& dtype_words() {
  static const std::map<std::string, exporting::Dtype> words = {
      {"fp32", exporting::Dtype::F32},
      {"bf16", exporting::Dtype::BF16},
      {"fp16", exporting::Dtype::F16},
  };
  return words;
}

ExitCode run_export(const ExportArgs& args) {
  const run_dir::TrainedModel trained = run_dir::load_run_model(args.run, args.best);
  const std::filesystem::path& checkpoint = trained.info.dir;
  exporting::ExportOptions options;
  options.dtype = dtype_words().at(args.dtype);
  options.force = args.force;
  const nlohmann::json source = {{"checkpoint", checkpoint.string()},
                                 {"step", trained.info.state.step}};
  const bool hugging_face = args.format == "hf";
  const exporting::ExportSummary summary =
      hugging_face ? exporting::export_hf_model(*trained.model, trained.info.tokenizer, args.out,
                                                options, source)
                   : exporting::export_model(*trained.model, trained.info.tokenizer, args.out,
                                             options, source);
  std::cout << fmt::format(
      "exported {} (step {}) to {}: model.safetensors ({} tensors, {} bytes, {}), config.json, "
      "tokenizer.json{}\n",
      checkpoint.string(), trained.info.state.step, args.out, summary.tensors,
      summary.weights_bytes, args.dtype,
      hugging_face ? ", tokenizer_config.json, generation_config.json (Hugging Face, GPT-2)" : "");
  return ExitCode::kOk;
}

}  // namespace

void add_export_command(CLI::App& app, Command& selected) {
  auto args = std::make_shared<ExportArgs>();
  CLI::App* command = app.add_subcommand(
      "export",
      "write a run's latest (or best) checkpoint as safetensors, config.json and "
      "tokenizer.json, for tools outside Loom");
  command->add_option("run", args->run, "run directory, or one checkpoint folder")->required();
  command
      ->add_option("--format", args->format,
                   "safetensors: Loom's names, for Loom and scripts/load_safetensors.py; hf: a "
                   "folder transformers loads as GPT-2 (AutoModelForCausalLM, AutoTokenizer)")
      ->check(CLI::IsMember({"safetensors", "hf"}))
      ->capture_default_str();
  command->add_option("--out", args->out, "folder to write (made whole, or not at all)")
      ->required();
  command->add_option("--dtype", args->dtype, "element type of the weights")
      ->check(CLI::IsMember({"fp32", "bf16", "fp16"}))
      ->capture_default_str();
  command->add_flag("--best", args->best, "use the run's best-validation checkpoint");
  command->add_flag("--force", args->force, "replace an existing export in --out");
  command->callback([&selected, args] { selected = [args] { return run_export(*args); }; });
}

}  // namespace loom::cli
