// What a model keeps between the steps of incremental decoding (generation),
// for several independent sequences ("rows") at once: each row's window of
// ids (its last context_length() ids at most), and, when decoding is cached, the
// family's per-row cache: GPT's keys and values of every layer, the LSTM's
// (h, c). LanguageModel::start_decoding() makes one and
// LanguageModel::decode() advances it (language_model.hpp says how the window
// slides and what that costs).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <torch/types.h>

namespace loom::model {

class LanguageModel;

enum class DecodeMode {
  // Keep the family's cache: the prompt is read in one forward pass, then
  // each new id costs one position's worth of work while the window has room.
  cached,
  // Keep only the ids; every decode() runs forward() over each row's whole
  // window. The reference the cache is tested against, and the baseline of
  // bench/generate_bench.cpp.
  recompute,
};

// A family's cached state for every row; implemented next to each family.
class DecodeCache {
 public:
  virtual ~DecodeCache() = default;
  // Keeps rows `rows` (int64 indices into the current rows) in that order.
  virtual void keep_rows(const torch::Tensor& rows) = 0;
};

class DecodeState {
 public:
  DecodeState(DecodeState&&) noexcept;
  DecodeState& operator=(DecodeState&&) noexcept;
  ~DecodeState();

  std::int64_t rows() const { return static_cast<std::int64_t>(windows_.size()); }
  DecodeMode mode() const { return cache_ ? DecodeMode::cached : DecodeMode::recompute; }

  // The ids row `row`'s next logits are conditioned on: everything decoded
  // for it so far, or its last context_length() ids once it is longer.
  const std::vector<std::int64_t>& window(std::int64_t row) const;

  // Keeps only `rows` (indices into the current rows), in that order, e.g. to
  // drop sequences that are finished so they cost nothing more. Throws
  // loom::Error for an index out of range.
  void keep_rows(const std::vector<std::int64_t>& rows);

 private:
  friend class LanguageModel;
  DecodeState(const LanguageModel& model, std::int64_t rows, std::unique_ptr<DecodeCache> cache);

  const LanguageModel* model_;  // the model that made it: decode() refuses any other
  std::vector<std::vector<std::int64_t>> windows_;
  // Each row's next id's position since its cache last restarted: the
  // window's length, or past block_size once a sliding cache has slid.
  std::vector<std::int64_t> next_positions_;
  std::unique_ptr<DecodeCache> cache_;  // null in DecodeMode::recompute
};

}  // namespace loom::model
