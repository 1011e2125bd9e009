// Rotary position embeddings; see rotary.hpp.
#include "rotary.hpp"

namespace loom::model {

RotaryAngles rotary_angles(const torch::Tensor& positions, std::int64_t head_width, double base) {
  const auto double_options = torch::TensorOptions(torch::kDouble).device(positions.device());
  // base^(-2d / D) for the pairs d = 0 .. D/2 - 1, repeated for both halves.
  const torch::Tensor inverse_frequency =
      torch::pow(base,
                 torch::arange(0, head_width, 2, double_options) / static_cast<double>(head_width))
          .reciprocal();
  const torch::Tensor half = positions.to(torch::kDouble).unsqueeze(-1) * inverse_frequency;
  torch::Tensor angle = torch::cat({half, half}, -1);  // [..., T, D]
  // [T, D] -> [1, 1, T, D]; [rows, T, D] -> [rows, 1, T, D].
  angle = angle.dim() == 2 ? angle.view({1, 1, angle.size(0), angle.size(1)}) : angle.unsqueeze(1);
  return {angle.cos().to(torch::kFloat), angle.sin().to(torch::kFloat)};
}

torch::Tensor apply_rotary(const torch::Tensor& x, const RotaryAngles& angles) {
  const std::int64_t half = x.size(-1) / 2;
  const torch::Tensor rotated_half =
      torch::cat({x.narrow(-1, half, half).neg(), x.narrow(-1, 0, half)}, -1);
  return x * angles.cos + rotated_half * angles.sin;
}

}  // namespace loom::model
