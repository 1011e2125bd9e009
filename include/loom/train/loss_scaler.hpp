// Dynamic loss scaling for fp16 training. fp16 gradients underflow to 0
// below ~6e-8, so the loss is multiplied by a large scale before backward
// and the gradients divided by it after. The scale halves whenever a step
// produces an inf or nan (that step is skipped) and doubles after a run of
// good steps, so it hovers just below overflow.
//
// Detection and decision are split so every rank decides alike (docs/ARCHITECTURE.md,
// invariant 4): unscale_and_find_inf() reports this rank's verdict, the
// trainer all-reduces it (logical or), and every rank then calls
// update(found_inf) with the agreed value and skips or takes the step.
//
// Built from generic tensor ops, so it runs on CPU under LibTorch 1.13,
// whose fused _amp_* kernels exist for CUDA only. A disabled scaler (fp32,
// bf16) has scale 1 and changes nothing.
#pragma once

#include <cstdint>
#include <vector>

#include <nlohmann/json_fwd.hpp>
#include <torch/types.h>

#include "loom/config/config.hpp"
#include "loom/run_dir/loss_scaler_state.hpp"

namespace loom::train {

struct LossScalerOptions {
  double init_scale = 65536.0;
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  std::int64_t growth_interval = 2000;  // finite steps in a row before growing
};

// What a checkpoint keeps of a scaler: run_dir::LossScalerState.
using run_dir::LossScalerState;

class DynamicLossScaler {
 public:
  // Throws loom::Error when an option is out of range (init_scale finite and
  // > 0, growth_factor > 1, backoff_factor in (0, 1), growth_interval >= 1).
  explicit DynamicLossScaler(bool enabled, const LossScalerOptions& options = {});

  // Enabled for fp16 only.
  static DynamicLossScaler for_precision(config::Precision precision,
                                         const LossScalerOptions& options = {});

  bool enabled() const { return enabled_; }
  double scale() const { return scale_; }
  std::int64_t good_steps() const { return good_steps_; }

  // loss * scale, or `loss` itself when disabled.
  torch::Tensor scale_loss(const torch::Tensor& loss) const;

  // Divides every defined gradient by the scale in place and returns whether
  // any gradient holds an inf or nan (found_inf): one reduction and one
  // device-to-host copy for all gradients. Disabled: touches nothing and
  // returns false.
  bool unscale_and_find_inf(const std::vector<torch::Tensor>& parameters) const;

  // After the ranks agree on found_inf: an overflow multiplies the scale by
  // backoff_factor and restarts the count of good steps; a good step counts,
  // and the growth_interval-th in a row multiplies the scale by
  // growth_factor (unless that leaves float32's range) and restarts the
  // count. Disabled: does nothing.
  void update(bool found_inf);

  LossScalerState state() const;
  // Restores a checkpointed state. A disabled scaler ignores it, and a state
  // saved by a disabled scaler leaves this one at its initial scale: a run
  // may resume in a different precision. Throws loom::Error for a scale that
  // is not finite and > 0 or a count outside [0, growth_interval).
  void load_state(const LossScalerState& state);

 private:
  bool enabled_;
  LossScalerOptions options_;
  double scale_;
  std::int64_t good_steps_ = 0;
};

}  // namespace loom::train
