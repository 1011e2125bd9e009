// make_adamw: the two-group AdamW described in optimizer.hpp.
#include "loom/train/optimizer.hpp"

#include <tuple>
#include <unordered_set>
#include <utility>

namespace loom::train {

ParameterGroups split_by_weight_decay(torch::nn::Module& module) {
  ParameterGroups groups;
  std::unordered_set<const void*> seen;
  for (const torch::Tensor& parameter : module.parameters()) {
    if (!parameter.requires_grad()) continue;
    if (!seen.insert(parameter.unsafeGetTensorImpl()).second) continue;
    (parameter.dim() >= 2 ? groups.decay : groups.no_decay).push_back(parameter);
  }
  return groups;
}

std::unique_ptr<torch::optim::AdamW> make_adamw(torch::nn::Module& module,
                                                const config::OptimConfig& optim) {
  const auto options = [&optim](double weight_decay) {
    torch::optim::AdamWOptions adamw(optim.lr);
    adamw.betas(std::make_tuple(optim.beta1, optim.beta2))
        .eps(optim.eps)
        .weight_decay(weight_decay);
    return adamw;
  };
  ParameterGroups split = split_by_weight_decay(module);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::move(split.decay),
                      std::make_unique<torch::optim::AdamWOptions>(options(optim.weight_decay)));
  groups.emplace_back(std::move(split.no_decay),
                      std::make_unique<torch::optim::AdamWOptions>(options(0.0)));
  return std::make_unique<torch::optim::AdamW>(std::move(groups), options(optim.weight_decay));
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (torch::optim::OptimizerParamGroup& group : optimizer.param_groups()) {
    group.options().set_lr(lr);
  }
}

}  // namespace loom::train
