// global_grad_norm and clip_grad_norm on hand-made gradients whose norms
// are exact: (3, 4) and (12) have norm 13.
#include "loom/train/grad_norm.hpp"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace loom::train {
namespace {

std::vector<torch::Tensor> parameters_with_grads() {
  torch::Tensor a = torch::zeros({2, 1}, torch::requires_grad());
  torch::Tensor b = torch::zeros({1}, torch::requires_grad());
  torch::Tensor no_grad = torch::zeros({5}, torch::requires_grad());
  a.mutable_grad() = torch::tensor({{3.0f}, {4.0f}});
  b.mutable_grad() = torch::tensor({12.0f});
  return {a, b, no_grad};
}

TEST(GradNorm, IsTheNormOfAllGradientsTogether) {
  EXPECT_EQ(global_grad_norm(parameters_with_grads()), 13.0);
  EXPECT_EQ(global_grad_norm({torch::zeros({3}, torch::requires_grad())}), 0.0);
  EXPECT_EQ(global_grad_norm({}), 0.0);
}

TEST(GradNorm, HalfPrecisionGradientsDoNotOverflow) {
  torch::Tensor p = torch::zeros({2}, torch::requires_grad());
  // Each square (1.44e10) is far past fp16's 65504.
  p.mutable_grad() = torch::full({2}, 60000.0, torch::kHalf);
  // Computed in float32: equal to float precision, and above all finite.
  EXPECT_FLOAT_EQ(static_cast<float>(global_grad_norm({p})), 60000.0f * std::sqrt(2.0f));
}

TEST(GradNorm, ZeroMaxNormMeasuresWithoutClipping) {
  const auto parameters = parameters_with_grads();
  EXPECT_EQ(clip_grad_norm(parameters, 0.0), 13.0);
  EXPECT_TRUE(torch::equal(parameters[0].grad(), torch::tensor({{3.0f}, {4.0f}})));
  EXPECT_TRUE(torch::equal(parameters[1].grad(), torch::tensor({12.0f})));
}

TEST(GradNorm, ClippingScalesToTheLimitAndReturnsTheNormBefore) {
  const auto parameters = parameters_with_grads();
  EXPECT_EQ(clip_grad_norm(parameters, 6.5), 13.0);
  const float scale = static_cast<float>(6.5 / (13.0 + 1e-6));
  EXPECT_TRUE(torch::equal(parameters[0].grad(), torch::tensor({{3.0f}, {4.0f}}) * scale));
  EXPECT_TRUE(torch::equal(parameters[1].grad(), torch::tensor({12.0f}) * scale));
  EXPECT_NEAR(global_grad_norm(parameters), 6.5, 1e-5);
  EXPECT_FALSE(parameters[2].grad().defined());
}

TEST(GradNorm, ANormWithinTheLimitIsLeftAlone) {
  const auto parameters = parameters_with_grads();
  EXPECT_EQ(clip_grad_norm(parameters, 13.5), 13.0);
  EXPECT_TRUE(torch::equal(parameters[0].grad(), torch::tensor({{3.0f}, {4.0f}})));
}

TEST(GradNorm, ANonFiniteNormIsReportedAndTheGradientsKept) {
  auto parameters = parameters_with_grads();
  parameters[1].mutable_grad() = torch::tensor({std::numeric_limits<float>::infinity()});
  EXPECT_EQ(clip_grad_norm(parameters, 1.0), std::numeric_limits<double>::infinity());
  EXPECT_TRUE(torch::equal(parameters[0].grad(), torch::tensor({{3.0f}, {4.0f}})));
  parameters[1].mutable_grad() = torch::tensor({std::numeric_limits<float>::quiet_NaN()});
  EXPECT_TRUE(std::isnan(clip_grad_norm(parameters, 1.0)));
  EXPECT_TRUE(torch::equal(parameters[0].grad(), torch::tensor({{3.0f}, {4.0f}})));
}

}  // namespace
}  // namespace loom::train
