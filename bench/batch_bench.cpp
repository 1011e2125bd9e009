// loom-bench-batch: is batch assembly cheap next to a CPU training step?
// The data pipeline's target is under 1% of the step.
//
//   loom-bench-batch [--store data/shakespeare_char.h5] [--threads N] [--steps N] ...
//
// For each micro-batch shape (32 x 128, the Shakespeare config's, and
// 64 x 256) it measures, on the real sampler:
//   - BatchSampler::batch(), called in a loop: what the trainer would pay per
//     micro-batch if it assembled batches itself;
//   - a training step (forward, backward, AdamW) of Loom's GPT (make_model,
//     make_adamw) of shakespeare_char_cpu.yaml's shape with the model's block
//     size set to the shape's, fed by a BatchPrefetcher, and how long each
//     BatchPrefetcher::next() blocked: what the trainer will pay.
// Tokens come from a token store's train split (mapped, as the trainer reads
// it) or, without --store, from 100M synthetic uint8 tokens held in memory,
// large enough that random windows miss the CPU caches as a real corpus does.
// It prints figures and never fails on time; bench/README.md has results.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <torch/torch.h>

#include "loom/core/error.hpp"
#include "loom/data/sampler.hpp"
#include "loom/data/token_store.hpp"
#include "loom/model/language_model.hpp"
#include "loom/train/optimizer.hpp"

namespace {

using loom::data::Batch;
using loom::data::BatchPrefetcher;
using loom::data::BatchSampler;
using loom::data::SplitView;
using loom::model::LanguageModel;
using Clock = std::chrono::steady_clock;

// The Shakespeare char vocabulary (65 characters and the special tokens).
constexpr std::int64_t kSyntheticVocab = 69;

// configs/shakespeare_char_cpu.yaml's model (nanoGPT's CPU recipe: 4 layers,
// 4 heads, 128 wide, no dropout), its block size set to the micro-batch's.
loom::config::ModelConfig model_config(std::int64_t block_size) {
  loom::config::ModelConfig config;
  config.block_size = block_size;
  config.n_layer = 4;
  config.n_head = 4;
  config.n_embd = 128;
  config.dropout = 0.0;
  return config;
}

struct BenchOptions {
  std::string store;  // empty: synthetic tokens
  std::uint64_t synthetic_tokens = 100'000'000;
  int threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  int warmup_steps = 3;
  int steps = 10;
  int assembly_batches = 2000;
  int prefetch_depth = 2;
  std::uint64_t seed = 1337;
};

struct MicroBatchShape {
  std::int64_t micro_batch;
  std::int64_t block_size;
};
constexpr MicroBatchShape kShapes[] = {{32, 128}, {64, 256}};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The train split the sampler reads, and whatever keeps its tokens alive.
struct TokenSource {
  std::optional<loom::data::TokenStoreReader> store;
  std::vector<std::uint8_t> synthetic_tokens;
  std::vector<std::uint64_t> synthetic_doc_starts;
  SplitView split;
  std::int64_t vocab_size = 0;
  std::string description;
};

TokenSource open_store(const std::string& path) {
  TokenSource source;
  source.store.emplace(path);
  source.split = source.store->split(loom::data::Split::train);
  source.vocab_size = source.store->metadata().vocab_size;
  source.description =
      fmt::format("{}: train split, {} {} tokens, {} document(s), mapped", path, source.split.size,
                  loom::data::dtype_name(source.split.dtype), source.split.num_docs);
  return source;
}

// Uniformly random tokens as one document. Every byte is written here, so
// no page fault lands inside a timed loop.
TokenSource make_synthetic(std::uint64_t count, std::uint64_t seed) {
  TokenSource source;
  source.synthetic_tokens.resize(count);
  std::uint64_t state = seed;
  for (std::uint8_t& token : source.synthetic_tokens) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;  // 64-bit LCG
    token = static_cast<std::uint8_t>((state >> 33) % kSyntheticVocab);
  }
  source.synthetic_doc_starts = {0};
  source.split.dtype = loom::data::TokenDtype::u8;
  source.split.tokens = source.synthetic_tokens.data();
  source.split.size = count;
  source.split.doc_starts = source.synthetic_doc_starts.data();
  source.split.num_docs = 1;
  source.vocab_size = kSyntheticVocab;
  source.description =
      fmt::format("synthetic: {:.1f}M uint8 tokens in memory, one document", count / 1e6);
  return source;
}

