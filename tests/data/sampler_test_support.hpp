// Helpers shared by the sampler tests: splits over plain vectors, options in
// one call, and Batch comparison and slicing.
#pragma once

#include <cstdint>
#include <numeric>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "loom/data/sampler.hpp"

namespace loom::test {

// A view over `tokens` (which the caller keeps alive) with documents
// starting at `doc_starts`.
template <class T>
data::SplitView view_of(const std::vector<T>& tokens,
                        const std::vector<std::uint64_t>& doc_starts) {
  static_assert(std::is_same_v<T, std::uint8_t> || std::is_same_v<T, std::uint16_t> ||
                std::is_same_v<T, std::uint32_t>);
  data::SplitView view;
  view.dtype = sizeof(T) == 1   ? data::TokenDtype::u8
               : sizeof(T) == 2 ? data::TokenDtype::u16
                                : data::TokenDtype::u32;
  view.tokens = tokens.data();
  view.size = tokens.size();
  view.doc_starts = doc_starts.data();
  view.num_docs = doc_starts.size();
  return view;
}

// Tokens 0, 1, ..., count - 1: each packed window's first input names it.
inline std::vector<std::uint32_t> counting_tokens(std::uint32_t count) {
  std::vector<std::uint32_t> tokens(count);
  std::iota(tokens.begin(), tokens.end(), 0u);
  return tokens;
}

inline data::SamplerOptions sampler_options(
    std::int64_t block_size, std::int64_t global_batch, std::int64_t micro_batch,
    int world_size = 1, int rank = 0, config::WindowMode windows = config::WindowMode::packed) {
  data::SamplerOptions options;
  options.block_size = block_size;
  options.global_batch = global_batch;
  options.micro_batch = micro_batch;
  options.world_size = world_size;
  options.rank = rank;
  options.windows = windows;
  options.seed = 7;
  return options;
}

// Row `row` of a [rows x cols] array.
inline std::vector<std::int64_t> row_of(const std::vector<std::int64_t>& values,
                                        const data::Batch& batch, std::int64_t row) {
  const auto begin = values.begin() + row * batch.cols;
  return std::vector<std::int64_t>(begin, begin + batch.cols);
}

// The rows of `parts`, one after another, as one batch.
inline data::Batch concatenate(const std::vector<data::Batch>& parts) {
  data::Batch all;
  for (const data::Batch& part : parts) {
    all.rows += part.rows;
    all.cols = part.cols;
    all.inputs.insert(all.inputs.end(), part.inputs.begin(), part.inputs.end());
    all.targets.insert(all.targets.end(), part.targets.begin(), part.targets.end());
    all.sample_ids.insert(all.sample_ids.end(), part.sample_ids.begin(), part.sample_ids.end());
  }
  return all;
}

inline void expect_same_batch(const data::Batch& actual, const data::Batch& expected) {
  EXPECT_EQ(actual.rows, expected.rows);
  EXPECT_EQ(actual.cols, expected.cols);
  EXPECT_EQ(actual.sample_ids, expected.sample_ids);
  EXPECT_EQ(actual.inputs, expected.inputs);
  EXPECT_EQ(actual.targets, expected.targets);
}

}  // namespace loom::test
