#include "loom/model/dropout_generator.hpp"

#include <torch/torch.h>

namespace loom::model {
namespace {

thread_local at::Generator* current_generator = nullptr;

}  // namespace

DropoutGeneratorScope::DropoutGeneratorScope(at::Generator generator)
    : previous_(current_generator), generator_(std::move(generator)) {
  current_generator = &generator_;
}

DropoutGeneratorScope::~DropoutGeneratorScope() {
  current_generator = previous_;
}

at::Generator* dropout_generator() {
  return current_generator;
}

torch::Tensor maybe_dropout(const torch::Tensor& x, double rate, bool training) {
  if (rate == 0.0 || !training) return x;
  at::Generator* generator = current_generator;
  if (generator == nullptr) return torch::dropout(x, rate, /*train=*/true);
  // What torch's dropout computes, with the mask drawn from our generator:
  // keep each element with probability 1 - rate, scale the kept by 1 / (1 - rate).
  const torch::Tensor keep = at::empty_like(x).bernoulli_(1.0 - rate, *generator);
  return x * keep.div_(1.0 - rate);
}

}  // namespace loom::model
