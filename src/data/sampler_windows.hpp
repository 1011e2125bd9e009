// Where each training window lies in a split. Windows are numbered
// 0..count()-1 and the sampler only ever asks "where is window w", so the
// two window modes differ only here:
//   packed    window w starts at token w; every window is whole.
//   document  windows stay inside one document: a document of L tokens gives
//             L - block_size windows (one per start offset) when
//             L >= block_size + 1, one short window when 2 <= L <= block_size,
//             and none when L < 2. Windows are numbered document by document;
//             a prefix sum over documents (O(documents) memory, not
//             O(windows)) and a binary search find a window's document.
#pragma once

#include <cstdint>
#include <vector>

#include "loom/config/config.hpp"
#include "loom/data/split_view.hpp"

namespace loom::data::detail {

// A window's first token and how many of its block_size + 1 tokens are real;
// positions past `length` are padding.
struct WindowSpan {
  std::uint64_t start = 0;
  std::uint64_t length = 0;
};

class WindowIndex {
 public:
  // Throws loom::UsageError when the split holds no window, loom::Error when
  // document starts are not ascending within the split.
  WindowIndex(const SplitView& tokens, std::int64_t block_size, config::WindowMode mode);

  std::uint64_t count() const { return count_; }
  WindowSpan span(std::uint64_t window) const;  // window < count()

 private:
  void index_documents();

  SplitView tokens_;
  std::uint64_t window_tokens_;  // block_size + 1
  config::WindowMode mode_;
  std::uint64_t count_ = 0;
  // Document mode: first_window_[d] is the number of windows in documents
  // before d, and first_window_[num_docs] the total.
  std::vector<std::uint64_t> first_window_;
};

}  // namespace loom::data::detail
