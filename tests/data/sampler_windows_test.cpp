// What a Batch holds: packed windows are exact slices of the split, document
// windows stay inside one document and pad short ones, and every token
// width reads back the same values.
#include <cstdint>
#include <map>
#include <vector>

#include "sampler_test_support.hpp"
#include <gtest/gtest.h>

#include "loom/data/sampler.hpp"

namespace loom::data {
namespace {

using namespace loom::test;

using config::WindowMode;

struct Row {
  std::vector<std::int64_t> inputs;
  std::vector<std::int64_t> targets;
};

// The rows of `batch` keyed by the window each one reads.
std::map<std::uint64_t, Row> rows_by_window(const BatchSampler& sampler, const Batch& batch) {
  std::map<std::uint64_t, Row> rows;
  for (std::int64_t row = 0; row < batch.rows; ++row) {
    const std::uint64_t window = sampler.window_of(batch.sample_ids[row]);
    EXPECT_EQ(rows.count(window), 0u) << "window " << window << " read twice";
    rows[window] = {row_of(batch.inputs, batch, row), row_of(batch.targets, batch, row)};
  }
  return rows;
}

void expect_row(const std::map<std::uint64_t, Row>& rows, std::uint64_t window,
                const std::vector<std::int64_t>& inputs, const std::vector<std::int64_t>& targets) {
  ASSERT_EQ(rows.count(window), 1u) << "window " << window << " missing";
  EXPECT_EQ(rows.at(window).inputs, inputs) << "window " << window;
  EXPECT_EQ(rows.at(window).targets, targets) << "window " << window;
}

TEST(SamplerWindows, PackedWindowsAreSlicesOfTheSplit) {
  const std::vector<std::uint16_t> tokens = {5, 3, 8, 1, 9, 2, 7};
  // Packed windows ignore documents, so these starts change nothing.
  const BatchSampler sampler(view_of(tokens, {0, 2, 5}), sampler_options(3, 4, 4));
  ASSERT_EQ(sampler.num_windows(), 4u);
  const Batch batch = sampler.batch(0, 0);  // one whole epoch
  EXPECT_EQ(batch.rows, 4);
  EXPECT_EQ(batch.cols, 3);
  const std::map<std::uint64_t, Row> rows = rows_by_window(sampler, batch);
  expect_row(rows, 0, {5, 3, 8}, {3, 8, 1});
  expect_row(rows, 1, {3, 8, 1}, {8, 1, 9});
  expect_row(rows, 2, {8, 1, 9}, {1, 9, 2});
  expect_row(rows, 3, {1, 9, 2}, {9, 2, 7});
}

TEST(SamplerWindows, DocumentWindowsStayInsideDocumentsAndPadShortOnes) {
  // Documents: [1] (too short), [11..15] (2 windows), [21 22] (padded), an
  // empty one, [31] (too short), [41 42 43] (padded), [51..54] (exactly one
  // whole window).
  const std::vector<std::uint32_t> tokens = {1,  11, 12, 13, 14, 15, 21, 22,
                                             31, 41, 42, 43, 51, 52, 53, 54};
  const std::vector<std::uint64_t> doc_starts = {0, 1, 6, 8, 8, 9, 12};
  const BatchSampler sampler(view_of(tokens, doc_starts),
                             sampler_options(3, 5, 5, 1, 0, WindowMode::document));
  ASSERT_EQ(sampler.num_windows(), 5u);
  const std::map<std::uint64_t, Row> rows = rows_by_window(sampler, sampler.batch(0, 0));
  const std::int64_t pad = text::kPadId;
  expect_row(rows, 0, {11, 12, 13}, {12, 13, 14});
  expect_row(rows, 1, {12, 13, 14}, {13, 14, 15});
  expect_row(rows, 2, {21, pad, pad}, {22, -1, -1});
  expect_row(rows, 3, {41, 42, pad}, {42, 43, -1});
  expect_row(rows, 4, {51, 52, 53}, {52, 53, 54});
}

TEST(SamplerWindows, ADocumentSplitHasNoCrossingWindow) {
  // Document d holds tokens 100 * (d + 1) + i: a window crossing a boundary
  // would mix hundreds.
  std::vector<std::uint32_t> tokens;
  std::vector<std::uint64_t> doc_starts;
  for (std::uint32_t doc = 0; doc < 12; ++doc) {
    doc_starts.push_back(tokens.size());
    for (std::uint32_t i = 0; i < doc * 3 % 11; ++i)
      tokens.push_back(100 * (doc + 1) + i);
  }
  const BatchSampler sampler(view_of(tokens, doc_starts),
                             sampler_options(6, 4, 2, 1, 0, WindowMode::document));
  for (std::int64_t step = 0; step < 10; ++step) {
    for (std::int64_t micro = 0; micro < 2; ++micro) {
      const Batch batch = sampler.batch(step, micro);
      for (std::int64_t row = 0; row < batch.rows; ++row) {
        const std::int64_t document = batch.inputs[row * batch.cols] / 100;
        for (std::int64_t col = 0; col < batch.cols; ++col) {
          const std::int64_t input = batch.inputs[row * batch.cols + col];
          const std::int64_t target = batch.targets[row * batch.cols + col];
          if (target == -1) {
            EXPECT_EQ(input, text::kPadId);
            continue;
          }
          EXPECT_EQ(input / 100, document);
          EXPECT_EQ(target, input + 1);  // the next token of the same document
        }
      }
    }
  }
}

// The same small example through one token width.
template <class T>
void expect_width_reads(std::uint32_t largest) {
  const std::vector<T> tokens = {0, static_cast<T>(largest), 7, 255, 1};
  const BatchSampler sampler(view_of(tokens, {0}), sampler_options(2, 3, 3));
  const std::map<std::uint64_t, Row> rows = rows_by_window(sampler, sampler.batch(0, 0));
  expect_row(rows, 0, {0, largest}, {largest, 7});
  expect_row(rows, 1, {largest, 7}, {7, 255});
  expect_row(rows, 2, {7, 255}, {255, 1});
}

TEST(SamplerWindows, EveryTokenWidthReadsItsTokens) {
  expect_width_reads<std::uint8_t>(200);
  expect_width_reads<std::uint16_t>(65535);
  expect_width_reads<std::uint32_t>(4294967295u);
}

}  // namespace
}  // namespace loom::data
