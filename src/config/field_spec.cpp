#include "loom/config/field_spec.hpp"

#include <fmt/format.h>

#include "loom/config/fields.hpp"

namespace loom::config {

bool FieldSpec::accepts(double value) const {
  if (min_ && (min_exclusive_ ? value <= *min_ : value < *min_)) return false;
  if (max_ && (max_exclusive_ ? value >= *max_ : value > *max_)) return false;
  return true;
}

std::string FieldSpec::describe_bounds(const char* noun) const {
  const bool vowel = std::string("aeiou").find(noun[0]) != std::string::npos;
  std::string text = fmt::format("{} {}", vowel ? "an" : "a", noun);
  if (min_) text += fmt::format(" {} {}", min_exclusive_ ? ">" : ">=", value_text(*min_));
  if (min_ && max_) text += " and";
  if (max_) text += fmt::format(" {} {}", max_exclusive_ ? "<" : "<=", value_text(*max_));
  return text;
}

}  // namespace loom::config
