// loom-bench-generate: how much does the decode cache save? Generates the
// same tokens with GPT's key/value cache and without it (every token
// re-running the model over its context), on CPU, with random weights:
//
//   loom-bench-generate [--tokens N] [--rows N] [--repeat N] [--threads N]
//                       [--config NAME]... [--layout NAME]... [--logprobs N]
//
// Configs: `shakespeare_char` (nanoGPT's 6 layers x 384, 6 heads, block
// 256) and `small` (shakespeare_char_cpu's 4 x 128, block 64); vocabulary
// 65, GPT-2's initialisation. Layouts: `gpt2` (learned positions,
// LayerNorm, GELU MLP) and `rope` (rotary positions), and `llama` (rotary,
// RMSNorm, SwiGLU). Each run continues a one-token prompt by --tokens
// sampled tokens (temperature 1, seed 1) for each of --rows copies of it
// in one batch, after an untimed warm-up; with --repeat, the two ways take
// turns and the fastest run of each counts. It prints tokens/s overall and
// split where the window starts to slide. Until then the cache reads one
// position per token. After it, with learned positions every token re-reads
// the whole window (language_model.hpp explains), so the cache saves only
// the top layer's work after attention for all but the last position; with
// rotary positions the cache slides in place and each token still costs one
// position, while the path without a cache computes the same sliding-window
// attention over n_layer windows of ids. It also says whether both ways
// gave the same tokens. With --logprobs N it also times the cached way
// reporting each token's log-probability and the N likeliest (what the
// server's logprobs cost), taking turns with the plain cached way. It
// never fails on time.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <torch/torch.h>

#include "loom/infer/sampling.hpp"
#include "loom/model/language_model.hpp"

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::int64_t kVocab = 65;  // Tiny Shakespeare's characters

struct Options {
  std::int64_t tokens = 1000;
  std::int64_t rows = 1;
  std::int64_t repeats = 1;
  int threads = 2;
  std::vector<std::string> configs = {"shakespeare_char", "small"};
  std::vector<std::string> layouts = {"gpt2", "rope"};
  std::int64_t logprobs = -1;  // < 0: not timed
};

loom::config::ModelConfig model_config(const std::string& name, const std::string& layout) {
  loom::config::ModelConfig config;
  if (layout != "gpt2") config.positions = loom::config::Positions::rope;
  if (layout == "llama") {
    config.norm = loom::config::Norm::rmsnorm;
    config.mlp = loom::config::MlpKind::swiglu;
  }
  config.arch = loom::config::ModelArch::gpt;
  config.dropout = 0.0;
  config.bias = false;
  const bool small = name == "small";
  config.block_size = small ? 64 : 256;
  config.n_layer = small ? 4 : 6;
  config.n_head = small ? 4 : 6;
  config.n_embd = small ? 128 : 384;
  return config;
}

struct Timing {
  std::vector<loom::infer::Generation> generations;
  double seconds = 0.0;
  double seconds_in_window = 0.0;  // until the window is full
  std::int64_t steps_in_window = 0;
};

// top_logprobs < 0: no log-probabilities.
Timing time_generation(loom::model::LanguageModel& model, const Options& options, bool use_cache,
                       std::int64_t top_logprobs = -1) {
  loom::infer::SamplingOptions sampling;
  sampling.max_new_tokens = options.tokens;
  sampling.seed = 1;
  sampling.use_kv_cache = use_cache;
  sampling.logprobs = top_logprobs >= 0;
  sampling.top_logprobs = std::max<std::int64_t>(top_logprobs, 0);
  const std::vector<std::vector<std::int64_t>> prompts(static_cast<std::size_t>(options.rows), {0});
  Timing timing;
  // A one-token prompt's k-th new token comes from a window of k ids: the
  // first block_size tokens fit, the next ones slide it.
  timing.steps_in_window = std::min(options.tokens, model.block_size());
  const std::int64_t calls_in_window = timing.steps_in_window * options.rows;
  std::int64_t calls = 0;
  const Clock::time_point start = Clock::now();
  timing.generations = loom::infer::generate_batch(
      model, prompts, sampling, [&](std::size_t, const loom::infer::Generation&) {
        if (++calls == calls_in_window) {
          timing.seconds_in_window = std::chrono::duration<double>(Clock::now() - start).count();
        }
        return true;
      });
  timing.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return timing;
}

