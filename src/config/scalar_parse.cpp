#include "scalar_parse.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string_view>

#include <fmt/format.h>

#include "loom/config/fields.hpp"

namespace loom::config::detail {
namespace {

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

// from_chars rejects a leading '+', which YAML allows.
std::string_view without_plus(const std::string& text) {
  std::string_view view(text);
  if (!view.empty() && view.front() == '+') view.remove_prefix(1);
  return view;
}

template <class Number>
bool parse_whole(const std::string& text, Number& out) {
  const std::string_view view = without_plus(text);
  if (view.empty()) return false;
  const auto [end, ec] = std::from_chars(view.data(), view.data() + view.size(), out);
  return ec == std::errc() && end == view.data() + view.size();
}

Complaint out_of_bounds(const std::string& text, const FieldSpec& spec, const char* noun) {
  return fmt::format("got {}, expected {}", text, spec.describe_bounds(noun));
}

}  // namespace

Complaint parse_scalar(const std::string& text, bool& out, const FieldSpec& /*spec*/) {
  const std::string word = lowercase(text);
  if (word == "true" || word == "yes" || word == "on") {
    out = true;
  } else if (word == "false" || word == "no" || word == "off") {
    out = false;
  } else {
    return fmt::format("expected true or false, got '{}'", text);
  }
  return std::nullopt;
}

Complaint parse_scalar(const std::string& text, std::int64_t& out, const FieldSpec& spec) {
  std::int64_t value = 0;
  if (!parse_whole(text, value)) return fmt::format("expected an integer, got '{}'", text);
  if (!spec.accepts(static_cast<double>(value))) return out_of_bounds(text, spec, "integer");
  out = value;
  return std::nullopt;
}

Complaint parse_scalar(const std::string& text, double& out, const FieldSpec& spec) {
  double value = 0;
  if (!parse_whole(text, value) || !std::isfinite(value)) {
    return fmt::format("expected a number, got '{}'", text);
  }
  if (!spec.accepts(value)) return out_of_bounds(text, spec, "number");
  out = value;
  return std::nullopt;
}

Complaint parse_scalar(const std::string& text, std::string& out, const FieldSpec& spec) {
  if (spec.is_required() && text.empty()) return std::string("must not be empty");
  out = text;
  return std::nullopt;
}

Complaint parse_scalar(const std::string& text, std::vector<std::string>& out,
                       const FieldSpec& spec) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    if (comma > start) items.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  if (spec.is_required() && items.empty()) return std::string("must not be empty");
  out = std::move(items);
  return std::nullopt;
}

}  // namespace loom::config::detail
