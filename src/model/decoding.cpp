// Incremental decoding common to every family: the decode state's windows,
// the sliding window (which rows restart), the padded feed, and the
// recompute path that runs forward() over whole windows.
#include <algorithm>
#include <limits>
#include <utility>

#include "decode_feed.hpp"
#include <fmt/format.h>

#include "loom/core/error.hpp"
#include "loom/model/decode_state.hpp"
#include "loom/model/language_model.hpp"

namespace loom::model {

// --- DecodeFeed ---------------------------------------------------------------

DecodeFeed::DecodeFeed(const std::vector<const std::vector<std::int64_t>*>& new_ids,
                       std::vector<std::int64_t> starts, std::int64_t block_size,
                       const torch::Device& device)
    : starts_(std::move(starts)), block_size_(block_size) {
  std::size_t width = 0;
  for (std::size_t row = 0; row < new_ids.size(); ++row) {
    counts_.push_back(static_cast<std::int64_t>(new_ids[row]->size()));
    width = std::max(width, new_ids[row]->size());
    uniform_ = uniform_ && starts_[row] == starts_[0] && counts_[row] == counts_[0];
  }
  // <pad> is id 0 in every tokenizer (text/tokenizer.hpp).
  torch::Tensor padded = torch::zeros(
      {static_cast<std::int64_t>(new_ids.size()), static_cast<std::int64_t>(width)}, torch::kLong);
  auto rows = padded.accessor<std::int64_t, 2>();
  for (std::size_t row = 0; row < new_ids.size(); ++row) {
    std::copy(new_ids[row]->begin(), new_ids[row]->end(), &rows[row][0]);
  }
  tokens_ = padded.to(device);
}

std::int64_t DecodeFeed::key_length() const {
  std::int64_t length = 0;
  for (std::size_t row = 0; row < counts_.size(); ++row)
    length = std::max(length, starts_[row] + counts_[row]);
  return std::min(length, block_size_);
}

torch::Tensor DecodeFeed::positions(std::int64_t max_position) const {
  const auto options = torch::TensorOptions(torch::kLong).device(tokens_.device());
  const torch::Tensor first = torch::tensor(starts_, torch::kLong).to(tokens_.device());
  return (first.unsqueeze(1) + torch::arange(width(), options)).clamp_max(max_position);
}

torch::Tensor DecodeFeed::attention_bias(const torch::TensorOptions& options,
                                         bool last_ids_only) const {
  const double hidden = -std::numeric_limits<double>::infinity();
  if (uniform_) {
    // Column i sits at position start + i and sees keys up to it: -inf from
    // diagonal start + 1 on (explicit attention's mask when start is 0;
    // nothing for a row past block_size).
    torch::Tensor bias =
        torch::full({width(), key_length()}, hidden, options).triu_(starts_.front() + 1);
    if (last_ids_only) bias = bias.narrow(0, width() - 1, 1);
    return bias.view({1, 1, bias.size(0), bias.size(1)});
  }
  const auto long_options = torch::TensorOptions(torch::kLong).device(tokens_.device());
  const torch::Tensor first = torch::tensor(starts_, torch::kLong).to(tokens_.device());
  const torch::Tensor last_column = last_columns(tokens_.device());
  // The last key position each column may see: its own, or for padding its
  // row's last new id's (past block_size: beyond every slot).
  const torch::Tensor columns = torch::arange(width(), long_options).unsqueeze(0);
  const torch::Tensor last_visible = first.unsqueeze(1) + columns.minimum(last_column.unsqueeze(1));
  const torch::Tensor keys = torch::arange(key_length(), long_options).view({1, 1, -1});
  torch::Tensor hidden_keys = keys > last_visible.unsqueeze(2);  // [rows, width, key_length]
  if (last_ids_only) hidden_keys = at_last_ids(hidden_keys).unsqueeze(1);
  return torch::zeros(hidden_keys.sizes(), options).masked_fill_(hidden_keys, hidden).unsqueeze(1);
}

torch::Tensor DecodeFeed::at_last_ids(const torch::Tensor& per_column) const {
  if (uniform_) return per_column.select(1, width() - 1);
  const torch::Tensor last_column = last_columns(per_column.device());
  const torch::Tensor row = torch::arange(rows(), last_column.options());
  return per_column.index({row, last_column});
}

torch::Tensor DecodeFeed::last_columns(const torch::Device& device) const {
  // A row without new ids reads column 0, padding: finite, and ignored.
  return (torch::tensor(counts_, torch::kLong) - 1).clamp_min_(0).to(device);
}

// --- DecodeState -------------------------------------------------------------

DecodeState::DecodeState(const LanguageModel& model, std::int64_t rows,
                         std::unique_ptr<DecodeCache> cache)
    : model_(&model),
      windows_(static_cast<std::size_t>(rows)),
      next_positions_(static_cast<std::size_t>(rows), 0),
      cache_(std::move(cache)) {}

DecodeState::DecodeState(DecodeState&&) noexcept = default;
DecodeState& DecodeState::operator=(DecodeState&&) noexcept = default;
DecodeState::~DecodeState() = default;

const std::vector<std::int64_t>& DecodeState::window(std::int64_t row) const {
  if (row < 0 || row >= rows())
    throw Error(fmt::format("decode state: row {} does not exist, it has {}", row, rows()));
  return windows_[static_cast<std::size_t>(row)];
}

void DecodeState::keep_rows(const std::vector<std::int64_t>& rows_to_keep) {
  std::vector<std::vector<std::int64_t>> kept;
  std::vector<std::int64_t> kept_positions;
  for (std::int64_t row : rows_to_keep) {
    kept.push_back(window(row));
    kept_positions.push_back(next_positions_[static_cast<std::size_t>(row)]);
  }
  windows_ = std::move(kept);
  next_positions_ = std::move(kept_positions);
  if (cache_) cache_->keep_rows(torch::tensor(rows_to_keep, torch::kLong));
}

// --- LanguageModel's decoding ------------------------------------------------

DecodeState LanguageModel::start_decoding(std::int64_t rows, DecodeMode mode) const {
  if (rows < 1) throw UsageError(fmt::format("decode: expected at least 1 row, got {}", rows));
  return DecodeState(*this, rows, mode == DecodeMode::cached ? make_decode_cache() : nullptr);
}

torch::Tensor LanguageModel::decode(DecodeState& state,
                                    const std::vector<std::vector<std::int64_t>>& ids) {
  if (state.model_ != this) throw Error("decode: the decode state was started by another model");
  if (static_cast<std::int64_t>(ids.size()) != state.rows()) {
    throw Error(fmt::format("decode: got new ids for {} rows, the decode state has {}", ids.size(),
                            state.rows()));
  }
  for (std::size_t row = 0; row < ids.size(); ++row) {
    if (ids[row].empty()) throw Error(fmt::format("decode: row {} got no new ids", row));
    for (std::int64_t id : ids[row]) {
      if (id < 0 || id >= vocab_size_) {
        throw Error(fmt::format("decode: row {} got id {}, expected an id in [0, {})", row, id,
                                vocab_size_));
      }
    }
  }
  if (is_training()) {
    throw Error("decode: the model is in training mode; decoding applies no dropout, call eval()");
  }
  torch::NoGradGuard no_grad;
  const torch::Device device = wte_->weight.device();
  const auto context = static_cast<std::size_t>(context_length());

  // Each row's window grows by its new ids and keeps its last
  // context_length() ids.
  std::vector<bool> slid(ids.size());
  for (std::size_t row = 0; row < ids.size(); ++row) {
    std::vector<std::int64_t>& window = state.windows_[row];
    window.insert(window.end(), ids[row].begin(), ids[row].end());
    slid[row] = window.size() > context;
    if (slid[row])
      window.erase(window.begin(), window.end() - static_cast<std::ptrdiff_t>(context));
  }
  if (!state.cache_) {
    std::vector<const std::vector<std::int64_t>*> windows;
    for (const std::vector<std::int64_t>& window : state.windows_)
      windows.push_back(&window);
    const DecodeFeed feed(windows, std::vector<std::int64_t>(ids.size(), 0), config_.block_size,
                          device);
    return feed.at_last_ids(forward_context(feed.tokens()));
  }
  if (cache_slides()) return decode_sliding(state, ids);

  // A row whose window slid is fed its whole window from position 0; any
  // other is fed just the new ids, after what its cache holds.
  std::vector<const std::vector<std::int64_t>*> fed;
  std::vector<std::int64_t> starts;
  for (std::size_t row = 0; row < ids.size(); ++row) {
    fed.push_back(slid[row] ? &state.windows_[row] : &ids[row]);
    starts.push_back(
        slid[row] ? 0 : static_cast<std::int64_t>(state.windows_[row].size() - ids[row].size()));
  }
  const DecodeFeed feed(fed, std::move(starts), config_.block_size, device);
  return decode_cached(*state.cache_, feed);
}

torch::Tensor LanguageModel::decode_sliding(DecodeState& state,
                                            const std::vector<std::vector<std::int64_t>>& ids) {
  const std::int64_t block = config_.block_size;
  // Each row's new ids in pieces: as many as fit below block_size, then one
  // at a time (a slot can only be overwritten once every query that reads
  // its old key has run).
  std::vector<std::vector<std::vector<std::int64_t>>> pieces(ids.size());
  std::size_t feeds = 0;
  for (std::size_t row = 0; row < ids.size(); ++row) {
    std::int64_t position = state.next_positions_[row];
    for (auto id = ids[row].begin(); id != ids[row].end();) {
      const std::int64_t left = ids[row].end() - id;
      const std::int64_t take = position < block ? std::min(left, block - position) : 1;
      pieces[row].emplace_back(id, id + take);
      id += take;
      position += take;
    }
    feeds = std::max(feeds, pieces[row].size());
  }
  const std::vector<std::int64_t> none;
  torch::Tensor logits;
  for (std::size_t step = 0; step < feeds; ++step) {
    std::vector<const std::vector<std::int64_t>*> fed;
    std::vector<std::int64_t> starts;
    std::vector<std::int64_t> last_fed;  // rows whose last piece this is
    for (std::size_t row = 0; row < ids.size(); ++row) {
      const bool has_piece = step < pieces[row].size();
      fed.push_back(has_piece ? &pieces[row][step] : &none);
      starts.push_back(state.next_positions_[row]);
      state.next_positions_[row] += static_cast<std::int64_t>(fed.back()->size());
      if (has_piece && step + 1 == pieces[row].size())
        last_fed.push_back(static_cast<std::int64_t>(row));
    }
    const DecodeFeed feed(fed, std::move(starts), block, wte_->weight.device());
    torch::Tensor step_logits = decode_cached(*state.cache_, feed);
    if (feeds == 1) return step_logits;
    if (!logits.defined()) logits = torch::empty_like(step_logits);
    const torch::Tensor rows = torch::tensor(last_fed, torch::kLong).to(logits.device());
    logits.index_copy_(0, rows, step_logits.index_select(0, rows));
  }
  return logits;
}

}  // namespace loom::model
