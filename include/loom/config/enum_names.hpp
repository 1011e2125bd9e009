// Config enums are real C++ enums in the structs and words in YAML. Each enum
// specialises EnumNames with its (value, word) table; these helpers convert
// both ways and list the choices for error messages.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace loom::config {

// Specialise with: static constexpr std::pair<E, const char*> values[] = {...};
template <class E>
struct EnumNames;

template <class E>
const char* enum_name(E value) {
  for (const auto& [candidate, name] : EnumNames<E>::values) {
    if (candidate == value) return name;
  }
  return "?";
}

template <class E>
std::optional<E> parse_enum(std::string_view word) {
  for (const auto& [candidate, name] : EnumNames<E>::values) {
    if (word == name) return candidate;
  }
  return std::nullopt;
}

// "fp32 | bf16 | fp16"
template <class E>
std::string enum_choices() {
  std::string text;
  for (const auto& entry : EnumNames<E>::values) {
    if (!text.empty()) text += " | ";
    text += entry.second;
  }
  return text;
}

}  // namespace loom::config
