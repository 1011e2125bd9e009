#include "loom/train/evaluation.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include <torch/torch.h>

#include "loom/core/torch_compat.hpp"
#include "loom/data/batch_tensors.hpp"
#include "loom/text/tokenizer.hpp"
#include "loom/train/cpu_worker_pool.hpp"

namespace loom::train {
namespace {

// The characters of the text the batch's scored targets spell, row by row;
// a special token (<eos>, <unk>) counts as one.
std::int64_t characters_of_targets(const data::Batch& batch, const text::Tokenizer& tokenizer) {
  std::int64_t characters = 0;
  std::vector<text::TokenId> row;
  for (std::int64_t r = 0; r < batch.rows; ++r) {
    row.clear();
    for (std::int64_t c = 0; c < batch.cols; ++c) {
      const std::int64_t id = batch.targets[static_cast<std::size_t>(r * batch.cols + c)];
      if (id == model::kIgnoreIndex) continue;
      if (id <= static_cast<std::int64_t>(text::kEosId)) ++characters;
      row.push_back(static_cast<text::TokenId>(id));
    }
    for (const char byte : tokenizer.decode(row, /*skip_special=*/true))
      characters += (static_cast<unsigned char>(byte) & 0xC0) != 0x80;  // not a continuation byte
  }
  return characters;
}

}  // namespace

EvalLoss evaluate_loss(model::LanguageModel& model, const data::BatchSampler& sampler,
                       std::int64_t batches, const torch::Device& device,
                       std::optional<at::ScalarType> autocast,
                       const text::Tokenizer* character_counter, CpuWorkerPool* workers) {
  struct BatchResult {
    double loss_sum = 0;  // summed over the batch's scored positions
    std::int64_t positions = 0;
    std::int64_t characters = 0;
  };
  std::vector<BatchResult> results(static_cast<std::size_t>(std::max<std::int64_t>(0, batches)));
  const auto evaluate_batch = [&](std::int64_t index) {
    torch::NoGradGuard no_grad;  // per thread, like autocast
    std::optional<torch_compat::AutocastGuard> autocast_guard;
    if (autocast) autocast_guard.emplace(device.type(), *autocast);
    data::Batch batch = sampler.eval_batch(index);
    const data::BatchTensors tensors = data::to_tensors(batch, device);
    const torch::Tensor logits = model.forward(tensors.inputs);
    BatchResult& result = results[static_cast<std::size_t>(index)];
    result.positions = tensors.targets.ne(model::kIgnoreIndex).sum().item<std::int64_t>();
    if (result.positions == 0) return;
    // loss() averages over the batch's scored positions; weigh it by them.
    result.loss_sum = model::LanguageModel::loss(logits, tensors.targets).item<double>() *
                      static_cast<double>(result.positions);
    if (character_counter != nullptr)
      result.characters = characters_of_targets(batch, *character_counter);
  };

  const bool was_training = model.is_training();
  model.eval();
  if (workers != nullptr && batches > 1) {
    const int count = static_cast<int>(std::min<std::int64_t>(workers->size(), batches));
    workers->run(count, [&](int worker) {
      for (std::int64_t index = worker; index < batches; index += count)
        evaluate_batch(index);
    });
  } else {
    for (std::int64_t index = 0; index < batches; ++index)
      evaluate_batch(index);
  }
  model.train(was_training);

  EvalLoss total;
  for (const BatchResult& result : results) {
    total.loss_sum += result.loss_sum;
    total.positions += result.positions;
    total.characters += result.characters;
  }
  total.mean_loss = total.positions > 0 ? total.loss_sum / static_cast<double>(total.positions)
                                        : std::numeric_limits<double>::quiet_NaN();
  return total;
}

}  // namespace loom::train
