#include "loom/train/evaluation.hpp"

#include <cmath>
#include <limits>

#include <torch/torch.h>

#include "loom/core/torch_compat.hpp"
#include "loom/text/tokenizer.hpp"

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

BatchTensors to_tensors(data::Batch& batch, const torch::Device& device) {
  const auto as_tensor = [&](std::vector<std::int64_t>& ids) {
    return torch::from_blob(ids.data(), {batch.rows, batch.cols}, torch::kLong).to(device);
  };
  return {as_tensor(batch.inputs), as_tensor(batch.targets)};
}

EvalLoss evaluate_loss(model::LanguageModel& model, const data::BatchSampler& sampler,
                       std::int64_t batches, const torch::Device& device,
                       std::optional<at::ScalarType> autocast,
                       const text::Tokenizer* count_characters) {
  const bool was_training = model.is_training();
  model.eval();
  torch::NoGradGuard no_grad;
  EvalLoss result;
  double loss_sum = 0;
  std::int64_t positions = 0;
  for (std::int64_t index = 0; index < batches; ++index) {
    data::Batch batch = sampler.eval_batch(index);
    const BatchTensors tensors = to_tensors(batch, device);
    torch::Tensor logits;
    if (autocast) {
      torch_compat::AutocastGuard guard(device.type(), *autocast);
      logits = model.forward(tensors.inputs);
    } else {
      logits = model.forward(tensors.inputs);
    }
    const torch::Tensor scored = tensors.targets.ne(model::kIgnoreIndex);
    const std::int64_t count = scored.sum().item<std::int64_t>();
    if (count == 0) continue;
    // loss() averages over the batch's scored positions; weigh it by them.
    loss_sum += model::LanguageModel::loss(logits, tensors.targets).item<double>() *
                static_cast<double>(count);
    positions += count;
    if (count_characters != nullptr)
      result.characters += characters_of_targets(batch, *count_characters);
  }
  model.train(was_training);
  result.positions = positions;
  result.mean_loss = positions > 0 ? loss_sum / static_cast<double>(positions)
                                   : std::numeric_limits<double>::quiet_NaN();
  return result;
}

}  // namespace loom::train
