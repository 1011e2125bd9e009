// Stop strings for streamed text: generated text arrives a token's text at a
// time, and a stop string may end inside a token or span several. The
// filter passes on the text that can no longer be part of a stop string,
// holds back a tail that might still begin one, and once a stop string is
// complete, ends the text just before it (the stop string and whatever
// followed it in its last token are dropped).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace loom::infer {

class StopStringFilter {
 public:
  // Throws loom::UsageError when a stop string is empty, naming its index.
  explicit StopStringFilter(std::vector<std::string> stop_strings);

  // Adds the next piece of generated text; returns the text that is now safe
  // to show (possibly empty). Once stopped(), adds nothing more.
  std::string add(std::string_view piece);

  // Whether a stop string appeared.
  bool stopped() const { return stopped_; }

  // The text held back because it might have begun a stop string; call it
  // when generation ends for another reason, to show the rest.
  std::string flush();

 private:
  // The length of the longest tail of held_ that is a proper prefix of a
  // stop string.
  std::size_t possible_start_length() const;

  std::vector<std::string> stop_strings_;
  std::string held_;  // the tail not shown yet; no stop string occurs in it
  bool stopped_ = false;
};

}  // namespace loom::infer