void bench_config(const std::string& name, const std::string& layout, const Options& options) {
  const loom::config::ModelConfig config = model_config(name, layout);
  torch::manual_seed(1);
  const auto model = loom::model::make_model(config, kVocab);
  Options warm_up = options;
  warm_up.tokens = 20;
  time_generation(*model, warm_up, true);
  time_generation(*model, warm_up, false);

  // Taking turns, so that a shared machine's load falls on both alike.
  Timing cached, recomputed;
  for (std::int64_t repeat = 0; repeat < options.repeats; ++repeat) {
    for (const bool use_cache : {true, false}) {
      Timing timing = time_generation(*model, options, use_cache);
      Timing& best = use_cache ? cached : recomputed;
      if (repeat == 0 || timing.seconds < best.seconds) best = std::move(timing);
    }
  }
  bool same = true;
  for (std::size_t row = 0; row < cached.generations.size(); ++row)
    same = same && cached.generations[row].ids == recomputed.generations[row].ids;

  const auto rows = static_cast<double>(options.rows);
  const auto rate = [&](std::int64_t steps, double seconds) {
    return seconds > 0 ? rows * static_cast<double>(steps) / seconds : 0.0;
  };
  const std::int64_t steps_past = options.tokens - cached.steps_in_window;
  fmt::print("{}, {} layout: {} layers x {}, block {}, {} parameters; {} row(s) x {} tokens\n",
             name, layout, config.n_layer, config.n_embd, config.block_size,
             model->parameter_count(), options.rows, options.tokens);
  fmt::print(
      "| decoding | tokens/s, all | first {} (window filling) | last {} (window sliding) |\n",
      cached.steps_in_window, steps_past);
  fmt::print("|---|---|---|---|\n");
  for (const auto& [label, timing] :
       {std::pair<const char*, const Timing*>{"kv cache", &cached}, {"no cache", &recomputed}}) {
    fmt::print("| {} | {:.1f} | {:.1f} | {:.1f} |\n", label, rate(options.tokens, timing->seconds),
               rate(timing->steps_in_window, timing->seconds_in_window),
               rate(steps_past, timing->seconds - timing->seconds_in_window));
  }
  fmt::print("cache speed-up: {:.2f}x overall, {:.2f}x while the window fills; same tokens: {}\n",
             recomputed.seconds / cached.seconds,
             recomputed.seconds_in_window / cached.seconds_in_window, same ? "yes" : "NO");
  if (steps_past > 0) {
    fmt::print("with the cache, the rate past the window is {:.0f}% of the rate inside it\n",
               100.0 * rate(steps_past, cached.seconds - cached.seconds_in_window) /
                   rate(cached.steps_in_window, cached.seconds_in_window));
  }
  if (options.logprobs >= 0) {
    Timing plain, reported;
    for (std::int64_t repeat = 0; repeat < options.repeats; ++repeat) {
      Timing without = time_generation(*model, options, true);
      Timing with = time_generation(*model, options, true, options.logprobs);
      if (repeat == 0 || without.seconds < plain.seconds) plain = std::move(without);
      if (repeat == 0 || with.seconds < reported.seconds) reported = std::move(with);
    }
    fmt::print(
        "kv cache with logprobs (top {}): {:.1f} tokens/s against {:.1f} without ({:.0f}%)\n",
        options.logprobs, rate(options.tokens, reported.seconds),
        rate(options.tokens, plain.seconds), 100.0 * plain.seconds / reported.seconds);
  }
  fmt::print("\n");
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"Tokens/s of Loom's generation with and without the decode cache"};
  app.add_option("--tokens", options.tokens, "new tokens per row")->check(CLI::PositiveNumber);
  app.add_option("--rows", options.rows, "copies of the prompt generated as one batch")
      ->check(CLI::PositiveNumber);
  app.add_option("--repeat", options.repeats, "runs of each way, taking turns; the fastest counts")
      ->check(CLI::PositiveNumber);
  app.add_option("--threads", options.threads, "LibTorch intra-op threads")
      ->check(CLI::PositiveNumber);
  app.add_option("--config", options.configs, "shakespeare_char and/or small")
      ->check(CLI::IsMember({"shakespeare_char", "small"}));
  app.add_option("--layout", options.layouts, "gpt2, rope and/or llama")
      ->check(CLI::IsMember({"gpt2", "rope", "llama"}));
  app.add_option("--logprobs", options.logprobs,
                 "also time the cache reporting log-probabilities and the N likeliest")
      ->check(CLI::NonNegativeNumber);
  CLI11_PARSE(app, argc, argv);
  at::set_num_threads(options.threads);
  fmt::print("LibTorch {} threads\n\n", at::get_num_threads());
  for (const std::string& name : options.configs) {
    for (const std::string& layout : options.layouts)
      bench_config(name, layout, options);
  }
  return 0;
}
