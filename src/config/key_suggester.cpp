#include "key_suggester.hpp"

#include <algorithm>
#include <cstddef>

#include <fmt/format.h>

#include "loom/config/suggest.hpp"

namespace loom::config {

KeySuggester::KeySuggester() : rows_(flatten(Config{})) {
  for (const SectionRow& section : section_rows())
    sections_.push_back(section.name);
}

bool KeySuggester::has_section(const std::string& name) const {
  return std::find(sections_.begin(), sections_.end(), name) != sections_.end();
}

std::string KeySuggester::first_key_path(const std::string& section) const {
  for (const FieldRow& row : rows_) {
    if (row.section == section) return row.path();
  }
  return section;
}

std::string KeySuggester::keys_of(const std::string& section) const {
  std::string keys;
  for (const FieldRow& row : rows_) {
    if (row.section != section) continue;
    if (!keys.empty()) keys += ", ";
    keys += row.key;
  }
  return keys;
}

std::string KeySuggester::paths_of_key(const std::string& key) const {
  std::vector<std::string> paths;
  for (const FieldRow& row : rows_) {
    if (row.key == key) paths.push_back(fmt::format("'{}'", row.path()));
  }
  if (paths.empty()) return {};
  // "'a'", "'a' or 'b'", "'a', 'b' or 'c'"
  std::string text = paths.front();
  for (std::size_t i = 1; i < paths.size(); ++i)
    text += (i + 1 == paths.size() ? " or " : ", ") + paths[i];
  return text;
}

std::string KeySuggester::suggestion_for_key(const std::string& section,
                                             const std::string& key) const {
  // 1. A nanoGPT name used as is: say what Loom calls it, or, where the
  //    meaning differs, what to set instead.
  for (const FieldRow& row : rows_) {
    if (row.spec.aka_name() == nullptr || key != row.spec.aka_name()) continue;
    if (row.spec.aka_hint() != nullptr) return fmt::format("; {}", row.spec.aka_hint());
    return fmt::format("; Loom calls it '{}' ({})", row.path(), row.spec.doc());
  }
  // 2. The right key in the wrong section. An exact name is a surer answer
  //    than a typo guess here: train.block_size is model.block_size, not a
  //    misspelt train.batch_size.
  if (const std::string elsewhere = paths_of_key(key); !elsewhere.empty()) {
    return fmt::format("; did you mean {}?", elsewhere);
  }
  // 3. A typo of a key (or of its nanoGPT name) in the same section.
  std::vector<std::string> names;
  std::vector<const FieldRow*> owners;
  for (const FieldRow& row : rows_) {
    if (row.section != section) continue;
    names.push_back(row.key);
    owners.push_back(&row);
    if (row.spec.aka_name() != nullptr) {
      names.emplace_back(row.spec.aka_name());
      owners.push_back(&row);
    }
  }
  if (const auto index = closest_match(key, names)) {
    return fmt::format("; did you mean '{}'?", owners[*index]->path());
  }
  // 4. A typo of a key in another section.
  std::vector<std::string> all_keys;
  for (const FieldRow& row : rows_)
    all_keys.push_back(row.key);
  if (const auto index = closest_match(key, all_keys)) {
    return fmt::format("; did you mean '{}'?", rows_[*index].path());
  }
  return fmt::format("; '{}' has: {}", section, keys_of(section));
}

std::string KeySuggester::unknown_key(const std::string& section, const std::string& key) const {
  return fmt::format("unknown key '{}.{}'{}", section, key, suggestion_for_key(section, key));
}

std::string KeySuggester::unknown_section(const std::string& name) const {
  std::string message = fmt::format("unknown section '{}'", name);
  if (const auto index = closest_match(name, sections_)) {
    return message + fmt::format("; did you mean '{}'?", sections_[*index]);
  }
  // A key written at the top level instead of inside its section.
  if (const std::string paths = paths_of_key(name); !paths.empty()) {
    return message + fmt::format("; keys go inside their section: did you mean {}?", paths);
  }
  std::string all;
  for (const std::string& section : sections_)
    all += (all.empty() ? "" : ", ") + section;
  return message + "; the sections are: " + all;
}

}  // namespace loom::config
