#include "loom/config/suggest.hpp"

#include <algorithm>
#include <numeric>

namespace loom::config {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Three rows of the dynamic-programming table suffice for the swap rule.
  std::vector<std::size_t> before(b.size() + 1), previous(b.size() + 1), current(b.size() + 1);
  std::iota(previous.begin(), previous.end(), 0);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitution = a[i - 1] == b[j - 1] ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + substitution});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        current[j] = std::min(current[j], before[j - 2] + 1);
      }
    }
    std::swap(before, previous);
    std::swap(previous, current);
  }
  return previous[b.size()];
}

std::size_t typo_tolerance(std::string_view word) {
  if (word.size() <= 3) return 1;
  if (word.size() <= 7) return 2;
  return 3;
}

std::optional<std::size_t> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates) {
  std::optional<std::size_t> best;
  std::size_t best_distance = typo_tolerance(word) + 1;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const std::size_t distance = edit_distance(word, candidates[i]);
    if (distance < best_distance) {
      best = i;
      best_distance = distance;
    }
  }
  return best;
}

}  // namespace loom::config
