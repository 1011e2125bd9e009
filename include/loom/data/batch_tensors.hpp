// A Batch as LibTorch tensors, for whoever runs a model on it (the trainer,
// evaluation). Header-only, so that the sampler library itself does not
// link LibTorch.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "loom/data/sampler.hpp"

namespace loom::data {

struct BatchTensors {
  torch::Tensor inputs;   // int64 [rows, cols]
  torch::Tensor targets;  // int64 [rows, cols], -1 where the loss ignores the position
};

// On the CPU the tensors share the batch's memory: keep `batch` alive while
// they are in use (backward included). On another device they are copies.
inline BatchTensors to_tensors(Batch& batch, const torch::Device& device) {
  const auto as_tensor = [&](std::vector<std::int64_t>& ids) {
    return torch::from_blob(ids.data(), {batch.rows, batch.cols}, torch::kLong).to(device);
  };
  return {as_tensor(batch.inputs), as_tensor(batch.targets)};
}

}  // namespace loom::data
