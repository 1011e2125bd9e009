// `loom sample RUN|CHECKPOINT`: text from a trained model, streamed to
// stdout as it is generated.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "command.hpp"
#include <fmt/format.h>

#include "loom/core/error.hpp"
#include "loom/infer/text_completion.hpp"
#include "loom/train/compute_setup.hpp"
#include "loom/train/trained_model.hpp"

namespace loom::cli {
namespace {

struct SampleArgs {
  std::string run;
  std::string prompt = "\n";
  bool best = false;
  std::int64_t samples = 1;
  infer::SamplingOptions options;
};

ExitCode run_sample(SampleArgs args) {
  infer::check_sampling_options(args.options);
  if (args.samples < 1)
    throw UsageError(fmt::format("--num-samples must be at least 1, got {}", args.samples));
  train::configure_cpu_threads(/*requested=*/0, /*local_ranks=*/1);
  const std::filesystem::path checkpoint = train::resolve_checkpoint(args.run, args.best);
  train::TrainedModel trained = train::load_trained_model(checkpoint, torch::Device(torch::kCPU));
  std::fprintf(stderr, "sampling %s (step %lld)\n", checkpoint.string().c_str(),
               static_cast<long long>(trained.info.state.step));
  for (std::int64_t i = 0; i < args.samples; ++i) {
    if (i > 0) std::cout << "\n---------------\n";
    std::cout << args.prompt << std::flush;
    infer::complete_text(*trained.model, *trained.tokenizer, args.prompt, args.options,
                         [](const std::string& piece) { std::cout << piece << std::flush; });
    std::cout << "\n";
    ++args.options.seed;  // the next sample differs, and the whole call stays reproducible
  }
  return ExitCode::kOk;
}

}  // namespace

void add_sample_command(CLI::App& app, Command& selected) {
  auto args = std::make_shared<SampleArgs>();
  CLI::App* command =
      app.add_subcommand("sample", "generate text from a run's latest (or best) checkpoint");
  command->add_option("run", args->run, "run directory, or one checkpoint folder")->required();
  command->add_option("--prompt", args->prompt, "text to continue (default: a newline)");
  command->add_option("--tokens", args->options.max_new_tokens, "tokens to generate")
      ->capture_default_str();
  command
      ->add_option("--temperature", args->options.temperature,
                   "softmax temperature; 0 = always the likeliest token")
      ->capture_default_str();
  command->add_option("--top-k", args->options.top_k, "sample among the k likeliest; 0 = all")
      ->capture_default_str();
  command
      ->add_option("--top-p", args->options.top_p,
                   "sample among the likeliest tokens holding this much probability")
      ->capture_default_str();
  command->add_option("--seed", args->options.seed, "random seed")->capture_default_str();
  command->add_option("-n,--num-samples", args->samples, "samples to print")->capture_default_str();
  command->add_flag("--best", args->best, "use the run's best-validation checkpoint");
  command->callback([&selected, args] { selected = [args] { return run_sample(*args); }; });
}

}  // namespace loom::cli
