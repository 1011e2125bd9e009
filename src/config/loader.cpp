#include "loom/config/loader.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "consistency.hpp"
#include "key_suggester.hpp"
#include "scalar_parse.hpp"
#include "schema_walk.hpp"
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "loom/config/fields.hpp"

namespace loom::config {
namespace {

std::string join_issues(const std::vector<ConfigIssue>& issues) {
  std::string text;
  for (const ConfigIssue& issue : issues) {
    if (!text.empty()) text += '\n';
    text += issue.to_string();
  }
  return text;
}

Location location_of(const std::string& origin, const YAML::Mark& mark) {
  if (mark.is_null()) return Location{origin, 0, 0};
  return Location{origin, mark.line + 1, mark.column + 1};
}

std::string describe_node_kind(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    default:
      return "nothing";
  }
}

// Sets the field at `section.key` from one YAML node, if the schema has
// such a field; any complaint about the value becomes an issue.
class FieldAssigner : public detail::SchemaWalker<FieldAssigner> {
 public:
  FieldAssigner(std::string_view section, std::string_view key, const YAML::Node& node,
                Location where, std::vector<ConfigIssue>& issues)
      : section_(section), key_(key), node_(node), where_(std::move(where)), issues_(issues) {}

  template <class T>
  void field(const char* key, T& value, const FieldSpec& spec) {
    if (found_ || section_name() != section_ || key_ != key) return;
    found_ = true;
    const std::string path = section_name() + "." + key;
    if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      if (node_.IsSequence()) {
        assign_list(path, value, spec);
        return;
      }
      if (node_.IsScalar() && !from_command_line_) {  // "inputs: corpus.txt"
        value = {node_.Scalar()};
        return;
      }
    }
    if (!node_.IsScalar()) {
      std::string expected = detail::type_name<T>();
      if constexpr (std::is_enum_v<T>) expected = "one of " + enum_choices<T>();
      issues_.push_back({where_, fmt::format("{}: expected {}, got {}", path, expected,
                                             describe_node_kind(node_))});
      return;
    }
    if (const detail::Complaint complaint = detail::parse_scalar(node_.Scalar(), value, spec)) {
      issues_.push_back({where_, fmt::format("{}: {}", path, *complaint)});
    }
  }

  bool found() const { return found_; }
  void set_from_command_line() { from_command_line_ = true; }

 private:
  void assign_list(const std::string& path, std::vector<std::string>& value,
                   const FieldSpec& spec) {
    std::vector<std::string> items;
    for (const YAML::Node& item : node_) {
      if (!item.IsScalar()) {
        issues_.push_back({location_of(where_.origin, item.Mark()),
                           fmt::format("{}: expected a string in the list, got {}", path,
                                       describe_node_kind(item))});
        return;
      }
      items.push_back(item.Scalar());
    }
    if (spec.is_required() && items.empty()) {
      issues_.push_back({where_, path + ": must not be empty"});
      return;
    }
    value = std::move(items);
  }

  std::string_view section_;
  std::string_view key_;
  const YAML::Node& node_;
  Location where_;
  std::vector<ConfigIssue>& issues_;
  bool found_ = false;
  bool from_command_line_ = false;
};

// Collects what a config says, with where it says it, then checks the whole.
class Loader {
 public:
  explicit Loader(std::string origin) : origin_(std::move(origin)) {}

  void read_document(const YAML::Node& root) {
    if (!root || root.IsNull()) return;  // an empty file: all defaults
    if (!root.IsMap()) {
      add(location_of(origin_, root.Mark()),
          "the top level must be a mapping of sections (run:, data:, model:, ...)");
      unreadable_ = true;
      return;
    }
    std::map<std::string, Location> seen_sections;
    for (const auto& entry : root) {
      const Location where = location_of(origin_, entry.first.Mark());
      const std::string name = entry.first.Scalar();
      if (!first_time(seen_sections, name, where, name)) continue;
      if (!suggester_.has_section(name)) {
        add(where, suggester_.unknown_section(name));
        continue;
      }
      read_section(name, entry.second);
    }
  }

