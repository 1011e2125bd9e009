// The flow the trainer will use: fill() saves a model and its AdamW state
// with torch::save into the checkpoint folder, and a fresh model and
// optimizer loaded from the latest checkpoint equal the saved ones, Adam
// moments included.
#include "test_support.hpp"
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "loom/train/checkpoint_store.hpp"
#include "loom/train/optimizer.hpp"

namespace loom::train {
namespace {

namespace fs = std::filesystem;
using loom::testing::TempDir;

torch::nn::Sequential make_model() {
  return torch::nn::Sequential(torch::nn::Linear(4, 8),
                               torch::nn::LayerNorm(torch::nn::LayerNormOptions({8})),
                               torch::nn::Linear(8, 2));
}

void train_one_step(torch::nn::Sequential& model, torch::optim::Optimizer& optimizer) {
  optimizer.zero_grad();
  model->forward(torch::ones({3, 4})).square().sum().backward();
  optimizer.step();
}

TEST(CheckpointTorchPayload, ModelAndOptimizerRoundTripThroughTheStore) {
  torch::manual_seed(7);
  TempDir run;
  auto model = make_model();
  auto optimizer = make_adamw(*model, config::OptimConfig{});
  train_one_step(model, *optimizer);

  CheckpointStore store(run.path() / "checkpoints", 2);
  store.write(1, [&](const fs::path& dir) {
    torch::save(model, (dir / "model.pt").string());
    torch::save(*optimizer, (dir / "optimizer.pt").string());
  });

  torch::manual_seed(8);  // different initial weights
  auto restored_model = make_model();
  auto restored_optimizer = make_adamw(*restored_model, config::OptimConfig{});
  const std::optional<Checkpoint> latest = store.latest();
  ASSERT_TRUE(latest.has_value());
  torch::load(restored_model, (latest->dir / "model.pt").string());
  torch::load(*restored_optimizer, (latest->dir / "optimizer.pt").string());

  const auto saved = model->parameters();
  const auto loaded = restored_model->parameters();
  ASSERT_EQ(saved.size(), loaded.size());
  for (std::size_t i = 0; i < saved.size(); ++i)
    EXPECT_TRUE(torch::equal(saved[i], loaded[i]));

  // Equal moments make the next step identical too.
  train_one_step(model, *optimizer);
  train_one_step(restored_model, *restored_optimizer);
  for (std::size_t i = 0; i < saved.size(); ++i) {
    EXPECT_TRUE(torch::equal(model->parameters()[i], restored_model->parameters()[i])) << i;
  }
}

}  // namespace
}  // namespace loom::train
