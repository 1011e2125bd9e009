// The loss of a model over a fixed set of batches: what the trainer reports
// at each evaluation and what `loom eval` prints. The batches come from
// BatchSampler::eval_batch, which never depends on training progress, so
// every evaluation of a run (resumed or not) averages the same windows.
#pragma once

#include <cstdint>
#include <optional>

#include <torch/types.h>

#include "loom/data/sampler.hpp"
#include "loom/model/language_model.hpp"

namespace loom::text {
class Tokenizer;
}

namespace loom::train {

class CpuWorkerPool;

struct EvalLoss {
  double mean_loss = 0;         // mean over the scored positions of all batches
  double loss_sum = 0;          // summed over them: what ranks add up for their mean
  std::int64_t positions = 0;   // positions scored (targets not ignored)
  std::int64_t characters = 0;  // Unicode characters of those targets' text, when counted
};

// Runs `batches` evaluation batches (eval_batch(0), (1), ...) through the
// model in eval mode without gradients, under autocast to `autocast` when
// given, and restores the model's training mode. Every scored position
// weighs the same, also when document windows leave some batches part
// padding. With `character_counter` (the tokenizer), the scored targets are decoded and
// their characters counted, for bits per character. With `workers`, the
// batches are shared among them (the result is the same, summed in batch
// order).
EvalLoss evaluate_loss(model::LanguageModel& model, const data::BatchSampler& sampler,
                       std::int64_t batches, const torch::Device& device,
                       std::optional<at::ScalarType> autocast,
                       const text::Tokenizer* character_counter = nullptr,
                       CpuWorkerPool* workers = nullptr);

}  // namespace loom::train
