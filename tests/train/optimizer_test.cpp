// make_adamw: which parameters get weight decay (by dimension, tied weights
// once), the options each group carries, that the decay acts as decoupled
// AdamW decay, and that set_learning_rate reaches every group.
#include "loom/train/optimizer.hpp"

#include <cmath>
#include <tuple>

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace loom::train {
namespace {

// A miniature GPT block's parameter shapes: embedding (2-D), linear with
// bias, LayerNorm (two 1-D), and an output projection tied to the embedding.
struct TinyModel : torch::nn::Module {
  TinyModel()
      : embedding(register_module("embedding", torch::nn::Embedding(10, 4))),
        linear(register_module("linear", torch::nn::Linear(4, 3))),
        norm(register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({3})))) {
    register_parameter("output_weight", embedding->weight);
    register_parameter("frozen", torch::ones({2, 2}), /*requires_grad=*/false);
  }
  torch::nn::Embedding embedding;
  torch::nn::Linear linear;
  torch::nn::LayerNorm norm;
};

bool same_tensors(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!a[i].is_same(b[i])) return false;
  }
  return true;
}

config::OptimConfig test_optim() {
  config::OptimConfig optim;
  optim.lr = 0.01;
  optim.weight_decay = 0.25;
  optim.beta1 = 0.8;
  optim.beta2 = 0.95;
  optim.eps = 1e-6;
  return optim;
}

const torch::optim::AdamWOptions& options_of(torch::optim::AdamW& adamw, std::size_t group) {
  return static_cast<const torch::optim::AdamWOptions&>(adamw.param_groups()[group].options());
}

TEST(MakeAdamW, DecaysMatricesOnlyAndListsTiedWeightsOnce) {
  TinyModel model;
  const ParameterGroups groups = split_by_weight_decay(model);
  EXPECT_TRUE(same_tensors(groups.decay, {model.embedding->weight, model.linear->weight}));
  EXPECT_TRUE(
      same_tensors(groups.no_decay, {model.linear->bias, model.norm->weight, model.norm->bias}));

  const auto adamw = make_adamw(model, test_optim());
  ASSERT_EQ(adamw->param_groups().size(), 2u);
  EXPECT_TRUE(same_tensors(adamw->param_groups()[kDecayGroup].params(), groups.decay));
  EXPECT_TRUE(same_tensors(adamw->param_groups()[kNoDecayGroup].params(), groups.no_decay));
}

TEST(MakeAdamW, GroupsCarryTheConfiguredOptions) {
  TinyModel model;
  const auto adamw = make_adamw(model, test_optim());
  for (std::size_t group : {kDecayGroup, kNoDecayGroup}) {
    const torch::optim::AdamWOptions& options = options_of(*adamw, group);
    EXPECT_EQ(options.lr(), 0.01);
    EXPECT_EQ(options.betas(), std::make_tuple(0.8, 0.95));
    EXPECT_EQ(options.eps(), 1e-6);
    EXPECT_FALSE(options.amsgrad());
  }
  EXPECT_EQ(options_of(*adamw, kDecayGroup).weight_decay(), 0.25);
  EXPECT_EQ(options_of(*adamw, kNoDecayGroup).weight_decay(), 0.0);
}

TEST(MakeAdamW, ZeroGradientStepAppliesOnlyDecoupledDecay) {
  // With a zero gradient Adam's update is 0, leaving AdamW's decay:
  // p *= 1 - lr * weight_decay on the matrices, nothing elsewhere.
  TinyModel model;
  const torch::Tensor weight_before = model.linear->weight.detach().clone();
  const torch::Tensor bias_before = model.linear->bias.detach().clone();
  const auto adamw = make_adamw(model, test_optim());
  for (const torch::Tensor& parameter : model.parameters()) {
    if (parameter.requires_grad()) parameter.mutable_grad() = torch::zeros_like(parameter);
  }
  adamw->step();
  EXPECT_TRUE(torch::equal(model.linear->weight, weight_before * (1 - 0.01 * 0.25)));
  EXPECT_TRUE(torch::equal(model.linear->bias, bias_before));
}

TEST(MakeAdamW, SetLearningRateReachesEveryGroup) {
  TinyModel model;
  const auto adamw = make_adamw(model, test_optim());
  set_learning_rate(*adamw, 0.125);
  EXPECT_EQ(options_of(*adamw, kDecayGroup).lr(), 0.125);
  EXPECT_EQ(options_of(*adamw, kNoDecayGroup).lr(), 0.125);
}

TEST(MakeAdamW, AModuleWithoutVectorsGetsAnEmptyNoDecayGroup) {
  torch::nn::Linear linear(torch::nn::LinearOptions(3, 2).bias(false));
  const auto adamw = make_adamw(*linear, test_optim());
  ASSERT_EQ(adamw->param_groups().size(), 2u);
  EXPECT_EQ(adamw->param_groups()[kDecayGroup].params().size(), 1u);
  EXPECT_TRUE(adamw->param_groups()[kNoDecayGroup].params().empty());
}

}  // namespace
}  // namespace loom::train
