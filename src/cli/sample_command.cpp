// `loom sample RUN|CHECKPOINT`: text from a trained model. Prompts come from
// the command line, files or stdin; all samples of all prompts are generated
// in batches of rows that share each forward pass, and printed in order, the
// first row of each batch streamed to stdout as it is generated.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "command.hpp"
#include "inference_precision.hpp"
#include <fmt/format.h>

#include "loom/core/error.hpp"
#include "loom/infer/text_completion.hpp"
#include "loom/run_dir/run_model.hpp"
#include "loom/train/compute_setup.hpp"

namespace loom::cli {
namespace {

constexpr const char* kStdinName = "-";
constexpr const char* kSampleSeparator = "\n---------------\n";

struct SampleArgs {
  std::string run;
  std::vector<std::string> prompts;       // --prompt, "-" for stdin
  std::vector<std::string> prompt_files;  // --prompt-file: a whole file each
  std::string prompt_lines_file;          // --prompts-file: a prompt per line
  bool best = false;
  bool no_eos_stop = false;
  bool no_kv_cache = false;
  std::int64_t samples = 1;
  std::int64_t batch_size = 8;
  std::string precision;  // --precision; empty: the run's train.precision
  infer::CompletionOptions options;
};

// Reads stdin for the one source that named "-"; a second one is an error,
// since the first took all of it.
class PromptReader {
 public:
  std::string read(const std::string& path, const char* flag) {
    if (path == kStdinName) {
      if (stdin_read_) throw UsageError(fmt::format("{} -: stdin was already read", flag));
      stdin_read_ = true;
      return std::string(std::istreambuf_iterator<char>(std::cin), {});
    }
    std::ifstream file(path, std::ios::binary);
    if (!file) {
      throw UsageError(
          fmt::format("{} '{}': cannot read it: {}", flag, path, std::strerror(errno)));
    }
    return std::string(std::istreambuf_iterator<char>(file), {});
  }

 private:
  bool stdin_read_ = false;
};

// Every prompt, in this order: --prompt, --prompt-file, --prompts-file's
// non-empty lines. None given: a newline.
std::vector<std::string> gather_prompts(const SampleArgs& args) {
  if (args.prompts.empty() && args.prompt_files.empty() && args.prompt_lines_file.empty())
    return {"\n"};
  PromptReader reader;
  std::vector<std::string> prompts;
  for (const std::string& prompt : args.prompts)
    prompts.push_back(prompt == kStdinName ? reader.read(prompt, "--prompt") : prompt);
  for (const std::string& path : args.prompt_files)
    prompts.push_back(reader.read(path, "--prompt-file"));
  if (!args.prompt_lines_file.empty()) {
    std::istringstream lines(reader.read(args.prompt_lines_file, "--prompts-file"));
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) prompts.push_back(line);
    }
  }
  if (prompts.empty()) {
    throw UsageError(fmt::format("--prompts-file '{}' holds no prompt (no non-empty line)",
                                 args.prompt_lines_file));
  }
  return prompts;
}

