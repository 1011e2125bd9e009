// WindowIndex: counts a split's windows once, then locates any window in
// O(1) (packed) or O(log documents) (document mode).
#include "sampler_windows.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "loom/core/error.hpp"

namespace loom::data::detail {

WindowIndex::WindowIndex(const SplitView& tokens, std::int64_t block_size, config::WindowMode mode)
    : tokens_(tokens), window_tokens_(static_cast<std::uint64_t>(block_size) + 1), mode_(mode) {
  if (mode_ == config::WindowMode::document) {
    index_documents();
    if (count_ == 0) {
      throw UsageError(fmt::format(
          "the split has {} tokens in {} documents and none has the 2 tokens a window needs",
          tokens_.size, tokens_.num_docs));
    }
    return;
  }
  if (tokens_.size < window_tokens_) {
    throw UsageError(fmt::format("the split has {} tokens; a window needs block_size + 1 = {}",
                                 tokens_.size, window_tokens_));
  }
  count_ = tokens_.size - window_tokens_ + 1;
}

void WindowIndex::index_documents() {
  first_window_.reserve(tokens_.num_docs + 1);
  first_window_.push_back(0);
  for (std::uint64_t doc = 0; doc < tokens_.num_docs; ++doc) {
    const std::uint64_t begin = tokens_.doc_begin(doc);
    const std::uint64_t end = tokens_.doc_end(doc);
    if (begin > end || end > tokens_.size) {
      throw Error(fmt::format(
          "document {} spans tokens [{}, {}): document starts must ascend and stay within the "
          "split's {} tokens",
          doc, begin, end, tokens_.size));
    }
    const std::uint64_t length = end - begin;
    if (length >= window_tokens_) {
      count_ += length - window_tokens_ + 1;
    } else if (length >= 2) {
      ++count_;
    }
    first_window_.push_back(count_);
  }
}

WindowSpan WindowIndex::span(std::uint64_t window) const {
  if (mode_ == config::WindowMode::packed) return {window, window_tokens_};
  // The last document whose first window is <= `window`: documents without
  // windows share their successor's entry, and upper_bound skips past them.
  const auto after = std::upper_bound(first_window_.begin(), first_window_.end(), window);
  const auto doc = static_cast<std::uint64_t>(after - first_window_.begin() - 1);
  const std::uint64_t offset = window - first_window_[doc];
  const std::uint64_t begin = tokens_.doc_begin(doc);
  const std::uint64_t remaining = tokens_.doc_end(doc) - begin - offset;
  return {begin + offset, std::min(remaining, window_tokens_)};
}

}  // namespace loom::data::detail
