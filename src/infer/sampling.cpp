// Generation from a LanguageModel, several prompts at once; see sampling.hpp.
#include "loom/infer/sampling.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "token_choice.hpp"
#include <fmt/format.h>
#include <torch/torch.h>

#include "loom/core/error.hpp"
#include "loom/core/torch_compat.hpp"
#include "loom/text/tokenizer.hpp"

namespace loom::infer {
namespace {

// Puts a module in eval mode and gives it back its previous mode on the way
// out, also when generation throws: a trainer that samples between steps
// must not continue without dropout. A module already in eval mode is not
// written to, so that threads may generate from one served model at once.
class EvalModeScope {
 public:
  explicit EvalModeScope(torch::nn::Module& module)
      : module_(module), was_training_(module.is_training()) {
    if (was_training_) module_.eval();
  }
  ~EvalModeScope() {
    if (was_training_) module_.train();
  }
  EvalModeScope(const EvalModeScope&) = delete;
  EvalModeScope& operator=(const EvalModeScope&) = delete;

 private:
  torch::nn::Module& module_;
  bool was_training_;
};

void check_prompts(const std::vector<std::vector<std::int64_t>>& prompts, std::int64_t vocab_size) {
  if (prompts.empty()) throw UsageError("generate: no prompts, expected at least one");
  for (std::size_t row = 0; row < prompts.size(); ++row) {
    const std::vector<std::int64_t>& prompt = prompts[row];
    if (prompt.empty()) {
      throw UsageError(
          fmt::format("generate: prompt {} is empty, expected at least one token", row));
    }
    for (std::size_t position = 0; position < prompt.size(); ++position) {
      if (prompt[position] < 0 || prompt[position] >= vocab_size) {
        throw UsageError(
            fmt::format("generate: prompt {}, token {} is {}, expected an id in [0, {})", row,
                        position, prompt[position], vocab_size));
      }
    }
  }
}

// A step's figures from float64 CPU logits [V]: log-softmax, the chosen id's
// value, and the likeliest top_k ids (ties in id order). Plain loops over
// the row: a handful of tensor ops per token cost more than the arithmetic
// on a small model.
StepLogprobs step_logprobs(const torch::Tensor& logits, std::int64_t chosen, std::int64_t top_k) {
  const torch::Tensor row = logits.contiguous();
  const double* values = row.data_ptr<double>();
  const std::int64_t vocab = row.size(0);
  const double max = *std::max_element(values, values + vocab);
  double total = 0.0;
  for (std::int64_t id = 0; id < vocab; ++id)
    total += std::exp(values[id] - max);
  const double log_normalizer = max + std::log(total);
  StepLogprobs step{{chosen, values[chosen] - log_normalizer}, {}};
  const std::int64_t count = std::min(top_k, vocab);
  if (count == 0) return step;
  std::vector<std::int64_t> order(static_cast<std::size_t>(vocab));
  std::iota(order.begin(), order.end(), std::int64_t{0});
  std::partial_sort(order.begin(), order.begin() + count, order.end(),
                    [values](std::int64_t a, std::int64_t b) {
                      return values[a] > values[b] || (values[a] == values[b] && a < b);
                    });
  for (std::int64_t rank = 0; rank < count; ++rank) {
    const std::int64_t id = order[static_cast<std::size_t>(rank)];
    step.top.push_back({id, values[id] - log_normalizer});
  }
  return step;
}

// Inference settings for one call: eval mode, no autograd graph, and
// autocast when the options ask for it.
class InferenceScope {
 public:
  InferenceScope(model::LanguageModel& model, const SamplingOptions& options) : eval_mode_(model) {
    if (options.autocast_dtype) {
      autocast_.emplace(model.parameters().front().device().type(), *options.autocast_dtype);
    }
  }

