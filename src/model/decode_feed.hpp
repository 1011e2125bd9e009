// What one LanguageModel::decode() call hands a family: each row's new ids,
// right-padded into one [rows, width] tensor, and each row's `start`, the
// position of its first new id (after `start` ids already in its cache; 0
// when the row starts afresh). Private to the model library.
//
// A cache has block_size slots per row; position p lives in slot
// p % block_size. Positions stay below block_size, except for a family whose
// cache slides (LanguageModel::cache_slides): there a row whose window is
// full takes one new id at a time at its next position, block_size or more,
// into the slot of the oldest id, and sees every slot; and a row may take no
// id in a call (its count is 0) while the others go on, when one call's ids
// are fed in several (LanguageModel::decode). Such a row's results are
// meaningless, and finite.
#pragma once

#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace loom::model {

class DecodeFeed {
 public:
  // Pads each row's new ids (at least one) into tokens(); `starts` gives
  // each row's start.
  DecodeFeed(const std::vector<const std::vector<std::int64_t>*>& new_ids,
             std::vector<std::int64_t> starts, std::int64_t block_size,
             const torch::Device& device);

  // [rows, width] int64 on the model's device: row r's new ids in columns
  // [0, counts()[r]), then <pad>.
  const torch::Tensor& tokens() const { return tokens_; }
  std::int64_t rows() const { return static_cast<std::int64_t>(counts_.size()); }
  std::int64_t width() const { return tokens_.size(1); }
  const std::vector<std::int64_t>& starts() const { return starts_; }  // first new positions
  const std::vector<std::int64_t>& counts() const { return counts_; }  // new ids, >= 0
  std::int64_t slot(std::int64_t position) const { return position % block_size_; }

  // Every row has the same start and the same number of new ids: no
  // padding. One row always is, and so are rows decoded in lockstep; the
  // methods below then take short paths (a slice for a gather, one mask for
  // all rows), which is what keeps a small model's step cheap.
  bool uniform() const { return uniform_; }

  // The cache slots a row reads after this call, the longest row's:
  // max(start + count), at most block_size.
  std::int64_t key_length() const;

  // [rows, width] int64: start + column, the position of each new id.
  // Padding's positions are clamped to `max_position` so that they index
  // a position table safely (their results are never used).
  torch::Tensor positions(std::int64_t max_position) const;

  // The additive attention mask of the new ids over key slots
  // [0, key_length()): 0 up to a new id's own position, -inf after it (a
  // row past block_size sees every slot).
  // [rows, 1, width, key_length()], or [1, 1, width, key_length()] when
  // uniform(); with `last_ids_only`, the row of each row's last new id only
  // (width 1). A padding column sees what its row's last new id sees, so no
  // query looks only at unwritten keys.
  torch::Tensor attention_bias(const torch::TensorOptions& options, bool last_ids_only) const;

  // Row r's entry at column counts()[r] - 1 (its last new id; column 0 for
  // a row without one) of a [rows, width, ...] tensor: [rows, ...].
  torch::Tensor at_last_ids(const torch::Tensor& per_column) const;

 private:
  torch::Tensor tokens_;
  std::vector<std::int64_t> starts_;
  // [rows] int64 on `device`: each row's last new id's column, 0 without one.
  torch::Tensor last_columns(const torch::Device& device) const;

  std::vector<std::int64_t> counts_;
  std::int64_t block_size_;
  bool uniform_ = true;
};

}  // namespace loom::model
