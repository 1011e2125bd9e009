// Rotary position embeddings (RoFormer, Su et al. 2021) as Llama lays them
// out: a head's channels d and d + D/2 form a pair that turns by the angle
// position x base^(-2d / D), D the head width. Rotating queries and keys
// makes q(m) . k(n) depend on m - n alone, so keys rotated once by their
// absolute position stay valid however far decoding goes: the decode
// cache slides past block_size without recomputing anything. Private to the
// model library.
#pragma once

#include <cstdint>

#include <torch/torch.h>

namespace loom::model {

// cos and sin of every channel's angle at some positions: [..., T, D],
// broadcasting against a head tensor [B, H, T, D].
struct RotaryAngles {
  torch::Tensor cos;
  torch::Tensor sin;
};

// The angles at `positions` (int64 [T] or [rows, T]; any value >= 0, also
// past block_size), as float32 on the positions' device: [1, 1, T, D] or
// [rows, 1, T, D]. Computed in double so that a position in the thousands
// turns as exactly as one near 0.
RotaryAngles rotary_angles(const torch::Tensor& positions, std::int64_t head_width, double base);

// x [B, H, T, D] rotated by `angles`: x cos + rotate_half(x) sin, where
// rotate_half(x) = [-x[D/2:], x[:D/2]]. Returns float32 or x's dtype,
// whichever is wider.
torch::Tensor apply_rotary(const torch::Tensor& x, const RotaryAngles& angles);

}  // namespace loom::model