ExitCode run_sample(SampleArgs args) {
  args.options.sampling.stop_at_eos = !args.no_eos_stop;
  args.options.sampling.use_kv_cache = !args.no_kv_cache;
  infer::check_completion_options(args.options);
  if (args.samples < 1)
    throw UsageError(fmt::format("--num-samples must be at least 1, got {}", args.samples));
  if (args.batch_size < 1)
    throw UsageError(fmt::format("--batch-size must be at least 1, got {}", args.batch_size));
  const std::vector<std::string> prompts = gather_prompts(args);

  train::configure_cpu_threads(/*requested=*/0, /*local_ranks=*/1);
  run_dir::TrainedModel trained = run_dir::load_run_model(args.run, args.best);
  const InferencePrecision precision =
      inference_precision(args.precision, trained.info.config, torch::kCPU);
  args.options.sampling.autocast_dtype = precision.autocast;
  const std::filesystem::path& checkpoint = trained.info.dir;
  std::fprintf(stderr, "sampling %s (step %lld) in %s\n", checkpoint.string().c_str(),
               static_cast<long long>(trained.info.state.step), precision.description.c_str());

  // Row r is sample r % samples of prompt r / samples, seeded with seed + r
  // whatever the batch size, so batching never changes the text.
  const auto rows = static_cast<std::int64_t>(prompts.size()) * args.samples;
  const std::uint64_t seed = args.options.sampling.seed;
  for (std::int64_t first = 0; first < rows; first += args.batch_size) {
    const std::int64_t count = std::min(args.batch_size, rows - first);
    std::vector<std::string> batch;
    for (std::int64_t row = first; row < first + count; ++row)
      batch.push_back(prompts[static_cast<std::size_t>(row / args.samples)]);
    args.options.sampling.seed = seed + static_cast<std::uint64_t>(first);

    if (first > 0) std::cout << kSampleSeparator;
    std::cout << batch.front() << std::flush;
    const std::vector<infer::Completion> completions =
        infer::complete_batch(*trained.model, *trained.tokenizer, batch, args.options,
                              [](std::size_t row, const infer::TextPiece& piece) {
                                if (row == 0) std::cout << piece.text << std::flush;
                                return true;
                              });
    std::cout << "\n";
    for (std::size_t row = 1; row < completions.size(); ++row)
      std::cout << kSampleSeparator << batch[row] << completions[row].text << "\n";
    std::cout << std::flush;
  }
  return ExitCode::kOk;
}

}  // namespace

void add_sample_command(CLI::App& app, Command& selected) {
  auto args = std::make_shared<SampleArgs>();
  infer::SamplingOptions& sampling = args->options.sampling;
  CLI::App* command =
      app.add_subcommand("sample", "generate text from a run's latest (or best) checkpoint");
  command->add_option("run", args->run, "run directory, or one checkpoint folder")->required();
  command
      ->add_option("--prompt", args->prompts,
                   "text to continue; repeatable; - reads stdin (default: a newline)")
      ->allow_extra_args(false);
  command
      ->add_option("--prompt-file", args->prompt_files,
                   "a file whose whole text is one prompt; repeatable; - reads stdin")
      ->allow_extra_args(false);
  command->add_option("--prompts-file", args->prompt_lines_file,
                      "a file with one prompt per line (empty lines skipped); - reads stdin");
  command->add_option("--tokens", sampling.max_new_tokens, "tokens to generate at most")
      ->capture_default_str();
  command
      ->add_option("--temperature", sampling.temperature,
                   "softmax temperature; 0 = always the likeliest token")
      ->capture_default_str();
  command->add_option("--top-k", sampling.top_k, "sample among the k likeliest; 0 = all")
      ->capture_default_str();
  command
      ->add_option("--top-p", sampling.top_p,
                   "sample among the likeliest tokens holding this much probability")
      ->capture_default_str();
  command
      ->add_option("--repetition-penalty", sampling.repetition_penalty,
                   "divide positive (multiply negative) logits of tokens already in the text; "
                   "1 = off")
      ->capture_default_str();
  command->add_option("--stop", args->options.stop, "end a sample before this text; repeatable")
      ->allow_extra_args(false);
  command->add_flag("--no-eos-stop", args->no_eos_stop,
                    "go on past <eos> (printed as \"<eos>\") instead of ending the sample");
  command->add_flag("--no-kv-cache", args->no_kv_cache,
                    "recompute the whole context for every token (slower, same text)");
  command->add_option("--seed", sampling.seed, "random seed; sample r gets seed + r")
      ->capture_default_str();
  command->add_option("-n,--num-samples", args->samples, "samples per prompt")
      ->capture_default_str();
  command->add_option("--batch-size", args->batch_size, "samples generated together")
      ->capture_default_str();
  command->add_flag("--best", args->best, "use the run's best-validation checkpoint");
  add_precision_option(*command, args->precision);
  command->callback([&selected, args] { selected = [args] { return run_sample(*args); }; });
}

}  // namespace loom::cli
