#include "loom/config/yaml_dump.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "loom/config/fields.hpp"

namespace loom::config {
namespace {

// "[choice: fp32 | bf16 | fp16]", "[number > 0]", "[integer >= 1, required]"
std::string accepted_values(const FieldRow& row) {
  std::string text;
  if (!row.choices.empty()) {
    text = row.choices;
  } else if (std::holds_alternative<std::int64_t>(row.value) ||
             std::holds_alternative<double>(row.value)) {
    text = row.spec.describe_bounds(row.type_name)
               .substr(row.type_name[0] == 'i' ? 3 : 2);  // drop the article
  } else {
    text = row.type_name;
  }
  if (row.spec.is_required()) text += ", required";
  return "[" + text + "]";
}

}  // namespace

std::string to_yaml(const Config& config, DumpStyle style) {
  const std::vector<FieldRow> rows = flatten(config);
  YAML::Emitter out;
  out << YAML::BeginMap;
  for (const SectionRow& section : section_rows()) {
    if (style == DumpStyle::documented) out << YAML::Newline << YAML::Comment(section.doc);
    out << YAML::Key << section.name << YAML::Value << YAML::BeginMap;
    for (const FieldRow& row : rows) {
      if (row.section != section.name) continue;
      out << YAML::Key << row.key << YAML::Value;
      const std::string text = value_text(row.value);
      // Strings are quoted when YAML would otherwise read them as something
      // else; numbers and words are written bare.
      if (const auto* list = std::get_if<std::vector<std::string>>(&row.value)) {
        out << YAML::Flow << YAML::BeginSeq;
        for (const std::string& item : *list)
          out << YAML::DoubleQuoted << item;
        out << YAML::EndSeq;
      } else if (std::holds_alternative<std::string>(row.value) && row.choices.empty()) {
        out << YAML::DoubleQuoted << text;
      } else {
        out << text;
      }
      if (style == DumpStyle::documented) {
        out << YAML::Comment(fmt::format("{} {}", row.spec.doc(), accepted_values(row)));
      }
    }
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

}  // namespace loom::config
