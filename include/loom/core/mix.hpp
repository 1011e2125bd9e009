// Integer mixing for every seeded decision in Loom: the sampler's
// permutations (Feistel round keys, per-epoch seeds, the evaluation seed) and
// prepare's train/val assignment of documents. One place decides how seeds
// spread, so orders and splits stay reproducible.
#pragma once

#include <cstdint>

namespace loom {

// splitmix64's output function: a bijection on 64-bit words in which each
// input bit flips about half of the output bits.
inline std::uint64_t mix64(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// A key for the pair (key, value): different pairs give unrelated keys, and
// (a, b) differs from (b, a). The offset keeps value 0 from mixing to 0,
// which would leave the key unchanged.
inline std::uint64_t mix_keys(std::uint64_t key, std::uint64_t value) {
  return mix64(key ^ mix64(value + 0x9e3779b97f4a7c15ULL));
}

}  // namespace loom
