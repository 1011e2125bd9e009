// A config seen as a flat list of (section, key, value) rows, in schema
// order. Printing, comparing and fingerprinting a config all work on this
// list, so none of them needs to know the structs' members.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "loom/config/config.hpp"
#include "loom/config/field_spec.hpp"

namespace loom::config {

using Value = std::variant<bool, std::int64_t, double, std::string, std::vector<std::string>>;

struct FieldRow {
  std::string section;
  std::string key;
  Value value;            // enums appear as their YAML word
  const char* type_name;  // "boolean", "integer", "number", "string", "list of strings", "choice"
  std::string choices;    // for enums: "fp32 | bf16 | fp16"; empty otherwise
  FieldSpec spec;

  std::string path() const { return section + "." + key; }
};

struct SectionRow {
  std::string name;
  const char* doc;
};

std::vector<FieldRow> flatten(const Config& config);
std::vector<SectionRow> section_rows();

// A value as it is written in YAML: shortest round-tripping decimal for
// numbers, the bare text for strings, "[a, b]" for lists.
std::string value_text(const Value& value);

}  // namespace loom::config
