// Private to the config module: the messages for names the schema does not
// have, with the most plausible intended key. It knows the schema's keys, the
// names nanoGPT users may type for them (FieldSpec::aka), and that a key is
// sometimes put in the wrong section or at the top level.
#pragma once

#include <string>
#include <vector>

#include "loom/config/fields.hpp"

namespace loom::config {

class KeySuggester {
 public:
  KeySuggester();

  bool has_section(const std::string& name) const;
  std::string first_key_path(const std::string& section) const;

  // "unknown key 'optim.lerning_rate'; did you mean 'optim.lr'?"
  std::string unknown_key(const std::string& section, const std::string& key) const;
  // "unknown section 'optimm'; did you mean 'optim'?"
  std::string unknown_section(const std::string& name) const;

 private:
  std::string suggestion_for_key(const std::string& section, const std::string& key) const;
  std::string keys_of(const std::string& section) const;
  // Every section.key whose key is `key`, quoted and joined ("'a' or 'b'");
  // empty when no section has it.
  std::string paths_of_key(const std::string& key) const;

  std::vector<FieldRow> rows_;
  std::vector<std::string> sections_;
};

}  // namespace loom::config
