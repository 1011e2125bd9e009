// The fp16 loss scaler's state as a checkpoint keeps it (state.json's
// "loss_scaler"); train::DynamicLossScaler saves and loads it.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace loom::run_dir {

struct LossScalerState {
  bool enabled = false;
  double scale = 1.0;
  std::int64_t good_steps = 0;  // finite steps since the scale last changed

  friend bool operator==(const LossScalerState& a, const LossScalerState& b) {
    return a.enabled == b.enabled && a.scale == b.scale && a.good_steps == b.good_steps;
  }
  friend bool operator!=(const LossScalerState& a, const LossScalerState& b) { return !(a == b); }
};

// {"enabled": true, "scale": 32768.0, "good_steps": 17}
nlohmann::json loss_scaler_state_to_json(const LossScalerState& state);
// Throws loom::Error naming `source` (a file, for the message) and the key
// when a key is missing or has the wrong type.
LossScalerState loss_scaler_state_from_json(const nlohmann::json& json, const std::string& source);

}  // namespace loom::run_dir
