// Text generation: continuing prompts one token at a time by sampling from a
// LanguageModel's next-token distribution (temperature, top-k, nucleus/top-p,
// repetition penalty, or greedy), for the trainer's periodic samples,
// `loom sample` and the server.
//
// Generation decodes incrementally (LanguageModel::decode): the prompt is
// read in one forward pass, then each new token costs one position's work
// through GPT's key/value cache or the LSTM's carried state. Past the
// model's block_size the context is a sliding window of the last block_size
// tokens at positions 0..block_size-1, exactly as without the cache; with
// absolute positions that means re-reading the window for every new token
// (language_model.hpp explains why and what it costs), while with rotary
// positions the cache slides in place and each layer attends to its last
// block_size positions (sliding-window attention). use_kv_cache = false
// re-runs the model over the context for every token instead
// (LanguageModel::forward_context): the same tokens, for tests and
// benchmarks.
//
// Several prompts run as one batch: the rows share each forward pass but
// nothing else (own positions, own cache rows, own random generator), so
// row i's tokens are the ones generate() gives prompt i alone with seed
// options.seed + i (up to the float rounding of a batched matmul).
//
// Sampling draws from CPU generators of its own, seeded from the options,
// never from torch's global one: the same model and seed give the same text
// (on a GPU too, up to the rounding of its logits), and a sample taken in
// the middle of a training run leaves that run's random stream (dropout)
// exactly where it was, so a run with samples and one without follow the
// same loss curve.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "loom/model/language_model.hpp"

namespace loom::infer {

struct SamplingOptions {
  // New tokens to generate at most per prompt; >= 0.
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
  // CTRL's penalty (Keskar et al., 2019) on every token already in the
  // prompt or the generated text, applied to the raw logits before
  // everything else: a positive logit is divided by it, a negative one
  // multiplied. 1 is off; above 1 discourages repeats. Must be finite and > 0.
  double repetition_penalty = 1.0;
  // Seeds the generator of this one call (of row i: seed + i).
  std::uint64_t seed = 1337;
  // End a row when the model draws <eos> (the end of a document); the <eos>
  // is not part of the result. Off by default, so that the trainer's samples
  // keep showing a document's end as "<eos>" and go on; `loom sample` turns
  // it on.
  bool stop_at_eos = false;
  // Decode with the model's cache (DecodeMode::cached) or re-run forward()
  // over the whole window for every token (DecodeMode::recompute).
  bool use_kv_cache = true;
  // Run the model's forward passes under autocast to this dtype, as training
  // does at train.precision (train::choose_precision); none: fp32.
  std::optional<at::ScalarType> autocast_dtype;
  // Report each new token's log-probability (Generation::logprobs) and the
  // top_logprobs likeliest ids at its step (>= 0; fewer when the vocabulary
  // is smaller). Off: Generation::logprobs stays empty.
  bool logprobs = false;
  std::int64_t top_logprobs = 0;
};

// Throws loom::UsageError naming the first bad option, its value and what
// was expected, e.g. "temperature must be >= 0, got -1".
void check_sampling_options(const SamplingOptions& options);

// Why a row stopped.
enum class FinishReason {
  length,     // max_new_tokens generated
  eos,        // the model drew <eos> (with stop_at_eos)
  stop,       // the token callback said stop (text_completion: a stop string appeared)
  cancelled,  // text_completion only: the text callback said stop
};

// "length", "eos", "stop", "cancelled".
std::string finish_reason_name(FinishReason reason);

// An id and its log-probability under the model: the log-softmax, in
// float64, of the model's raw logits at that step, before the repetition
// penalty, temperature, top-k and top-p. Those shape the draw, not what the
// model predicts, so the figure scores text the same whatever the sampling
// options (OpenAI's and vLLM's default too).
struct TokenLogprob {
  std::int64_t id = 0;
  double logprob = 0.0;
};

// One step's figures: the id that came, and the likeliest ids, likeliest
// first (top_logprobs of them; ties in id order).
struct StepLogprobs {
  TokenLogprob chosen;
  std::vector<TokenLogprob> top;
};

struct Generation {
  std::vector<std::int64_t> ids;  // the new ids only, without a final <eos>
  // With options.logprobs, logprobs[i] is ids[i]'s; else empty.
  std::vector<StepLogprobs> logprobs;
  FinishReason finish_reason = FinishReason::length;
};

// Called with a row's generation so far as soon as a new id joins it (to
// stream text): the id is generation.ids.back(), its figures (with
// logprobs) generation.logprobs.back(). Returning false ends that row after
// that id, which is still part of its result. Never called for the <eos>
// that stop_at_eos ends a row on.
using TokenCallback = std::function<bool(std::size_t row, const Generation& generation)>;

// Continues each prompt (token ids in [0, vocab_size()), at least one per
// prompt) by up to options.max_new_tokens ids; result i is prompt i's.
//
// - The model runs in eval mode (no dropout) under a NoGradGuard, on the
//   device its parameters are on; its previous train/eval mode comes back
//   when the call returns or throws. A model already in eval mode is only
//   read: several threads may generate from it at once.
// - Each token comes from the row's last position's logits in float64:
//   repetition-penalised, scaled by 1/temperature, cut to top_k, cut to
//   top_p, then drawn on the CPU from the row's generator (seeded with
//   options.seed + row); torch's global generator is neither used nor
//   disturbed.
// - A finished row leaves the batch; the others go on.
//
// Throws loom::UsageError for bad options, no prompts, an empty prompt or a
// prompt id outside the vocabulary, and loom::Error when the model returns
// non-finite logits (a diverged model).
std::vector<Generation> generate_batch(model::LanguageModel& model,
                                       const std::vector<std::vector<std::int64_t>>& prompts,
                                       const SamplingOptions& options,
                                       const TokenCallback& on_token = {});

// How likely the model finds each id of `ids` after the ones before it:
// result i is ids[i + 1]'s (ids.size() - 1 of them), with options.top_logprobs
// alternatives, computed as generation would have seen it (within the
// model's context_length() one forward_context() pass; past it, the cache's
// decode, one id at a time) under options.autocast_dtype. Scoring a text
// without generating: OpenAI's echo with logprobs. Throws loom::UsageError
// for an empty `ids`, an id outside the vocabulary or top_logprobs < 0.
std::vector<StepLogprobs> score_tokens(model::LanguageModel& model,
                                       const std::vector<std::int64_t>& ids,
                                       const SamplingOptions& options);

// generate_batch() for one prompt: its new ids.
std::vector<std::int64_t> generate(model::LanguageModel& model,
                                   const std::vector<std::int64_t>& prompt,
                                   const SamplingOptions& options,
                                   const std::function<bool(std::int64_t)>& on_token = {});

}  // namespace loom::infer
