// DynamicLossScaler with injected inf and nan gradients: the overflow is
// reported and the scale halves; growth_interval good steps double it; an
// overflow restarts the count; the state survives a JSON round trip; a
// disabled scaler changes nothing.
#include "loom/train/loss_scaler.hpp"

#include <functional>
#include <limits>
#include <string>
#include <utility>

#include "test_support.hpp"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "loom/core/error.hpp"

namespace loom::train {
namespace {

using namespace loom::test;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNan = std::numeric_limits<float>::quiet_NaN();

// Two parameters with gradients, one without: the scaler must skip it.
std::vector<torch::Tensor> parameters(float first, float second) {
  torch::Tensor a = torch::zeros({2}, torch::requires_grad());
  torch::Tensor b = torch::zeros({1}, torch::requires_grad());
  a.mutable_grad() = torch::tensor({first, 2.0f});
  b.mutable_grad() = torch::tensor({second});
  return {a, b, torch::zeros({3}, torch::requires_grad())};
}

LossScalerOptions small_interval() {
  LossScalerOptions options;
  options.growth_interval = 3;
  return options;
}

TEST(DynamicLossScaler, ScalesTheLossAndUnscalesTheGradients) {
  const DynamicLossScaler scaler(true);
  EXPECT_EQ(scaler.scale(), 65536.0);
  EXPECT_EQ(scaler.scale_loss(torch::tensor(0.5f)).item<float>(), 32768.0f);
  const auto params = parameters(65536.0f, 131072.0f);
  EXPECT_FALSE(scaler.unscale_and_find_inf(params));
  EXPECT_TRUE(torch::equal(params[0].grad(), torch::tensor({1.0f, 2.0f / 65536.0f})));
  EXPECT_TRUE(torch::equal(params[1].grad(), torch::tensor({2.0f})));
  EXPECT_FALSE(params[2].grad().defined());
}

TEST(DynamicLossScaler, HalfGradientsSurviveAScaleAbove2To24) {
  // 2^-26 rounds to 0 in fp16: unscaling must not multiply in half precision.
  LossScalerOptions options;
  options.init_scale = 67108864.0;  // 2^26
  const DynamicLossScaler scaler(true, options);
  torch::Tensor weight =
      torch::zeros({1}, torch::TensorOptions().dtype(torch::kHalf).requires_grad(true));
  weight.mutable_grad() = torch::full({1}, 671.0, torch::kHalf);  // 1e-5 scaled by 2^26
  EXPECT_FALSE(scaler.unscale_and_find_inf({weight}));
  EXPECT_NEAR(weight.grad().to(torch::kFloat).item<float>(), 671.0 / 67108864.0, 1e-7);
  EXPECT_GT(weight.grad().to(torch::kFloat).item<float>(), 0.0f);
}

TEST(DynamicLossScaler, InfOrNanAnywhereIsFoundAndHalvesTheScale) {
  for (const auto& [first, second] : {std::pair{kInf, 1.0f}, std::pair{1.0f, kNan},
                                      std::pair{-kInf, 1.0f}, std::pair{kNan, kInf}}) {
    DynamicLossScaler scaler(true);
    EXPECT_TRUE(scaler.unscale_and_find_inf(parameters(first, second))) << first << ", " << second;
    scaler.update(true);
    EXPECT_EQ(scaler.scale(), 32768.0);
    EXPECT_EQ(scaler.good_steps(), 0);
  }
}

TEST(DynamicLossScaler, GrowsAfterGrowthIntervalGoodSteps) {
  DynamicLossScaler scaler(true, small_interval());
  scaler.update(false);
  scaler.update(false);
  EXPECT_EQ(scaler.scale(), 65536.0);
  EXPECT_EQ(scaler.good_steps(), 2);
  scaler.update(false);
  EXPECT_EQ(scaler.scale(), 131072.0);
  EXPECT_EQ(scaler.good_steps(), 0);
}

TEST(DynamicLossScaler, AnOverflowRestartsTheGrowthCount) {
  DynamicLossScaler scaler(true, small_interval());
  scaler.update(false);
  scaler.update(false);
  scaler.update(true);
  EXPECT_EQ(scaler.scale(), 32768.0);
  EXPECT_EQ(scaler.good_steps(), 0);
  scaler.update(false);
  scaler.update(false);
  EXPECT_EQ(scaler.scale(), 32768.0);
  scaler.update(false);
  EXPECT_EQ(scaler.scale(), 65536.0);
}

TEST(DynamicLossScaler, StopsGrowingAtTheEdgeOfFloat32) {
  LossScalerOptions options;
  options.init_scale = 0x1p127;
  options.growth_interval = 1;
  DynamicLossScaler scaler(true, options);
  scaler.update(false);
  EXPECT_EQ(scaler.scale(), 0x1p127);
  EXPECT_EQ(scaler.good_steps(), 0);
}

TEST(DynamicLossScaler, DisabledChangesNothing) {
  DynamicLossScaler scaler = DynamicLossScaler::for_precision(config::Precision::bf16);
  EXPECT_FALSE(scaler.enabled());
  EXPECT_EQ(scaler.scale(), 1.0);
  const torch::Tensor loss = torch::tensor(0.5f);
  EXPECT_TRUE(scaler.scale_loss(loss).is_same(loss));
  const auto params = parameters(kInf, 3.0f);
  EXPECT_FALSE(scaler.unscale_and_find_inf(params));
  EXPECT_EQ(params[1].grad().item<float>(), 3.0f);
  scaler.update(true);
  EXPECT_EQ(scaler.scale(), 1.0);
  EXPECT_TRUE(DynamicLossScaler::for_precision(config::Precision::fp16).enabled());
  EXPECT_FALSE(DynamicLossScaler::for_precision(config::Precision::fp32).enabled());
}

TEST(DynamicLossScaler, StateRoundTripsThroughJson) {
  DynamicLossScaler scaler(true, small_interval());
  scaler.update(true);
  scaler.update(false);
  const LossScalerState saved = scaler.state();
  EXPECT_EQ(saved, (LossScalerState{true, 32768.0, 1}));
  const std::string text = run_dir::loss_scaler_state_to_json(saved).dump();
  EXPECT_EQ(text, R"({"enabled":true,"good_steps":1,"scale":32768.0})");

  DynamicLossScaler restored(true, small_interval());
  restored.load_state(
      run_dir::loss_scaler_state_from_json(nlohmann::json::parse(text), "state.json"));
  EXPECT_EQ(restored.state(), saved);
  restored.update(false);
  restored.update(false);
  EXPECT_EQ(restored.scale(), 65536.0);
}

TEST(DynamicLossScaler, ResumingAcrossPrecisionsKeepsTheInitialScale) {
  DynamicLossScaler fp16(true);
  fp16.load_state(DynamicLossScaler(false).state());
  EXPECT_EQ(fp16.state(), (LossScalerState{true, 65536.0, 0}));
  DynamicLossScaler fp32(false);
  fp32.load_state({true, 1024.0, 5});
  EXPECT_EQ(fp32.state(), (LossScalerState{false, 1.0, 0}));
}

TEST(DynamicLossScaler, BadStatesAndOptionsAreRefused) {
  DynamicLossScaler scaler(true, small_interval());
  EXPECT_EQ(error_message<Error>([&] {
              scaler.load_state({true, 0.0, 0});
            }),
            "loss scaler state: scale = 0 is not a finite value > 0");
  EXPECT_EQ(error_message<Error>([&] {
              scaler.load_state({true, 8.0, 3});
            }),
            "loss scaler state: good_steps = 3 is outside [0, 3)");
  EXPECT_EQ(error_message<Error>([] {
              run_dir::loss_scaler_state_from_json(
                  nlohmann::json::parse(R"({"enabled":true,"scale":2})"), "run/state.json");
            }),
            "run/state.json: loss scaler state has no 'good_steps'");
  EXPECT_EQ(error_message<Error>([] {
              run_dir::loss_scaler_state_from_json(
                  nlohmann::json::parse(R"({"enabled":true,"scale":"big","good_steps":0})"),
                  "run/state.json");
            }),
            "run/state.json: loss scaler state 'scale' is \"big\", expected a number");
  // Found by fuzz/checkpoint_state: an integer beyond 64 bits is read as a
  // float, which nlohmann would convert unchecked.
  EXPECT_EQ(error_message<Error>([] {
              run_dir::loss_scaler_state_from_json(
                  nlohmann::json::parse(R"({"enabled":true,"scale":2,"good_steps":1e300})"),
                  "run/state.json");
            }),
            "run/state.json: loss scaler state 'good_steps' is 1e+300, expected an integer");
  LossScalerOptions options;
  options.backoff_factor = 1.0;
  EXPECT_EQ(error_message<Error>([&] { DynamicLossScaler(true, options); }),
            "loss scaler: backoff_factor = 1 is out of range; expected a value in (0, 1)");
}

}  // namespace
}  // namespace loom::train
