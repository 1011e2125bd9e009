// FeistelPermutation: a keyed bijection on [0, size) that needs no table, so
// the sampler can shuffle billions of windows in O(1) memory.
//
// A value in [0, 4^h) is split into two h-bit halves (L, R); each round maps
// (L, R) to (R, L xor F_i(R)), which is invertible whatever F_i is, so the
// whole network is a bijection of [0, 4^h). F_i hashes R with round i's key.
// A result at or past `size` goes through the network again (cycle
// walking): the cycle through a point inside [0, size) returns inside, so
// the walk ends, and "the next point of the cycle inside [0, size)" is itself
// a bijection of [0, size).
#include <algorithm>

#include <fmt/format.h>

#include "loom/core/error.hpp"
#include "loom/core/mix.hpp"
#include "loom/data/sampler.hpp"

namespace loom::data {

FeistelPermutation::FeistelPermutation(std::uint64_t size, std::uint64_t seed) : size_(size) {
  if (size == 0) throw UsageError("a permutation needs a size of at least 1 (got 0)");
  // Bits needed for the largest value, size - 1, shared evenly by the halves;
  // at least one bit each so sizes 1..4 still get a real network.
  unsigned value_bits = 0;
  for (std::uint64_t rest = size - 1; rest != 0; rest >>= 1)
    ++value_bits;
  half_bits_ = std::max(1u, (value_bits + 1) / 2);
  half_mask_ = (std::uint64_t{1} << half_bits_) - 1;  // half_bits_ <= 32: no overflow
  for (int round = 0; round < kRounds; ++round)
    round_keys_[round] = mix_keys(seed, static_cast<std::uint64_t>(round));
}

std::uint64_t FeistelPermutation::network(std::uint64_t value) const {
  std::uint64_t left = value >> half_bits_;
  std::uint64_t right = value & half_mask_;
  for (const std::uint64_t key : round_keys_) {
    // The top bits of the mix are its best mixed; take h of them.
    const std::uint64_t round_value = mix64(right ^ key) >> (64 - half_bits_);
    const std::uint64_t next_right = left ^ round_value;
    left = right;
    right = next_right;
  }
  return (left << half_bits_) | right;
}

std::uint64_t FeistelPermutation::operator()(std::uint64_t index) const {
  if (index >= size_) {
    throw Error(fmt::format("permutation index {} is outside [0, {})", index, size_));
  }
  std::uint64_t value = network(index);
  while (value >= size_)
    value = network(value);
  return value;
}

}  // namespace loom::data
