// Reads a YAML config into the typed structs of config.hpp, with command-line
// overrides (`--set optim.lr=3e-4`) applied on top and checked the same way.
// Every problem found is reported at once, each naming where it is (file,
// line and column, or the --set argument), the key, the bad value and what
// was expected; a misspelt key gets a "did you mean".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "loom/config/config.hpp"
#include "loom/core/error.hpp"

namespace loom::config {

struct Location {
  std::string origin;  // a file path, or "--set KEY=VALUE"
  int line = 0;        // 1-based; 0 when the problem has no line
  int column = 0;      // 1-based

  std::string to_string() const;
};

struct ConfigIssue {
  Location where;
  std::string message;  // names the key; says what was found and what was expected

  std::string to_string() const { return where.to_string() + ": " + message; }
};

class ConfigError : public UsageError {
 public:
  explicit ConfigError(std::vector<ConfigIssue> issues);
  const std::vector<ConfigIssue>& issues() const { return issues_; }

 private:
  std::vector<ConfigIssue> issues_;
};

// `overrides` are "section.key=value" strings. The value is taken verbatim,
// not read as YAML, and typed by the schema: `eval.sample_prompt=ROMEO:` is
// that string, and a list key splits on commas (`prepare.inputs=a.txt,b.txt`
// is two items; empty items are dropped).
Config load_config_file(const std::string& path, const std::vector<std::string>& overrides = {});
Config load_config_text(std::string_view yaml, const std::string& origin,
                        const std::vector<std::string>& overrides = {});

}  // namespace loom::config