std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      const std::size_t colon = line.find(':');
      if (colon != std::string::npos && colon + 2 <= line.size()) return line.substr(colon + 2);
    }
  }
  return "unknown CPU";
}

BatchSampler make_sampler(const TokenSource& source, const MicroBatchShape& shape,
                          std::uint64_t seed) {
  loom::data::SamplerOptions options;
  options.block_size = shape.block_size;
  options.micro_batch = shape.micro_batch;
  options.global_batch = shape.micro_batch;  // one micro-step per step: ids run on unbroken
  options.seed = seed;
  return BatchSampler(source.split, options);
}

// Mean seconds per BatchSampler::batch() over `count` calls, after a tenth
// as many untimed ones. Each call allocates and fills a Batch in another
// translation unit, so the compiler cannot drop the work.
double time_assembly(const BatchSampler& sampler, int count) {
  const int warmup = std::max(1, count / 10);
  for (int step = 0; step < warmup; ++step)
    sampler.batch(step, 0);
  const Clock::time_point start = Clock::now();
  for (int step = warmup; step < warmup + count; ++step)
    sampler.batch(step, 0);
  return seconds_since(start) / count;
}

struct StepTiming {
  double step_seconds = 0;  // mean forward + backward + AdamW
  // On a shared machine other work only ever slows a step down, so the
  // fastest step is the one against which assembly weighs most.
  double fastest_step_seconds = std::numeric_limits<double>::infinity();
  double wait_seconds = 0;  // mean time BatchPrefetcher::next() blocked
  double max_wait_seconds = 0;
  double first_loss = 0;  // of the first and last timed steps: the model learns
  double last_loss = 0;
};

// One optimizer step on `batch`; returns the loss. The tensors borrow the
// batch's vectors (no copy), as the trainer's will.
double train_step(LanguageModel& model, torch::optim::Optimizer& optimizer, Batch& batch) {
  const torch::Tensor inputs =
      torch::from_blob(batch.inputs.data(), {batch.rows, batch.cols}, torch::kLong);
  const torch::Tensor targets =
      torch::from_blob(batch.targets.data(), {batch.rows, batch.cols}, torch::kLong);
  optimizer.zero_grad();
  torch::Tensor loss = LanguageModel::loss(model.forward(inputs), targets);
  loss.backward();
  optimizer.step();
  return loss.item<double>();
}

StepTiming time_training(LanguageModel& model, const BatchSampler& sampler,
                         const BenchOptions& options) {
  // The Shakespeare configs' AdamW: OptimConfig's defaults (lr 1e-3, betas
  // 0.9/0.99, weight decay 0.1 on the matrices only).
  const std::unique_ptr<torch::optim::AdamW> optimizer =
      loom::train::make_adamw(model, loom::config::OptimConfig{});
  BatchPrefetcher prefetcher(sampler, 0, options.prefetch_depth);
  StepTiming timing;
  for (int step = 0; step < options.warmup_steps + options.steps; ++step) {
    const Clock::time_point fetch_start = Clock::now();
    Batch batch = prefetcher.next();
    const double wait = seconds_since(fetch_start);
    const Clock::time_point step_start = Clock::now();
    const double loss = train_step(model, *optimizer, batch);
    const double step_seconds = seconds_since(step_start);
    if (step < options.warmup_steps) continue;
    timing.step_seconds += step_seconds / options.steps;
    timing.fastest_step_seconds = std::min(timing.fastest_step_seconds, step_seconds);
    timing.wait_seconds += wait / options.steps;
    timing.max_wait_seconds = std::max(timing.max_wait_seconds, wait);
    if (step == options.warmup_steps) timing.first_loss = loss;
    timing.last_loss = loss;
  }
  return timing;
}

double percent(double part, double whole) {
  return 100.0 * part / whole;
}

