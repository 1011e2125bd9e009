// Choosing a row's next token from its logits: repetition penalty,
// temperature, top-k, top-p, then a draw from the row's own generator (or
// the argmax, when greedy). Private to the infer library; sampling.hpp
// documents the options.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Generator.h>
#include <torch/torch.h>

#include "loom/infer/sampling.hpp"

namespace loom::infer {

class TokenChooser {
 public:
  // `options` must outlive the chooser. `prompt` holds the ids the
  // repetition penalty starts from.
  TokenChooser(const SamplingOptions& options, std::uint64_t seed, std::int64_t vocab_size,
               const std::vector<std::int64_t>& prompt);

  // The next id from float64 CPU logits [V]; the id counts as seen for the
  // repetition penalty from then on.
  std::int64_t choose(const torch::Tensor& logits);

 private:
  const SamplingOptions* options_;
  at::Generator generator_;
  // [V] bool: ids in the prompt or chosen so far; undefined without a penalty.
  torch::Tensor seen_;
};

}  // namespace loom::infer
