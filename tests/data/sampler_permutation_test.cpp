// FeistelPermutation: a bijection for every small size, deterministic,
// seed-dependent, and usable at sizes far beyond memory.
#include <cstdint>
#include <limits>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "loom/core/error.hpp"
#include "loom/data/sampler.hpp"

namespace loom::data {
namespace {

std::vector<std::uint64_t> all_values(std::uint64_t size, std::uint64_t seed) {
  const FeistelPermutation permutation(size, seed);
  std::vector<std::uint64_t> values(size);
  for (std::uint64_t i = 0; i < size; ++i)
    values[i] = permutation(i);
  return values;
}

TEST(FeistelPermutation, IsABijectionForEverySizeUpTo300) {
  for (const std::uint64_t seed : {0ULL, 1ULL, 1337ULL, 0xffffffffffffffffULL}) {
    for (std::uint64_t size = 1; size <= 300; ++size) {
      std::vector<bool> seen(size, false);
      for (const std::uint64_t value : all_values(size, seed)) {
        ASSERT_LT(value, size) << "size " << size << " seed " << seed;
        ASSERT_FALSE(seen[value]) << "size " << size << " seed " << seed << " value " << value;
        seen[value] = true;
      }
    }
  }
}

TEST(FeistelPermutation, IsDeterministic) {
  EXPECT_EQ(all_values(1000, 42), all_values(1000, 42));
  const FeistelPermutation permutation(1000, 42);
  EXPECT_EQ(permutation.size(), 1000u);
  EXPECT_EQ(permutation(123), permutation(123));
}

TEST(FeistelPermutation, DependsOnTheSeedAndShuffles) {
  const std::vector<std::uint64_t> a = all_values(1000, 1);
  const std::vector<std::uint64_t> b = all_values(1000, 2);
  int same_position = 0;
  int fixed_points = 0;
  int ascending_neighbours = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    same_position += a[i] == b[i];
    fixed_points += a[i] == i;
    if (i > 0) ascending_neighbours += a[i] == a[i - 1] + 1;
  }
  // A random permutation of 1000 expects about 1 of each; a broken mixer
  // (identity, rotation, stride) gives hundreds.
  EXPECT_LT(same_position, 10);
  EXPECT_LT(fixed_points, 10);
  EXPECT_LT(ascending_neighbours, 10);
}

TEST(FeistelPermutation, SmallestSizesAreValid) {
  EXPECT_EQ(all_values(1, 9), std::vector<std::uint64_t>{0});
  const std::vector<std::uint64_t> two = all_values(2, 9);
  EXPECT_EQ(std::set<std::uint64_t>(two.begin(), two.end()), (std::set<std::uint64_t>{0, 1}));
  const std::vector<std::uint64_t> three = all_values(3, 9);
  EXPECT_EQ(std::set<std::uint64_t>(three.begin(), three.end()),
            (std::set<std::uint64_t>{0, 1, 2}));
}

TEST(FeistelPermutation, HandlesHugeSizes) {
  for (const std::uint64_t size : {std::uint64_t{1} << 62, (std::uint64_t{1} << 62) + 1,
                                   std::numeric_limits<std::uint64_t>::max()}) {
    const FeistelPermutation permutation(size, 5);
    std::set<std::uint64_t> values;
    for (std::uint64_t i = 0; i < 1000; ++i) {
      const std::uint64_t value = permutation(size - 1 - i);
      EXPECT_LT(value, size);
      values.insert(value);
    }
    EXPECT_EQ(values.size(), 1000u) << "size " << size;
  }
}

TEST(FeistelPermutation, RejectsSizeZeroAndIndicesOutside) {
  try {
    FeistelPermutation(0, 1);
    FAIL() << "size 0 was accepted";
  } catch (const UsageError& error) {
    EXPECT_STREQ(error.what(), "a permutation needs a size of at least 1 (got 0)");
  }
  try {
    FeistelPermutation(10, 1)(10);
    FAIL() << "index 10 was accepted";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "permutation index 10 is outside [0, 10)");
  }
}

}  // namespace
}  // namespace loom::data
