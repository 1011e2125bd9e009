// Text generation: continuing a prompt one token at a time by sampling from a
// LanguageModel's next-token distribution (temperature, top-k, nucleus/top-p,
// or greedy), for the trainer's periodic samples and `loom sample`.
//
// There is no KV cache yet: every new token runs a full forward over the last
// block_size() tokens, which is slow for long samples but needs nothing from
// the model beyond forward(), so GPT and LSTM share the one code path.
//
// Sampling draws from its own CPU generator, seeded from the options, never
// from torch's global one: the same model and seed give the same text (on a
// GPU too, up to the rounding of its logits), and a sample taken in the
// middle of a training run leaves that run's random stream (dropout)
// exactly where it was, so a run with samples and one without follow
// the same loss curve.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "loom/model/language_model.hpp"

namespace loom::infer {

struct SamplingOptions {
  // New tokens to generate at most (fewer when on_token stops early); >= 0.
  std::int64_t max_new_tokens = 200;
  // Divides the logits before the softmax: below 1 sharpens the distribution,
  // above 1 flattens it. 0 means greedy: always the likeliest token, and no
  // randomness drawn. Must be finite and >= 0.
  double temperature = 1.0;
  // Sample among the k likeliest tokens only; 0 (or k >= the vocabulary)
  // keeps all. Must be >= 0.
  std::int64_t top_k = 0;
  // Nucleus sampling: keep the smallest set of likeliest tokens whose
  // probability adds up to at least top_p (after temperature and top-k); the
  // likeliest token is always kept. 1 keeps all. Must be in (0, 1].
  double top_p = 1.0;
  // Seeds the generator of this one call.
  std::uint64_t seed = 1337;
};

// Throws loom::UsageError naming the first bad option, its value and what
// was expected, e.g. "temperature must be >= 0, got -1".
void check_sampling_options(const SamplingOptions& options);

// Continues `prompt` (token ids in [0, vocab_size()), at least one) by up to
// options.max_new_tokens ids and returns only the new ids.
//
// - The model runs in eval mode (no dropout) under a NoGradGuard, on the
//   device its parameters are on; its previous train/eval mode comes back
//   when the call returns or throws.
// - Once the text is longer than block_size(), the model sees its last
//   block_size() tokens (a sliding window).
// - Each token comes from the last position's logits in float64: scaled by
//   1/temperature, cut to top_k, cut to top_p, then drawn on the CPU from a
//   generator seeded with options.seed; torch's global generator is neither
//   used nor disturbed.
// - `on_token`, when given, is called with each new id as soon as it is
//   chosen (to stream text); returning false stops generation after that id,
//   which is still part of the result.
//
// Throws loom::UsageError for bad options, an empty prompt or a prompt id
// outside the vocabulary, and loom::Error when the model returns non-finite
// logits (a diverged model).
std::vector<std::int64_t> generate(model::LanguageModel& model,
                                   const std::vector<std::int64_t>& prompt,
                                   const SamplingOptions& options,
                                   const std::function<bool(std::int64_t)>& on_token = {});

}  // namespace loom::infer
