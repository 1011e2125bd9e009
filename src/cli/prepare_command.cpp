// `loom prepare`: corpus files into a token store, configured by a run
// config's `prepare` section and data.store, by flags, or both (flags win).
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "command.hpp"
#include <fmt/format.h>

#include "loom/config/loader.hpp"
#include "loom/core/log.hpp"
#include "loom/data_tools/prepare.hpp"

namespace loom::cli {
namespace {

struct PrepareArgs {
  std::string config_file;
  std::vector<std::string> overrides;
  std::vector<std::string> inputs;
  std::string out;
  std::string tokenizer;
  int threads = -1;
  bool force = false;
  std::string progress = "auto";
};

data_tools::ProgressOutput progress_output(const std::string& word) {
  if (word == "bar") return data_tools::ProgressOutput::bar;
  if (word == "lines") return data_tools::ProgressOutput::lines;
  if (word == "none") return data_tools::ProgressOutput::none;
  return data_tools::ProgressOutput::automatic;
}

ExitCode run_prepare(const PrepareArgs& args) {
  // Flags are overrides like any --set, so they are checked the same way.
  std::vector<std::string> overrides = args.overrides;
  if (!args.out.empty()) overrides.push_back("data.store=" + args.out);
  if (!args.tokenizer.empty()) overrides.push_back("prepare.tokenizer=" + args.tokenizer);
  if (args.threads >= 0) overrides.push_back(fmt::format("prepare.threads={}", args.threads));
  config::Config config =
      args.config_file.empty()
          ? config::load_config_text("", "the command line (give --out)", overrides)
          : config::load_config_file(args.config_file, overrides);
  apply_run_logging(config.run);
  // Paths may hold commas, so --input lists are set directly, not as --set text.
  if (!args.inputs.empty()) config.prepare.inputs = args.inputs;

  data_tools::PrepareOptions options;
  options.overwrite = args.force;
  options.progress = progress_output(args.progress);
  const data_tools::PrepareReport report = data_tools::prepare_corpus(config, options);
  std::cout << report.to_text();
  return ExitCode::kOk;
}

}  // namespace

void add_prepare_command(CLI::App& app, Command& selected) {
  auto args = std::make_shared<PrepareArgs>();
  CLI::App* command = app.add_subcommand(
      "prepare",
      "tokenize a corpus (text, JSONL, Discord package, Telegram export) into a token store");
  command->add_option("config", args->config_file,
                      "run config whose `prepare` section and data.store to use (optional)");
  command->add_option("-i,--input", args->inputs,
                      "corpus file, folder or glob (repeatable; replaces prepare.inputs)");
  command->add_option("-o,--out", args->out, "token store to write (sets data.store)");
  command->add_option("-t,--tokenizer", args->tokenizer, "char | byte | bpe | unigram");
  command->add_option("-j,--threads", args->threads, "tokenizer threads; 0 = every core");
  command->add_option("--set", args->overrides, "override one config key (repeatable)")
      ->type_name("SECTION.KEY=VALUE")
      ->allow_extra_args(false);
  command->add_flag("-f,--force", args->force, "replace the store if it exists");
  command->add_option("--progress", args->progress, "progress display")
      ->check(CLI::IsMember({"auto", "bar", "lines", "none"}));
  command->callback([&selected, args] { selected = [args] { return run_prepare(*args); }; });
}

}  // namespace loom::cli
