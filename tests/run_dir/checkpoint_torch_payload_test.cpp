// The flow the trainer will use: fill() saves a model and its AdamW state
// with torch::save into the checkpoint folder, and a fresh model and
// optimizer loaded from the latest checkpoint equal the saved ones, Adam
// moments included. And optimizer.pt as either LibTorch version writes it
// (parameters named in hex by 1.13, in decimal by 2.x) loads onto the right
// parameters.
#include <functional>

#include "test_support.hpp"
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "loom/core/torch_compat.hpp"
#include "loom/run_dir/checkpoint_store.hpp"
#include "loom/run_dir/run_checkpoint.hpp"
#include "loom/train/optimizer.hpp"

namespace loom::run_dir {
namespace {

using namespace loom::test;

namespace fs = std::filesystem;

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
  auto optimizer = train::make_adamw(*model, config::OptimConfig{});
  train_one_step(model, *optimizer);

  CheckpointStore store(run.path() / "checkpoints", 2);
  store.write(1, [&](const fs::path& dir) {
    torch::save(model, (dir / "model.pt").string());
    torch::save(*optimizer, (dir / "optimizer.pt").string());
  });

  torch::manual_seed(8);  // different initial weights
  auto restored_model = make_model();
  auto restored_optimizer = train::make_adamw(*restored_model, config::OptimConfig{});
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

// Writes `optimizer`'s groups in torch::optim's optimizer.pt layout, each
// parameter named by `name_of(k)` (k counting over all groups) and given
// moments of k + 1 and k + 0.5 and a step count of 10 + k.
void write_optimizer_file(const fs::path& path, torch::optim::AdamW& optimizer,
                          const std::function<std::string(int)>& name_of) {
  torch::serialize::OutputArchive archive;
  archive.write("pytorch_version", c10::IValue("1.5.0"));
  torch::serialize::OutputArchive states(archive.compilation_unit());
  torch::serialize::OutputArchive groups(archive.compilation_unit());
  const auto& param_groups = optimizer.param_groups();
  groups.write("param_groups/size", torch::tensor(static_cast<std::int64_t>(param_groups.size())));
  int k = 0;
  for (std::size_t g = 0; g < param_groups.size(); ++g) {
    torch::serialize::OutputArchive group(archive.compilation_unit());
    const auto& parameters = param_groups[g].params();
    group.write("params/size", torch::tensor(static_cast<std::int64_t>(parameters.size())));
    for (std::size_t i = 0; i < parameters.size(); ++i, ++k) {
      group.write("params/" + std::to_string(i), c10::IValue(name_of(k)));
      torch::optim::AdamWParamState state;
      state.step(10 + k);
      state.exp_avg(torch::full_like(parameters[i], k + 1.0));
      state.exp_avg_sq(torch::full_like(parameters[i], k + 0.5));
      torch::serialize::OutputArchive one(archive.compilation_unit());
      state.serialize(one);
      states.write(name_of(k), one);
    }
    torch::serialize::OutputArchive options(archive.compilation_unit());
    static_cast<const torch::optim::AdamWOptions&>(param_groups[g].options()).serialize(options);
    group.write("options", options);
    groups.write("param_groups/" + std::to_string(g), group);
  }
  archive.write("state", states);
  archive.write("param_groups", groups);
  archive.save_to(path.string());
}

void expect_state_loads_in_place(const std::function<std::string(int)>& name_of) {
  TempDir checkpoint;
  auto model = make_model();
  auto optimizer = train::make_adamw(*model, config::OptimConfig{});
  ASSERT_EQ(optimizer->param_groups().size(), 2U);  // with and without weight decay
  write_optimizer_file(checkpoint.path() / "optimizer.pt", *optimizer, name_of);

  train_one_step(model, *optimizer);  // state to be replaced
  load_optimizer_state(checkpoint.path(), *optimizer);
  int k = 0;
  for (const auto& group : optimizer->param_groups()) {
    for (const torch::Tensor& parameter : group.params()) {
      const auto& state = static_cast<const torch::optim::AdamWParamState&>(
          *optimizer->state().at(torch_compat::optimizer_state_key(parameter)));
      EXPECT_EQ(state.step(), 10 + k) << k;
      EXPECT_TRUE(torch::equal(state.exp_avg(), torch::full_like(parameter, k + 1.0))) << k;
      EXPECT_TRUE(torch::equal(state.exp_avg_sq(), torch::full_like(parameter, k + 0.5))) << k;
      ++k;
    }
  }
}

TEST(CheckpointTorchPayload, OptimizerStateNamedAsLibTorch113NamesItLoads) {
  expect_state_loads_in_place([](int k) { return fmt::format("0x{:x}", 0x55d000 + 0x100 * k); });
}

TEST(CheckpointTorchPayload, OptimizerStateNamedAsLibTorch2NamesItLoads) {
  expect_state_loads_in_place([](int k) { return std::to_string(5623808 + 256 * k); });
}

TEST(CheckpointTorchPayload, AnOptimizerFileForOtherGroupsIsACheckpointErrorNamingIt) {
  TempDir checkpoint;
  auto small = make_model();
  auto small_optimizer = train::make_adamw(*small, config::OptimConfig{});
  write_optimizer_file(checkpoint.path() / "optimizer.pt", *small_optimizer,
                       [](int k) { return std::to_string(k + 1); });
  torch::nn::Sequential larger(torch::nn::Linear(4, 8), torch::nn::Linear(8, 8),
                               torch::nn::Linear(8, 2));
  auto larger_optimizer = train::make_adamw(*larger, config::OptimConfig{});
  try {
    load_optimizer_state(checkpoint.path(), *larger_optimizer);
    FAIL() << "loaded state for other parameters";
  } catch (const CheckpointError& e) {
    EXPECT_EQ(std::string(e.what()),
              (checkpoint.path() / "optimizer.pt").string() +
                  ": parameter group 0 holds 2 parameters; the optimizer's has 3");
  }
}

// Found by fuzz/checkpoint_state: nlohmann reads an integer beyond 64 bits
// as a float and would convert it to the step unchecked.
TEST(CheckpointInfo, AStateJsonIntegerOutOfRangeIsACheckpointErrorNamingTheKey) {
  TempDir checkpoint;
  write_file((checkpoint.path() / "state.json").string(),
             R"({"step": -318446744073709551616, "best_val_loss": null,
                 "loss_scaler": {"enabled": false, "scale": 1.0, "good_steps": 0},
                 "train_seconds": 1.5, "world_size": 1, "config_fingerprint": "x"})");
  const std::string state = (checkpoint.path() / "state.json").string();
  try {
    read_checkpoint_info(checkpoint.path());
    FAIL() << "read a step beyond 64 bits";
  } catch (const CheckpointError& e) {
    EXPECT_EQ(std::string(e.what()),
              state + ": 'step' is -3.1844674407370955e+20, expected an integer");
  }
}

}  // namespace
}  // namespace loom::run_dir
