// "Did you mean" for misspelt names: the closest candidate by edit distance,
// when it is close enough to be a plausible typo.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loom::config {

// Optimal-string-alignment distance: insertions, deletions, substitutions and
// swaps of two neighbouring characters each cost 1.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The largest distance still taken for a typo of a word this long.
std::size_t typo_tolerance(std::string_view word);

// Index of the candidate closest to `word` within typo_tolerance(word), or
// nothing. Ties go to the earlier candidate.
std::optional<std::size_t> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);

}  // namespace loom::config
