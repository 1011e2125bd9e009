// Private to prepare: progress of a pass over the corpus. On a terminal, one
// line redrawn in place (bar, MB done, MB/s, ETA); otherwise, as in a batch
// job's log, a plain line every few seconds.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace loom::data_tools {

class Progress {
 public:
  enum class Style { bar, lines, silent };

  Progress(std::string label, std::uint64_t total_bytes, Style style);
  // `done` is in the same unit as total_bytes. Cheap to call often.
  void update(std::uint64_t done);
  // Draws the final state and ends the line.
  void finish(std::uint64_t done);

  double seconds() const;

  // A bar when stderr is a terminal, plain lines otherwise.
  static Style default_style();

 private:
  void draw(std::uint64_t done, bool final);

  std::string label_;
  std::uint64_t total_;
  Style style_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace loom::data_tools
