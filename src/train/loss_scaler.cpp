// DynamicLossScaler: see loss_scaler.hpp.
#include "loom/train/loss_scaler.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <type_traits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "loom/core/error.hpp"

namespace loom::train {
namespace {

void check_options(const LossScalerOptions& options) {
  const auto fail = [](const char* name, double value, const char* expected) {
    throw Error(
        fmt::format("loss scaler: {} = {} is out of range; expected {}", name, value, expected));
  };
  if (!std::isfinite(options.init_scale) || options.init_scale <= 0) {
    fail("init_scale", options.init_scale, "a finite value > 0");
  }
  if (!std::isfinite(options.growth_factor) || options.growth_factor <= 1) {
    fail("growth_factor", options.growth_factor, "a finite value > 1");
  }
  if (!(options.backoff_factor > 0 && options.backoff_factor < 1)) {
    fail("backoff_factor", options.backoff_factor, "a value in (0, 1)");
  }
  if (options.growth_interval < 1) {
    fail("growth_interval", static_cast<double>(options.growth_interval), "at least 1");
  }
}

}  // namespace

DynamicLossScaler::DynamicLossScaler(bool enabled, const LossScalerOptions& options)
    : enabled_(enabled), options_(options), scale_(enabled ? options.init_scale : 1.0) {
  check_options(options);
}

DynamicLossScaler DynamicLossScaler::for_precision(config::Precision precision,
                                                   const LossScalerOptions& options) {
  return DynamicLossScaler(precision == config::Precision::fp16, options);
}

torch::Tensor DynamicLossScaler::scale_loss(const torch::Tensor& loss) const {
  return enabled_ ? loss * scale_ : loss;
}

bool DynamicLossScaler::unscale_and_find_inf(const std::vector<torch::Tensor>& parameters) const {
  if (!enabled_) return false;
  torch::NoGradGuard no_grad;
  const double inverse = 1.0 / scale_;
  std::vector<torch::Tensor> all_finite;
  for (const torch::Tensor& parameter : parameters) {
    const torch::Tensor& grad = parameter.grad();
    if (!grad.defined()) continue;
    if (grad.scalar_type() == torch::kFloat || grad.scalar_type() == torch::kDouble) {
      grad.mul_(inverse);
    } else {
      // A half-precision multiply would first round `inverse` to fp16, where
      // a scale above 2^24 makes it 0 and wipes every gradient: unscale in
      // float32 and round once.
      grad.copy_(grad.to(torch::kFloat).mul_(inverse));
    }
    all_finite.push_back(torch::isfinite(grad).all());
  }
  if (all_finite.empty()) return false;
  // Per-gradient verdicts stay on the device; only the combined one is read.
  return !torch::stack(all_finite).all().item<bool>();
}

void DynamicLossScaler::update(bool found_inf) {
  if (!enabled_) return;
  if (found_inf) {
    scale_ *= options_.backoff_factor;
    good_steps_ = 0;
    return;
  }
  if (++good_steps_ < options_.growth_interval) return;
  good_steps_ = 0;
  // The loss is scaled in float32 at least; a scale past its range would
  // make every step overflow.
  const double grown = scale_ * options_.growth_factor;
  if (grown <= std::numeric_limits<float>::max()) scale_ = grown;
}

LossScalerState DynamicLossScaler::state() const {
  return {enabled_, scale_, good_steps_};
}

void DynamicLossScaler::load_state(const LossScalerState& state) {
  if (!enabled_ || !state.enabled) return;
  if (!std::isfinite(state.scale) || state.scale <= 0) {
    throw Error(
        fmt::format("loss scaler state: scale = {} is not a finite value > 0", state.scale));
  }
  if (state.good_steps < 0 || state.good_steps >= options_.growth_interval) {
    throw Error(fmt::format("loss scaler state: good_steps = {} is outside [0, {})",
                            state.good_steps, options_.growth_interval));
  }
  scale_ = state.scale;
  good_steps_ = state.good_steps;
}

}  // namespace loom::train
