// AdamW's state across LibTorch versions; see adamw_state.hpp.
#include "adamw_state.hpp"

#include <map>
#include <memory>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "loom/core/torch_compat.hpp"
#include "loom/run_dir/checkpoint_store.hpp"

namespace loom::run_dir {
namespace {

std::string shape_of(const torch::Tensor& tensor) {
  return fmt::format("[{}]", fmt::join(tensor.sizes(), ", "));
}

std::int64_t read_count(torch::serialize::InputArchive& archive, const std::string& key) {
  torch::Tensor count;
  archive.read(key, count);
  return count.item<std::int64_t>();
}

}  // namespace

void read_adamw_state(torch::serialize::InputArchive& archive, torch::optim::AdamW& optimizer,
                      const std::string& source) {
  // The layout of torch::optim::serialize(), unchanged from 1.5 to 2.11.
  c10::IValue layout;
  archive.read("pytorch_version", layout);
  if (!layout.isString() || layout.toStringRef() != "1.5.0") {
    throw CheckpointError(
        fmt::format("{}: not an optimizer state in the layout LibTorch writes (version tag {})",
                    source, layout.isString() ? layout.toStringRef() : "missing"));
  }

  torch::serialize::InputArchive saved_states;
  archive.read("state", saved_states);
  std::map<std::string, torch::optim::AdamWParamState> states_by_name;
  for (const std::string& name : saved_states.keys()) {
    torch::serialize::InputArchive one;
    saved_states.read(name, one);
    torch::optim::AdamWParamState state;
    state.serialize(one);
    states_by_name.emplace(name, state);
  }

  // Everything is checked before the optimizer's state is touched.
  torch::serialize::InputArchive groups;
  archive.read("param_groups", groups);
  const std::int64_t group_count = read_count(groups, "param_groups/size");
  if (group_count != static_cast<std::int64_t>(optimizer.param_groups().size())) {
    throw CheckpointError(fmt::format("{}: holds {} parameter groups; the optimizer has {}", source,
                                      group_count, optimizer.param_groups().size()));
  }
  std::vector<std::pair<torch::Tensor, const torch::optim::AdamWParamState*>> restored;
  for (std::int64_t g = 0; g < group_count; ++g) {
    torch::serialize::InputArchive group;
    groups.read("param_groups/" + std::to_string(g), group);
    const std::vector<torch::Tensor>& parameters =
        optimizer.param_groups()[static_cast<std::size_t>(g)].params();
    const std::int64_t count = read_count(group, "params/size");
    if (count != static_cast<std::int64_t>(parameters.size())) {
      throw CheckpointError(
          fmt::format("{}: parameter group {} holds {} parameters; the optimizer's has {}", source,
                      g, count, parameters.size()));
    }
    for (std::int64_t i = 0; i < count; ++i) {
      c10::IValue name;
      group.read("params/" + std::to_string(i), name);
      const auto found = states_by_name.find(name.toStringRef());
      if (found == states_by_name.end()) continue;  // no step had touched it
      const torch::Tensor& parameter = parameters[static_cast<std::size_t>(i)];
      if (found->second.exp_avg().sizes() != parameter.sizes()) {
        throw CheckpointError(fmt::format(
            "{}: parameter {} of group {} has moments of shape {}; the parameter's is {}", source,
            i, g, shape_of(found->second.exp_avg()), shape_of(parameter)));
      }
      restored.emplace_back(parameter, &found->second);
    }
  }

  optimizer.state().clear();
  for (const auto& [parameter, saved] : restored) {
    auto state = std::make_unique<torch::optim::AdamWParamState>(*saved);
    // On the parameter's device, wherever the run that saved it trained.
    state->exp_avg(state->exp_avg().to(parameter.device()));
    state->exp_avg_sq(state->exp_avg_sq().to(parameter.device()));
    if (state->max_exp_avg_sq().defined())
      state->max_exp_avg_sq(state->max_exp_avg_sq().to(parameter.device()));
    optimizer.state()[torch_compat::optimizer_state_key(parameter)] = std::move(state);
  }
}

}  // namespace loom::run_dir
