// Private to the config module: the walker every schema visitor builds on.
// Config::sections calls section() for each section; this forwards to the
// section struct's schema(), which calls the visitor's field() for each key.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "loom/config/config.hpp"

namespace loom::config::detail {

template <class Derived>
class SchemaWalker {
 public:
  template <class Section>
  void section(const char* name, Section& object, const char* doc) {
    section_name_ = name;
    self().begin_section(name, doc);
    std::remove_const_t<Section>::schema(object, self());
  }
  void begin_section(const char* /*name*/, const char* /*doc*/) {}

 protected:
  const std::string& section_name() const { return section_name_; }

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
  std::string section_name_;
};

template <class Visitor, class ConfigRef>
void walk(ConfigRef& config, Visitor& visitor) {
  Config::sections(config, visitor);
}

// The YAML-facing name of a field's type, for schemas and error messages.
template <class T>
const char* type_name() {
  if constexpr (std::is_same_v<T, bool>) {
    return "boolean";
  } else if constexpr (std::is_same_v<T, std::int64_t>) {
    return "integer";
  } else if constexpr (std::is_same_v<T, double>) {
    return "number";
  } else if constexpr (std::is_same_v<T, std::string>) {
    return "string";
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    return "list of strings";
  } else {
    static_assert(std::is_enum_v<T>,
                  "config fields are bool, int64, double, string, list of strings or enum");
    return "choice";
  }
}

}  // namespace loom::config::detail
