// Token sampling from a LanguageModel; see sampling.hpp.
#include "loom/infer/sampling.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include "loom/core/error.hpp"

namespace loom::infer {
namespace {

// Puts a module in eval mode and gives it back its previous mode on the way
// out, also when generation throws: a trainer that samples between steps
// must not continue without dropout.
class EvalModeScope {
 public:
  explicit EvalModeScope(torch::nn::Module& module)
      : module_(module), was_training_(module.is_training()) {
    module_.eval();
  }
  ~EvalModeScope() { module_.train(was_training_); }
  EvalModeScope(const EvalModeScope&) = delete;
  EvalModeScope& operator=(const EvalModeScope&) = delete;

 private:
  torch::nn::Module& module_;
  bool was_training_;
};

void check_prompt(const std::vector<std::int64_t>& prompt, std::int64_t vocab_size) {
  if (prompt.empty())
    throw UsageError("generate: the prompt is empty, expected at least one token");
  for (std::size_t position = 0; position < prompt.size(); ++position) {
    if (prompt[position] < 0 || prompt[position] >= vocab_size) {
      throw UsageError(fmt::format("generate: prompt token {} is {}, expected an id in [0, {})",
                                   position, prompt[position], vocab_size));
    }
  }
}

// The float64 CPU logits [V] of the token after `text`, from the model's view
// of its last block_size() tokens. Double precision costs nothing at this
// size and lets any positive temperature divide them: in float32 a
// temperature below ~1e-38 would round to 0.
torch::Tensor next_token_logits(model::LanguageModel& model, std::vector<std::int64_t>& text,
                                const torch::Device& device) {
  const auto length =
      static_cast<std::int64_t>(std::min<std::size_t>(text.size(), model.block_size()));
  // The tensor borrows `text`'s memory; nothing changes `text` until the
  // logits have been computed and copied out.
  const torch::Tensor window =
      torch::from_blob(text.data() + (text.size() - length), {1, length}, torch::kLong);
  return model.forward(window.to(device))
      .select(1, length - 1)
      .squeeze(0)
      .to(torch::kCPU, torch::kDouble);
}

// Logits with all but the k largest set to -inf. Exactly k survive, also
// when some are tied, which a threshold on the k-th value would not promise.
torch::Tensor keep_top_k(const torch::Tensor& logits, std::int64_t k) {
  if (k == 0 || k >= logits.size(0)) return logits;
  const auto [values, indices] = logits.topk(k);
  return torch::full_like(logits, -std::numeric_limits<double>::infinity())
      .scatter(0, indices, values);
}

// Probabilities with all but the nucleus zeroed: the likeliest tokens, in
// order, up to and including the first whose running total reaches top_p.
// A token is kept when the mass of the tokens before it is below top_p, so
// the likeliest one (nothing before it) always is. top_p = 1 skips the cut:
// running sums can reach 1 early and would drop the rarest tokens.
torch::Tensor keep_top_p(const torch::Tensor& probs, double top_p) {
  if (top_p >= 1.0) return probs;
  const auto [sorted, order] = probs.sort(/*dim=*/0, /*descending=*/true);
  const torch::Tensor mass_before = sorted.cumsum(0) - sorted;
  const torch::Tensor drop_sorted = mass_before >= top_p;
  const torch::Tensor drop = torch::zeros_like(drop_sorted).scatter(0, order, drop_sorted);
  return probs.masked_fill(drop, 0.0);
}

// One token id from float64 CPU logits [V].
std::int64_t choose_token(const torch::Tensor& logits, const SamplingOptions& options,
                          at::Generator& generator) {
  if (options.temperature == 0.0) return logits.argmax().item<std::int64_t>();
  // Shifting the maximum to 0 before dividing keeps a tiny temperature from
  // overflowing to inf (inf - inf is nan in the softmax); the likeliest
  // token then still has exp(0) = 1 while the rest may underflow to 0.
  const torch::Tensor scaled = (logits - logits.max()) / options.temperature;
  const torch::Tensor probs =
      keep_top_p(torch::softmax(keep_top_k(scaled, options.top_k), 0), options.top_p);
  return torch::multinomial(probs, 1, /*replacement=*/false, generator).item<std::int64_t>();
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
}

std::vector<std::int64_t> generate(model::LanguageModel& model,
                                   const std::vector<std::int64_t>& prompt,
                                   const SamplingOptions& options,
                                   const std::function<bool(std::int64_t)>& on_token) {
  check_sampling_options(options);
  check_prompt(prompt, model.vocab_size());

  EvalModeScope eval_mode(model);
  torch::NoGradGuard no_grad;
  // Every model has parameters (at least its token embedding).
  const torch::Device device = model.parameters().front().device();
  // A CPU generator whatever the model's device: the probabilities are
  // copied to the CPU anyway, and the random stream is then the same on
  // every device.
  at::Generator generator = at::detail::createCPUGenerator(options.seed);

  std::vector<std::int64_t> text(prompt);
  std::vector<std::int64_t> new_ids;
  for (std::int64_t step = 0; step < options.max_new_tokens; ++step) {
    const torch::Tensor logits = next_token_logits(model, text, device);
    if (!torch::isfinite(logits).all().item<bool>()) {
      throw Error(fmt::format(
          "generate: the model returned non-finite logits for new token {} (text length {})", step,
          text.size()));
    }
    const std::int64_t id = choose_token(logits, options, generator);
    text.push_back(id);
    new_ids.push_back(id);
    if (on_token && !on_token(id)) break;
  }
  return new_ids;
}

}  // namespace loom::infer
