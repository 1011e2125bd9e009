// Writes a config back as YAML: every key of every section, resolved, in
// schema order. Loading the text again gives an equal Config.
#pragma once

#include <string>

#include "loom/config/config.hpp"

namespace loom::config {

enum class DumpStyle {
  plain,       // keys and values only
  documented,  // each key followed by a comment with its meaning and accepted values
};

std::string to_yaml(const Config& config, DumpStyle style = DumpStyle::plain);

}  // namespace loom::config
