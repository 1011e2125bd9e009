// A row's next token from its logits; see token_choice.hpp.
#include "token_choice.hpp"

#include <limits>

#include <ATen/CPUGeneratorImpl.h>

namespace loom::infer {
namespace {

// CTRL's penalty: seen tokens' positive logits divided by it, negative ones
// multiplied, so a penalty above 1 always makes them less likely.
torch::Tensor penalize_seen(const torch::Tensor& logits, const torch::Tensor& seen,
                            double penalty) {
  const torch::Tensor penalized = torch::where(logits > 0, logits / penalty, logits * penalty);
  return torch::where(seen, penalized, logits);
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

}  // namespace

TokenChooser::TokenChooser(const SamplingOptions& options, std::uint64_t seed,
                           std::int64_t vocab_size, const std::vector<std::int64_t>& prompt)
    : options_(&options), generator_(at::detail::createCPUGenerator(seed)) {
  if (options.repetition_penalty != 1.0) {
    seen_ = torch::zeros({vocab_size}, torch::kBool);
    seen_.index_fill_(0, torch::tensor(prompt, torch::kLong), true);
  }
}

std::int64_t TokenChooser::choose(const torch::Tensor& raw_logits) {
  const torch::Tensor logits =
      seen_.defined() ? penalize_seen(raw_logits, seen_, options_->repetition_penalty) : raw_logits;
  std::int64_t id = 0;
  if (options_->temperature == 0.0) {
    id = logits.argmax().item<std::int64_t>();
  } else {
    // Shifting the maximum to 0 before dividing keeps a tiny temperature from
    // overflowing to inf (inf - inf is nan in the softmax); the likeliest
    // token then still has exp(0) = 1 while the rest may underflow to 0.
    const torch::Tensor scaled = (logits - logits.max()) / options_->temperature;
    const torch::Tensor probs =
        keep_top_p(torch::softmax(keep_top_k(scaled, options_->top_k), 0), options_->top_p);
    id = torch::multinomial(probs, 1, /*replacement=*/false, generator_).item<std::int64_t>();
  }
  if (seen_.defined()) seen_[id] = true;
  return id;
}

}  // namespace loom::infer