 private:
  EvalModeScope eval_mode_;
  torch::NoGradGuard no_grad_;
  std::optional<torch_compat::AutocastGuard> autocast_;
};

// The row's generator seed: options.seed + row, wrapping like any uint64.
std::uint64_t row_seed(const SamplingOptions& options, std::size_t row) {
  return options.seed + static_cast<std::uint64_t>(row);
}

}  // namespace

void check_sampling_options(const SamplingOptions& options) {
  if (options.max_new_tokens < 0) {
    throw UsageError(fmt::format("max_new_tokens must be >= 0, got {}", options.max_new_tokens));
  }
  // Written so that nan fails too.
  if (!(options.temperature >= 0.0)) {
    throw UsageError(fmt::format("temperature must be >= 0, got {}", options.temperature));
  }
  if (std::isinf(options.temperature)) {
    throw UsageError(fmt::format("temperature must be finite, got {}", options.temperature));
  }
  if (options.top_k < 0) {
    throw UsageError(fmt::format("top_k must be >= 0, got {}", options.top_k));
  }
  if (!(options.top_p > 0.0 && options.top_p <= 1.0)) {
    throw UsageError(fmt::format("top_p must be in (0, 1], got {}", options.top_p));
  }
  if (!(options.repetition_penalty > 0.0 && std::isfinite(options.repetition_penalty))) {
    throw UsageError(fmt::format("repetition_penalty must be finite and > 0, got {}",
                                 options.repetition_penalty));
  }
  if (options.top_logprobs < 0) {
    throw UsageError(fmt::format("top_logprobs must be >= 0, got {}", options.top_logprobs));
  }
}

std::string finish_reason_name(FinishReason reason) {
  switch (reason) {
    case FinishReason::length:
      return "length";
    case FinishReason::eos:
      return "eos";
    case FinishReason::stop:
      return "stop";
    case FinishReason::cancelled:
      return "cancelled";
  }
  throw Error(fmt::format("unknown finish reason {}", static_cast<int>(reason)));
}

std::vector<Generation> generate_batch(model::LanguageModel& model,
                                       const std::vector<std::vector<std::int64_t>>& prompts,
                                       const SamplingOptions& options,
                                       const TokenCallback& on_token) {
  check_sampling_options(options);
  check_prompts(prompts, model.vocab_size());
  std::vector<Generation> results(prompts.size());
  if (options.max_new_tokens == 0) return results;

  InferenceScope inference(model, options);
  std::vector<TokenChooser> choosers;
  for (std::size_t row = 0; row < prompts.size(); ++row)
    choosers.emplace_back(options, row_seed(options, row), model.vocab_size(), prompts[row]);

  model::DecodeState state = model.start_decoding(
      static_cast<std::int64_t>(prompts.size()),
      options.use_kv_cache ? model::DecodeMode::cached : model::DecodeMode::recompute);
  // The rows still generating, in the decode state's order, and what each is
  // fed next: its prompt, then its last id.
  std::vector<std::size_t> active(prompts.size());
  for (std::size_t row = 0; row < active.size(); ++row)
    active[row] = row;
  std::vector<std::vector<std::int64_t>> feed = prompts;

  for (std::int64_t step = 0; !active.empty(); ++step) {
    // Float64 on the CPU: precision costs nothing at this size and lets any
    // positive temperature divide the logits (in float32 a temperature below
    // ~1e-38 would round to 0).
    const torch::Tensor logits = model.decode(state, feed).to(torch::kCPU, torch::kDouble);
    const torch::Tensor finite = torch::isfinite(logits).all(/*dim=*/1);
    std::vector<std::int64_t> kept;
    std::vector<std::vector<std::int64_t>> next_feed;
    for (std::size_t slot = 0; slot < active.size(); ++slot) {
      const std::size_t row = active[slot];
      Generation& result = results[row];
      if (!finite[static_cast<std::int64_t>(slot)].item<bool>()) {
        throw Error(fmt::format(
            "generate: the model returned non-finite logits for new token {} of prompt {} (text "
            "length {})",
            step, row, prompts[row].size() + result.ids.size()));
      }
      const torch::Tensor row_logits = logits[static_cast<std::int64_t>(slot)];
      const std::int64_t id = choosers[row].choose(row_logits);
      if (options.stop_at_eos && id == static_cast<std::int64_t>(text::kEosId)) {
        result.finish_reason = FinishReason::eos;
        continue;
      }
      result.ids.push_back(id);
      if (options.logprobs)
        result.logprobs.push_back(step_logprobs(row_logits, id, options.top_logprobs));
      if (on_token && !on_token(row, result)) {
        result.finish_reason = FinishReason::stop;
      } else if (static_cast<std::int64_t>(result.ids.size()) == options.max_new_tokens) {
        result.finish_reason = FinishReason::length;
      } else {
        kept.push_back(static_cast<std::int64_t>(slot));
        next_feed.push_back({id});
      }
    }
    if (kept.size() != active.size()) {
      std::vector<std::size_t> still_active;
      for (std::int64_t slot : kept)
        still_active.push_back(active[static_cast<std::size_t>(slot)]);
      active = std::move(still_active);
      if (!active.empty()) state.keep_rows(kept);
    }
    feed = std::move(next_feed);
  }
  return results;
}

std::vector<StepLogprobs> score_tokens(model::LanguageModel& model,
                                       const std::vector<std::int64_t>& ids,
                                       const SamplingOptions& options) {
  check_sampling_options(options);
  check_prompts({ids}, model.vocab_size());
  const auto count = static_cast<std::int64_t>(ids.size());
  std::vector<StepLogprobs> steps;
  if (count == 1) return steps;  // nothing before the one id to predict it
  InferenceScope inference(model, options);
  const auto add_step = [&](const torch::Tensor& logits, std::int64_t next) {
    const torch::Tensor row = logits.to(torch::kCPU, torch::kDouble);
    if (!torch::isfinite(row).all().item<bool>()) {
      throw Error(fmt::format("score: the model returned non-finite logits at token {}", next));
    }
    steps.push_back(step_logprobs(row, ids[static_cast<std::size_t>(next)], options.top_logprobs));
  };
  // Inside the context, one pass: position p's logits score id p + 1.
  const std::int64_t first_pass = std::min(count, model.context_length());
  const torch::Tensor window =
      torch::tensor(std::vector<std::int64_t>(ids.begin(), ids.begin() + first_pass), torch::kLong);
  const torch::Tensor logits =
      model.forward_context(window.unsqueeze(0).to(model.parameters().front().device()))[0];
  for (std::int64_t position = 0; position + 1 < first_pass; ++position)
    add_step(logits[position], position + 1);
  if (first_pass == count) return steps;
  // Past it, the logits generation would have had: the decode cache, which
  // slides (rotary) or re-reads the window, one id at a time.
  model::DecodeState state = model.start_decoding(1);
  std::vector<std::vector<std::int64_t>> feed = {
      std::vector<std::int64_t>(ids.begin(), ids.begin() + first_pass)};
  for (std::int64_t next = first_pass; next < count; ++next) {
    add_step(model.decode(state, feed)[0], next);
    feed = {{ids[static_cast<std::size_t>(next)]}};
  }
  return steps;
}

std::vector<std::int64_t> generate(model::LanguageModel& model,
                                   const std::vector<std::int64_t>& prompt,
                                   const SamplingOptions& options,
                                   const std::function<bool(std::int64_t)>& on_token) {
  TokenCallback on_row_token;
  if (on_token) {
    on_row_token = [&](std::size_t, const Generation& generation) {
      return on_token(generation.ids.back());
    };
  }
  return generate_batch(model, {prompt}, options, on_row_token).front().ids;
}

}  // namespace loom::infer
