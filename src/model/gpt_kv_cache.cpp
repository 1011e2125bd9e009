// GPT's per-layer key/value cache; see gpt_kv_cache.hpp.
#include "gpt_kv_cache.hpp"

#include "decode_feed.hpp"

namespace loom::model {

std::pair<torch::Tensor, torch::Tensor> LayerKvCache::append(const torch::Tensor& k,
                                                             const torch::Tensor& v,
                                                             const DecodeFeed& feed) {
  if (!keys_.defined()) {
    keys_ = torch::zeros({k.size(0), k.size(1), block_size_, k.size(3)}, k.options());
    values_ = torch::zeros_like(keys_);
  }
  if (feed.uniform()) {
    const std::int64_t slot = feed.slot(feed.starts().front());
    keys_.narrow(2, slot, feed.width()).copy_(k);
    values_.narrow(2, slot, feed.width()).copy_(v);
  } else {
    // A copy per row: the rows' positions differ, and a batch has few rows.
    for (std::int64_t row = 0; row < feed.rows(); ++row) {
      const auto index = static_cast<std::size_t>(row);
      const std::int64_t slot = feed.slot(feed.starts()[index]), count = feed.counts()[index];
      keys_[row].narrow(1, slot, count).copy_(k[row].narrow(1, 0, count));
      values_[row].narrow(1, slot, count).copy_(v[row].narrow(1, 0, count));
    }
  }
  const std::int64_t length = feed.key_length();
  return {keys_.narrow(2, 0, length), values_.narrow(2, 0, length)};
}

void LayerKvCache::keep_rows(const torch::Tensor& rows) {
  if (!keys_.defined()) return;
  const torch::Tensor index = rows.to(keys_.device());
  keys_ = keys_.index_select(0, index);
  values_ = values_.index_select(0, index);
}

void GptKvCache::keep_rows(const torch::Tensor& rows) {
  for (LayerKvCache& layer : layers_)
    layer.keep_rows(rows);
}

}  // namespace loom::model