  void apply_override(const std::string& argument) {
    const Location where{"--set " + argument, 0, 0};
    const size_t equals = argument.find('=');
    if (equals == std::string::npos) {
      add(where, "expected SECTION.KEY=VALUE, for example optim.lr=3e-4");
      return;
    }
    const std::string path = argument.substr(0, equals);
    const size_t dot = path.find('.');
    if (dot == std::string::npos) {
      add(where, suggester_.has_section(path)
                     ? fmt::format("'{}' is a section; name one of its keys, e.g. {}", path,
                                   suggester_.first_key_path(path))
                     : suggester_.unknown_section(path));
      return;
    }
    // The value is taken verbatim: the schema, not YAML, decides its type, so
    // `--set eval.sample_prompt=ROMEO:` is the string it looks like.
    assign(path.substr(0, dot), path.substr(dot + 1), YAML::Node(argument.substr(equals + 1)),
           where, where, /*from_command_line=*/true);
  }

  Config finish() {
    for (const FieldRow& row : flatten(config_)) {
      if (unreadable_) break;
      if (row.spec.is_required() && set_at_.count(row.path()) == 0) {
        add(Location{origin_, 0, 0},
            fmt::format("missing required key '{}' ({})", row.path(), row.spec.doc()));
      }
    }
    if (issues_.empty()) {
      check_consistency(
          config_, [this](const std::string& path) { return where_set(path); }, issues_);
    }
    if (!issues_.empty()) throw ConfigError(issues_);
    return config_;
  }

 private:
  void read_section(const std::string& section, const YAML::Node& body) {
    if (body.IsNull()) return;  // "optim:" with nothing under it
    if (!body.IsMap()) {
      add(location_of(origin_, body.Mark()),
          fmt::format("section '{}' must be a mapping of keys, got {}", section,
                      body.IsScalar() ? "'" + body.Scalar() + "'" : describe_node_kind(body)));
      return;
    }
    std::map<std::string, Location> seen_keys;
    for (const auto& entry : body) {
      const std::string key = entry.first.Scalar();
      const Location key_at = location_of(origin_, entry.first.Mark());
      if (!first_time(seen_keys, key, key_at, section + "." + key)) continue;
      const Location value_at =
          entry.second.IsNull() ? key_at : location_of(origin_, entry.second.Mark());
      assign(section, key, entry.second, value_at, key_at);
    }
  }

  void assign(const std::string& section, const std::string& key, const YAML::Node& value,
              const Location& value_at, const Location& key_at, bool from_command_line = false) {
    if (!suggester_.has_section(section)) {
      add(key_at, suggester_.unknown_section(section));
      return;
    }
    FieldAssigner assigner(section, key, value, value_at, issues_);
    if (from_command_line) assigner.set_from_command_line();
    detail::walk(config_, assigner);
    if (!assigner.found()) {
      add(key_at, suggester_.unknown_key(section, key));
      return;
    }
    set_at_[section + "." + key] = value_at;
  }

  // YAML allows a key twice in a mapping and keeps the last: almost always a
  // mistake in a config, so it is reported.
  bool first_time(std::map<std::string, Location>& seen, const std::string& name,
                  const Location& where, const std::string& path) {
    const auto [it, inserted] = seen.emplace(name, where);
    if (!inserted) {
      add(where, fmt::format("'{}' is given twice (first at line {})", path, it->second.line));
    }
    return inserted;
  }

  Location where_set(const std::string& path) const {
    const auto it = set_at_.find(path);
    return it == set_at_.end() ? Location{origin_, 0, 0} : it->second;
  }

  void add(Location where, std::string message) {
    issues_.push_back({std::move(where), std::move(message)});
  }

  std::string origin_;
  Config config_;
  KeySuggester suggester_;
  std::map<std::string, Location> set_at_;
  std::vector<ConfigIssue> issues_;
  bool unreadable_ = false;  // no sections could be read: missing keys would be noise
};

}  // namespace

std::string Location::to_string() const {
  if (line == 0) return origin;
  return fmt::format("{}:{}:{}", origin, line, column);
}

ConfigError::ConfigError(std::vector<ConfigIssue> issues)
    : UsageError(join_issues(issues)), issues_(std::move(issues)) {}

Config load_config_text(std::string_view yaml, const std::string& origin,
                        const std::vector<std::string>& overrides) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::ParserException& e) {
    throw ConfigError({{location_of(origin, e.mark), "malformed YAML: " + e.msg}});
  }
  Loader loader(origin);
  loader.read_document(root);
  for (const std::string& argument : overrides)
    loader.apply_override(argument);
  return loader.finish();
}

Config load_config_file(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    throw ConfigError({{Location{path, 0, 0},
                        "cannot open the config file: " + std::string(std::strerror(errno))}});
  }
  std::ostringstream text;
  text << file.rdbuf();
  return load_config_text(text.str(), path, overrides);
}

}  // namespace loom::config
