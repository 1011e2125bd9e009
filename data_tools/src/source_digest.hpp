// Private to prepare: the size and CRC-32 of each input, recorded in the
// store so a model can be traced to the exact corpus bytes it was trained on.
#pragma once

#include <atomic>
#include <future>
#include <vector>

#include "loom/data/token_store.hpp"
#include "loom/data_tools/record_reader.hpp"

namespace loom::data_tools {

// Reads each input once, on a thread of its own that starts at
// construction, so prepare sums the inputs while it tokenizes them: a
// reader stops at an unreadable input as soon as it gets there, and get()
// at the latest before the store is written. A folder input (a Discord
// package, a Telegram export) is summed over the files Loom reads from it,
// in path order: its message files and account/user.json, not the
// package's other folders.
class SourceDigest {
 public:
  explicit SourceDigest(std::vector<InputFile> inputs);
  // Stops the sum early when get() was not called, and waits for the thread.
  ~SourceDigest();
  SourceDigest(const SourceDigest&) = delete;
  SourceDigest& operator=(const SourceDigest&) = delete;

  // One entry per input, in order; rethrows the CorpusError of a file that
  // cannot be read. Call once.
  std::vector<data::SourceFile> get();

 private:
  const std::vector<InputFile> inputs_;
  std::atomic<bool> stop_{false};
  std::future<std::vector<data::SourceFile>> sources_;
};

}  // namespace loom::data_tools
