// Stop strings over streamed text; see stop_strings.hpp.
#include "loom/infer/stop_strings.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "loom/core/error.hpp"

namespace loom::infer {

StopStringFilter::StopStringFilter(std::vector<std::string> stop_strings)
    : stop_strings_(std::move(stop_strings)) {
  for (std::size_t index = 0; index < stop_strings_.size(); ++index) {
    if (stop_strings_[index].empty()) {
      throw UsageError(
          fmt::format("stop string {} is empty; a stop string needs a character", index));
    }
  }
}

std::string StopStringFilter::add(std::string_view piece) {
  if (stopped_) return {};
  held_.append(piece);
  // Everything shown so far is free of stop strings and of their starts, so
  // a stop string can only begin inside held_: the earliest one ends the text.
  std::size_t stop_at = std::string::npos;
  for (const std::string& stop : stop_strings_)
    stop_at = std::min(stop_at, held_.find(stop));
  if (stop_at != std::string::npos) {
    stopped_ = true;
    std::string shown = held_.substr(0, stop_at);
    held_.clear();
    return shown;
  }
  const std::size_t keep = possible_start_length();
  std::string shown = held_.substr(0, held_.size() - keep);
  held_.erase(0, held_.size() - keep);
  return shown;
}

std::string StopStringFilter::flush() {
  return std::exchange(held_, {});
}

std::size_t StopStringFilter::possible_start_length() const {
  std::size_t longest = 0;
  for (const std::string& stop : stop_strings_) {
    // Tails shorter than the stop string; a whole one would have been found.
    const std::size_t limit = std::min(held_.size(), stop.size() - 1);
    for (std::size_t length = limit; length > longest; --length) {
      if (held_.compare(held_.size() - length, length, stop, 0, length) == 0) {
        longest = length;
        break;
      }
    }
  }
  return longest;
}

}  // namespace loom::infer
