#include "loom/run_dir/loss_scaler_state.hpp"

#include <cstdint>
#include <limits>
#include <type_traits>

#include <fmt/format.h>

#include "loom/core/error.hpp"

namespace loom::run_dir {
namespace {

template <class T>
T json_field(const nlohmann::json& json, const char* key, const std::string& source) {
  const auto entry = json.is_object() ? json.find(key) : json.end();
  if (entry == json.end()) {
    throw Error(fmt::format("{}: loss scaler state has no '{}'", source, key));
  }
  // nlohmann converts a float (or an integer beyond 64 bits, read as one)
  // to an integer unchecked, undefined behaviour out of range.
  if constexpr (std::is_same_v<T, std::int64_t>) {
    if (!entry->is_number_integer() ||
        (entry->is_number_unsigned() &&
         entry->get<std::uint64_t>() >
             static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))) {
      throw Error(fmt::format("{}: loss scaler state '{}' is {}, expected an integer", source, key,
                              entry->dump()));
    }
  }
  try {
    return entry->get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(fmt::format("{}: loss scaler state '{}' is {}, expected a {}", source, key,
                            entry->dump(), std::is_same_v<T, bool> ? "boolean" : "number"));
  }
}

}  // namespace

nlohmann::json loss_scaler_state_to_json(const LossScalerState& state) {
  return {{"enabled", state.enabled}, {"scale", state.scale}, {"good_steps", state.good_steps}};
}

LossScalerState loss_scaler_state_from_json(const nlohmann::json& json, const std::string& source) {
  LossScalerState state;
  state.enabled = json_field<bool>(json, "enabled", source);
  state.scale = json_field<double>(json, "scale", source);
  state.good_steps = json_field<std::int64_t>(json, "good_steps", source);
  return state;
}

}  // namespace loom::run_dir
