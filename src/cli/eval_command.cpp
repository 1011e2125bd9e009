// `loom eval RUN|CHECKPOINT --split val|train`: a trained model's loss on
// its token store, in nats, bits per token and bits per character.
#include <cmath>
#include <iostream>
#include <memory>
#include <string>

#include "command.hpp"
#include <fmt/format.h>

#include "loom/core/error.hpp"
#include "loom/data/sampler.hpp"
#include "loom/data/token_store.hpp"
#include "loom/train/compute_setup.hpp"
#include "loom/train/evaluation.hpp"
#include "loom/train/trained_model.hpp"

namespace loom::cli {
namespace {

struct EvalArgs {
  std::string run;
  std::string split = "val";
  std::string store;  // default: the checkpoint config's data.store
  std::int64_t batches = 0;
  bool best = false;
};

ExitCode run_eval(const EvalArgs& args) {
  if (args.batches < 0)
    throw UsageError(fmt::format("--batches must be 0 (eval.iters) or more, got {}", args.batches));
  train::configure_cpu_threads(/*requested=*/0, /*local_ranks=*/1);
  const std::filesystem::path checkpoint = train::resolve_checkpoint(args.run, args.best);
  train::TrainedModel trained = train::load_trained_model(checkpoint, torch::Device(torch::kCPU));
  const config::Config& config = trained.info.config;

  const std::string store_path = args.store.empty() ? config.data.store : args.store;
  if (!std::filesystem::exists(store_path)) {
    throw UsageError(fmt::format(
        "token store '{}' does not exist; give the run's store with --store", store_path));
  }
  const data::TokenStoreReader store(store_path);
  if (nlohmann::json::parse(store.metadata().tokenizer_json) != trained.info.tokenizer) {
    throw UsageError(fmt::format("{} was written with another tokenizer than {}'s", store_path,
                                 checkpoint.string()));
  }
  data::SamplerOptions options;
  options.block_size = config.model.block_size;
  options.micro_batch =
      config.train.micro_batch > 0 ? config.train.micro_batch : config.train.batch_size;
  options.global_batch = options.micro_batch;
  options.windows = config.data.windows;
  options.seed = static_cast<std::uint64_t>(config.run.seed);
  const data::BatchSampler sampler(
      store.split(args.split == "train" ? data::Split::train : data::Split::val), options);
  const std::int64_t batches = args.batches > 0 ? args.batches : config.eval.iters;
  const train::EvalLoss loss =
      train::evaluate_loss(*trained.model, sampler, batches, torch::Device(torch::kCPU),
                           std::nullopt, trained.tokenizer.get());

  const double bits = loss.mean_loss * static_cast<double>(loss.positions) / std::log(2.0);
  std::cout << fmt::format("{} step {}, {} split of {}: {} batches, {} tokens, {} characters\n",
                           checkpoint.string(), trained.info.state.step, args.split, store_path,
                           batches, loss.positions, loss.characters);
  std::cout << fmt::format(
      "loss {:.4f} nats/token | perplexity {:.3f} | {:.4f} bits/token | "
      "{:.4f} bits/character\n",
      loss.mean_loss, std::exp(loss.mean_loss), loss.mean_loss / std::log(2.0),
      bits / static_cast<double>(std::max<std::int64_t>(1, loss.characters)));
  return ExitCode::kOk;
}

}  // namespace

void add_eval_command(CLI::App& app, Command& selected) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* command = app.add_subcommand(
      "eval", "loss of a run's latest (or best) checkpoint on its token store's splits");
  command->add_option("run", args->run, "run directory, or one checkpoint folder")->required();
  command->add_option("--split", args->split, "split to evaluate")
      ->check(CLI::IsMember({"val", "train"}))
      ->capture_default_str();
  command->add_option("--batches", args->batches,
                      "batches averaged (fixed windows, as in training); default eval.iters");
  command->add_option("--store", args->store, "token store; default the run's data.store");
  command->add_flag("--best", args->best, "use the run's best-validation checkpoint");
  command->callback([&selected, args] { selected = [args] { return run_eval(*args); }; });
}

}  // namespace loom::cli