void bench_shape(const TokenSource& source, const MicroBatchShape& shape,
                 const BenchOptions& options) {
  const BatchSampler sampler = make_sampler(source, shape, options.seed);
  const double tokens = static_cast<double>(shape.micro_batch * shape.block_size);
  fmt::print("\nmicro-batch {} x {} ({:.0f} tokens; model block size {})\n", shape.micro_batch,
             shape.block_size, tokens, shape.block_size);

  const double assembly = time_assembly(sampler, options.assembly_batches);
  fmt::print("  {:<34}{:10.1f} us   {:.0f} M tokens/s\n", "assembly, BatchSampler::batch()",
             assembly * 1e6, tokens / assembly / 1e6);

  torch::manual_seed(options.seed);
  const std::shared_ptr<LanguageModel> model =
      loom::model::make_model(model_config(shape.block_size), source.vocab_size);
  model->train();
  const StepTiming timing = time_training(*model, sampler, options);
  fmt::print("  {:<34}{:10.1f} ms   mean; fastest {:.1f} ms\n", "training step, fwd + bwd + AdamW",
             timing.step_seconds * 1e3, timing.fastest_step_seconds * 1e3);
  // GPT's flops_per_token is nanoGPT's estimate: 6 per matmul parameter plus
  // attention's two T x T products, computed in full before the causal mask.
  fmt::print("  {:<34}{:10.0f} tokens/s, {:.1f} GFLOP/s; loss {:.3f} -> {:.3f}\n", "",
             tokens / timing.step_seconds,
             model->flops_per_token(shape.block_size) * tokens / timing.step_seconds / 1e9,
             timing.first_loss, timing.last_loss);
  fmt::print(
      "  {:<34}{:10.4f} %    of the mean step; {:.4f} % of the fastest (target: under 1 %)\n",
      "assembly / step", percent(assembly, timing.step_seconds),
      percent(assembly, timing.fastest_step_seconds));
  fmt::print("  {:<34}{:10.1f} us   mean; {:.1f} us max; {:.4f} % of the mean step\n",
             "prefetched: time next() blocked", timing.wait_seconds * 1e6,
             timing.max_wait_seconds * 1e6, percent(timing.wait_seconds, timing.step_seconds));
}

int run(const BenchOptions& options) {
  at::set_num_threads(options.threads);
  const TokenSource source = options.store.empty()
                                 ? make_synthetic(options.synthetic_tokens, options.seed)
                                 : open_store(options.store);
  const loom::config::ModelConfig model_shape = model_config(kShapes[0].block_size);
  fmt::print("batch assembly vs a CPU training step of Loom's GPT\n");
  fmt::print("machine   {} cores, {}\n", std::thread::hardware_concurrency(), cpu_model());
  fmt::print("torch     LibTorch {}, {} intra-op threads\n", TORCH_VERSION, at::get_num_threads());
  fmt::print("tokens    {}; packed windows\n", source.description);
  fmt::print(
      "model     Loom's GPT (make_model): {} layers, {} heads, {} wide, vocab {}, dropout {}; "
      "AdamW (make_adamw)\n",
      model_shape.n_layer, model_shape.n_head, model_shape.n_embd, source.vocab_size,
      model_shape.dropout);
  fmt::print(
      "timing    assembly: mean of {} batches; step: mean of {} after {} warm-up; "
      "prefetch depth {}\n",
      options.assembly_batches, options.steps, options.warmup_steps, options.prefetch_depth);
  for (const MicroBatchShape& shape : kShapes) {
    bench_shape(source, shape, options);
    std::fflush(stdout);  // a shape takes minutes on a busy machine: show it when done
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  BenchOptions options;
  CLI::App app{"Batch assembly throughput against a CPU training step of Loom's GPT."};
  app.add_option("--store", options.store, "token store to read (train split); default synthetic")
      ->check(CLI::ExistingFile);
  app.add_option("--synthetic-tokens", options.synthetic_tokens,
                 "synthetic uint8 tokens when no --store")
      ->check(CLI::Range(std::uint64_t{1000}, std::uint64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--threads", options.threads, "LibTorch intra-op threads (default: cores)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--warmup", options.warmup_steps, "untimed training steps per shape")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  app.add_option("--steps", options.steps, "timed training steps per shape")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--assembly-batches", options.assembly_batches,
                 "timed BatchSampler::batch() calls per shape")
      ->check(CLI::Range(1, 100000000))
      ->capture_default_str();
  app.add_option("--prefetch-depth", options.prefetch_depth, "BatchPrefetcher depth")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  app.add_option("--seed", options.seed, "sampler, synthetic token and model seed")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // --help arrives here too, with exit code 0.
    return app.exit(error) == 0 ? 0 : loom::to_int(loom::ExitCode::kUsage);
  }

  try {
    return run(options);
  } catch (const loom::Error& error) {
    fmt::print(stderr, "loom-bench-batch: {}\n", error.what());
    return loom::to_int(error.exit_code());
  } catch (const std::exception& error) {
    fmt::print(stderr, "loom-bench-batch: {}\n", error.what());
    return loom::to_int(loom::ExitCode::kFailure);
  }
}
