// Private to the config module: turns one YAML scalar's text into a typed
// field value. Each parser returns nothing on success, or the complaint
// ("expected an integer, got 'six'") that the loader prefixes with the key
// and location.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "loom/config/enum_names.hpp"
#include "loom/config/field_spec.hpp"

namespace loom::config::detail {

using Complaint = std::optional<std::string>;

Complaint parse_scalar(const std::string& text, bool& out, const FieldSpec& spec);
Complaint parse_scalar(const std::string& text, std::int64_t& out, const FieldSpec& spec);
Complaint parse_scalar(const std::string& text, double& out, const FieldSpec& spec);
Complaint parse_scalar(const std::string& text, std::string& out, const FieldSpec& spec);
// A list from one scalar: "a.txt,b.txt" is two items (the --set form).
Complaint parse_scalar(const std::string& text, std::vector<std::string>& out,
                       const FieldSpec& spec);

template <class E, class = std::enable_if_t<std::is_enum_v<E>>>
Complaint parse_scalar(const std::string& text, E& out, const FieldSpec& /*spec*/) {
  if (const std::optional<E> value = parse_enum<E>(text)) {
    out = *value;
    return std::nullopt;
  }
  return "got '" + text + "', expected one of " + enum_choices<E>();
}

}  // namespace loom::config::detail
