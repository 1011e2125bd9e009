#include "loom/dist/communicator.hpp"

#include <torch/torch.h>

namespace loom::dist {

bool Communicator::any(bool flag) {
  const torch::Tensor value = torch::full({1}, flag ? 1.0 : 0.0, torch::kFloat64);
  all_reduce(value, ReduceOp::sum);
  return value.item<double>() > 0;
}

double Communicator::sum(double value) {
  const torch::Tensor buffer = torch::full({1}, value, torch::kFloat64);
  all_reduce(buffer, ReduceOp::sum);
  return buffer.item<double>();
}

std::vector<std::int64_t> Communicator::all_gather(std::int64_t value) {
  // Each rank fills its own slot of a zero vector; a sum gathers them.
  // float64 holds integers exactly up to 2^53, so values are split in two
  // 32-bit halves.
  const torch::Tensor slots = torch::zeros({size(), 2}, torch::kFloat64);
  const auto bits = static_cast<std::uint64_t>(value);
  slots[rank()][0] = static_cast<double>(bits >> 32);
  slots[rank()][1] = static_cast<double>(bits & 0xffffffffULL);
  all_reduce(slots, ReduceOp::sum);
  std::vector<std::int64_t> values;
  for (int r = 0; r < size(); ++r) {
    const auto high = static_cast<std::uint64_t>(slots[r][0].item<double>());
    const auto low = static_cast<std::uint64_t>(slots[r][1].item<double>());
    values.push_back(static_cast<std::int64_t>((high << 32) | low));
  }
  return values;
}

}  // namespace loom::dist
