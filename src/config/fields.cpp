#include "loom/config/fields.hpp"

#include <charconv>
#include <cmath>
#include <type_traits>

#include "schema_walk.hpp"

namespace loom::config {
namespace {

class Flattener : public detail::SchemaWalker<Flattener> {
 public:
  template <class T>
  void field(const char* key, const T& value, const FieldSpec& spec) {
    FieldRow row{section_name(), key, Value{}, detail::type_name<T>(), {}, spec};
    if constexpr (std::is_enum_v<T>) {
      row.value = std::string(enum_name(value));
      row.choices = enum_choices<T>();
    } else {
      row.value = value;
    }
    rows.push_back(std::move(row));
  }

  std::vector<FieldRow> rows;
};

class SectionLister : public detail::SchemaWalker<SectionLister> {
 public:
  void begin_section(const char* name, const char* doc) { rows.push_back({name, doc}); }
  template <class T>
  void field(const char*, const T&, const FieldSpec&) {}

  std::vector<SectionRow> rows;
};

}  // namespace

std::vector<FieldRow> flatten(const Config& config) {
  Flattener flattener;
  detail::walk(config, flattener);
  return std::move(flattener.rows);
}

std::vector<SectionRow> section_rows() {
  const Config defaults;
  SectionLister lister;
  detail::walk(defaults, lister);
  return std::move(lister.rows);
}

std::string value_text(const Value& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::string>) {
          return v;
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          std::string text = "[";
          for (const std::string& item : v)
            text += (text.size() > 1 ? ", " : "") + item;
          return text + "]";
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          return std::to_string(v);
        } else {
          // Shortest text that reads back as the same number; plain
          // decimals for the magnitudes people write that way (0.0003).
          const double magnitude = std::fabs(v);
          const bool plain = magnitude == 0 || (magnitude >= 1e-5 && magnitude < 1e15);
          char buffer[400];
          const auto result =
              std::to_chars(buffer, buffer + sizeof buffer, v,
                            plain ? std::chars_format::fixed : std::chars_format::scientific);
          return std::string(buffer, result.ptr);
        }
      },
      value);
}

bool operator==(const Config& a, const Config& b) {
  const std::vector<FieldRow> rows_a = flatten(a);
  const std::vector<FieldRow> rows_b = flatten(b);
  for (size_t i = 0; i < rows_a.size(); ++i) {
    if (rows_a[i].value != rows_b[i].value) return false;
  }
  return true;
}

}  // namespace loom::config
