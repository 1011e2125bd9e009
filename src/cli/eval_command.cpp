// `loom eval RUN|CHECKPOINT --split val|train` or `--text FILE`: a trained
// model's loss on its token store or on any UTF-8 text, in nats, bits per
// token and bits per character.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "command.hpp"
#include "inference_precision.hpp"
#include <fmt/format.h>

#include "loom/core/error.hpp"
#include "loom/core/torch_compat.hpp"
#include "loom/data/sampler.hpp"
#include "loom/data/token_store.hpp"
#include "loom/run_dir/run_model.hpp"
#include "loom/text/utf8.hpp"
#include "loom/train/compute_setup.hpp"
#include "loom/train/evaluation.hpp"

namespace loom::cli {
namespace {

namespace fs = std::filesystem;

struct EvalArgs {
  std::string run;
  std::string split = "val";
  std::string store;  // default: the checkpoint config's data.store
  std::string text;   // a text file to evaluate instead of a split
  std::int64_t batches = 0;
  bool best = false;
  std::string precision;  // --precision; empty: the run's train.precision
};

// What an evaluation scored, for the report.
struct Evaluated {
  std::string source;  // "val split of data/x.h5", "text notes.txt"
  std::int64_t batches = 0;
  train::EvalLoss loss;
  std::int64_t tokens_available = 0;  // tokens that could have been scored (text only)
};

// Sequences per forward pass: the run's micro-batch, as in training.
std::int64_t batch_rows(const config::Config& config) {
  return config.train.micro_batch > 0 ? config.train.micro_batch : config.train.batch_size;
}

Evaluated evaluate_split(const EvalArgs& args, const run_dir::TrainedModel& trained,
                         const fs::path& checkpoint, std::optional<at::ScalarType> autocast) {
  const config::Config& config = trained.info.config;
  const std::string store_path = args.store.empty() ? config.data.store : args.store;
  if (!fs::exists(store_path)) {
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
  options.micro_batch = batch_rows(config);
  options.global_batch = options.micro_batch;
  options.windows = config.data.windows;
  options.seed = static_cast<std::uint64_t>(config.run.seed);
  const data::BatchSampler sampler(
      store.split(args.split == "train" ? data::Split::train : data::Split::val), options);
  Evaluated evaluated;
  evaluated.source = fmt::format("{} split of {}", args.split, store_path);
  evaluated.batches = args.batches > 0 ? args.batches : config.eval.iters;
  evaluated.loss =
      train::evaluate_loss(*trained.model, sampler, evaluated.batches, torch::Device(torch::kCPU),
                           autocast, trained.tokenizer.get());
  return evaluated;
}

std::string read_text_file(const std::string& path) {
  if (!fs::exists(path)) throw UsageError(fmt::format("{}: no such file", path));
  if (!fs::is_regular_file(path)) throw UsageError(fmt::format("{} is not a file", path));
  std::ifstream in(path, std::ios::binary);
  std::string text(std::istreambuf_iterator<char>(in), {});
  if (in.bad()) throw Error(fmt::format("{}: reading failed", path));
  return text;
}

// The characters of the text that `ids` spell. A special token counts as
// one (an <unk> stands for one character), as evaluate_loss counts them.
std::int64_t characters_of(const text::Tokenizer& tokenizer,
                           const std::vector<text::TokenId>& ids) {
  const auto specials = std::count_if(
      ids.begin(), ids.end(), [](text::TokenId id) { return id < text::kNumSpecialTokens; });
  const std::string spelled = tokenizer.decode(ids, /*skip_special=*/true);
  return static_cast<std::int64_t>(specials) +
         static_cast<std::int64_t>(text::count_utf8(spelled).characters);
}

// The file is scored as one document: <eos> (what precedes a document in a
// token store) and then its tokens, so its first token is predicted too and
// bits per character divide by all of its characters. The sequence is cut
// into non-overlapping windows of block_size predictions, `rows` windows a
// batch: each token is predicted once, from the tokens before it in its
// window. (Sliding windows would give every prediction a full context, at
// block_size times the cost.) The last window may be shorter; its tail is
// <pad> with ignored targets, which the causal model's earlier positions
// never see.
Evaluated evaluate_text(const EvalArgs& args, const std::string& text,
                        const run_dir::TrainedModel& trained,
                        std::optional<at::ScalarType> autocast) {
  std::vector<text::TokenId> sequence = {text::kEosId};
  trained.tokenizer->encode(text, sequence);
  const std::int64_t predictions = static_cast<std::int64_t>(sequence.size()) - 1;
  if (predictions < 1) throw UsageError(fmt::format("{} holds no text to evaluate", args.text));
  const std::int64_t block = trained.model->block_size();
  const std::int64_t rows = batch_rows(trained.info.config);
  const std::int64_t windows = (predictions + block - 1) / block;
  Evaluated evaluated;
  evaluated.source = fmt::format("text {}", args.text);
  evaluated.tokens_available = predictions;
  evaluated.batches = (windows + rows - 1) / rows;
  if (args.batches > 0) evaluated.batches = std::min(evaluated.batches, args.batches);

  torch::NoGradGuard no_grad;
  std::optional<torch_compat::AutocastGuard> autocast_guard;
  if (autocast) autocast_guard.emplace(torch::kCPU, *autocast);
  double loss_sum = 0;
  std::int64_t scored = 0;
  for (std::int64_t batch = 0; batch < evaluated.batches; ++batch) {
    const std::int64_t first = batch * rows * block;  // sequence position of the batch's start
    const std::int64_t count = std::min(rows, windows - batch * rows);
    std::vector<std::int64_t> inputs(static_cast<std::size_t>(count * block), text::kPadId);
    std::vector<std::int64_t> targets(inputs.size(), model::kIgnoreIndex);
    for (std::int64_t i = 0; i < count * block && first + i < predictions; ++i) {
      inputs[static_cast<std::size_t>(i)] = sequence[static_cast<std::size_t>(first + i)];
      targets[static_cast<std::size_t>(i)] = sequence[static_cast<std::size_t>(first + i + 1)];
    }
    const std::int64_t positions = std::min(count * block, predictions - first);
    const torch::Tensor logits =
        trained.model->forward(torch::from_blob(inputs.data(), {count, block}, torch::kLong));
    // loss() averages over the scored positions; weigh it by them.
    loss_sum += model::LanguageModel::loss(
                    logits, torch::from_blob(targets.data(), {count, block}, torch::kLong))
                    .item<double>() *
                static_cast<double>(positions);
    scored += positions;
  }
  evaluated.loss.positions = scored;
  evaluated.loss.mean_loss = loss_sum / static_cast<double>(scored);
  evaluated.loss.characters = characters_of(
      *trained.tokenizer,
      std::vector<text::TokenId>(sequence.begin() + 1, sequence.begin() + 1 + scored));
  return evaluated;
}

ExitCode run_eval(const EvalArgs& args) {
  if (args.batches < 0) {
    throw UsageError(fmt::format(
        "--batches must be 0 (eval.iters, or all of a --text file) or more, got {}", args.batches));
  }
  const std::string text = args.text.empty() ? std::string() : read_text_file(args.text);
  train::configure_cpu_threads(/*requested=*/0, /*local_ranks=*/1);
  run_dir::TrainedModel trained = run_dir::load_run_model(args.run, args.best);
  const fs::path& checkpoint = trained.info.dir;
  const InferencePrecision precision =
      inference_precision(args.precision, trained.info.config, torch::kCPU);
  const Evaluated evaluated = args.text.empty()
                                  ? evaluate_split(args, trained, checkpoint, precision.autocast)
                                  : evaluate_text(args, text, trained, precision.autocast);
  const train::EvalLoss& loss = evaluated.loss;

  const std::string tokens =
      evaluated.tokens_available > loss.positions
          ? fmt::format("{} of {} tokens", loss.positions, evaluated.tokens_available)
          : fmt::format("{} tokens", loss.positions);
  const double bits = loss.mean_loss * static_cast<double>(loss.positions) / std::log(2.0);
  std::cout << fmt::format("{} step {}, {}: {} batches, {}, {} characters\n", checkpoint.string(),
                           trained.info.state.step, evaluated.source, evaluated.batches, tokens,
                           loss.characters);
  std::cout << fmt::format(
      "loss {:.4f} nats/token | perplexity {:.3f} | {:.4f} bits/token | "
      "{:.4f} bits/character\n",
      loss.mean_loss, std::exp(loss.mean_loss), loss.mean_loss / std::log(2.0),
      bits / static_cast<double>(std::max<std::int64_t>(1, loss.characters)));
  std::cout << fmt::format("precision {}\n", precision.description);
  return ExitCode::kOk;
}

}  // namespace

void add_eval_command(CLI::App& app, Command& selected) {
  auto args = std::make_shared<EvalArgs>();
  CLI::App* command = app.add_subcommand(
      "eval", "loss of a run's latest (or best) checkpoint on its token store or a text file");
  command->add_option("run", args->run, "run directory, or one checkpoint folder")->required();
  CLI::Option* split = command->add_option("--split", args->split, "split to evaluate")
                           ->check(CLI::IsMember({"val", "train"}))
                           ->capture_default_str();
  CLI::Option* store =
      command->add_option("--store", args->store, "token store; default the run's data.store");
  command
      ->add_option("--text", args->text,
                   "UTF-8 text file to evaluate instead, whole, in non-overlapping windows")
      ->excludes(split)
      ->excludes(store);
  command->add_option("--batches", args->batches,
                      "batches averaged; default eval.iters for a split, the whole --text file");
  command->add_flag("--best", args->best, "use the run's best-validation checkpoint");
  add_precision_option(*command, args->precision);
  command->callback([&selected, args] { selected = [args] { return run_eval(*args); }; });
}

}  // namespace loom::cli
