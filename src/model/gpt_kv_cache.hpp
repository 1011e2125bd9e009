// GPT's decode cache: for every layer, the keys and values of each row's
// positions so far, so that a new id's attention reads them instead of
// recomputing the whole window. Private to the model library.
//
// Memory: 2 x n_layer x block_size x n_embd floats per row, allocated at the
// first decode (shakespeare_char's 6 x 384 with block 256: 4.7 MB a row;
// GPT-2 small's 12 x 768 with block 1024: 75 MB).
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "loom/model/decode_state.hpp"

namespace loom::model {

class DecodeFeed;

// One layer's share.
class LayerKvCache {
 public:
  explicit LayerKvCache(std::int64_t block_size) : block_size_(block_size) {}

  // Stores k and v [rows, n_head, width, head_width] of the feed's new ids
  // in the slots of each row's positions [start, start + count) (padding
  // columns are not stored), and returns the keys and values of slots
  // [0, feed.key_length()): [rows, n_head, key_length, head_width] each.
  // Rotary keys are stored rotated, so a slid row's slots need nothing but
  // the new id's key.
  std::pair<torch::Tensor, torch::Tensor> append(const torch::Tensor& k, const torch::Tensor& v,
                                                 const DecodeFeed& feed);

  void keep_rows(const torch::Tensor& rows);

 private:
  std::int64_t block_size_;
  // [rows, n_head, block_size, head_width], zero where nothing was written
  // yet (attention never reads there, but zeros keep padding finite).
  torch::Tensor keys_;
  torch::Tensor values_;
};

class GptKvCache : public DecodeCache {
 public:
  GptKvCache(std::int64_t n_layer, std::int64_t block_size)
      : layers_(static_cast<std::size_t>(n_layer), LayerKvCache(block_size)) {}

  LayerKvCache& layer(std::size_t index) { return layers_.at(index); }
  void keep_rows(const torch::Tensor& rows) override;

 private:
  std::vector<LayerKvCache> layers_;
};

}  // namespace loom::model
