// Helpers shared by the model suites: small configs, the message of an
// expected exception, and a short training loop for the overfit tests.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "test_support.hpp"
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "loom/config/config.hpp"
#include "loom/model/language_model.hpp"

namespace loom::test {

// nanoGPT's "baby GPT" for Shakespeare on a CPU (its README), vocabulary 65.
inline config::ModelConfig baby_gpt_config() {
  config::ModelConfig config;
  config.arch = config::ModelArch::gpt;
  config.block_size = 64;
  config.n_layer = 4;
  config.n_head = 4;
  config.n_embd = 128;
  config.dropout = 0.0;
  config.bias = false;
  config.tie_weights = true;
  return config;
}

// Small enough that a test can run hundreds of steps in a second.
inline config::ModelConfig tiny_config(config::ModelArch arch) {
  config::ModelConfig config;
  config.arch = arch;
  config.block_size = 16;
  config.n_layer = 2;
  config.n_head = 2;
  config.n_embd = 32;
  config.dropout = 0.0;
  return config;
}

// Rows of 0, 1, ..., period-1, 0, 1, ... (each row starting at its own
// phase); targets are the inputs shifted by one.
struct RepeatingBatch {
  torch::Tensor inputs;
  torch::Tensor targets;
};
inline RepeatingBatch repeating_batch(std::int64_t rows, std::int64_t time, std::int64_t period) {
  const torch::Tensor positions = torch::arange(rows).unsqueeze(1) + torch::arange(time + 1);
  const torch::Tensor tokens = positions.remainder(period);
  return {tokens.narrow(1, 0, time), tokens.narrow(1, 1, time)};
}

// `steps` AdamW steps on the same batch; returns the last loss.
inline double train_on(model::LanguageModel& model, const RepeatingBatch& batch, std::int64_t steps,
                       double lr) {
  torch::optim::AdamW optimizer(model.parameters(), torch::optim::AdamWOptions(lr));
  model.train();
  double loss = 0.0;
  for (std::int64_t step = 0; step < steps; ++step) {
    optimizer.zero_grad();
    const torch::Tensor value =
        model::LanguageModel::loss(model.forward(batch.inputs), batch.targets);
    value.backward();
    optimizer.step();
    loss = value.item<double>();
  }
  return loss;
}

}  // namespace loom::test
