// Private to the config module: checks that involve more than one key
// (n_embd divisible by n_head, min_lr below lr, ...). Each issue is reported
// at the key a user would change, with where that key was set.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "loom/config/config.hpp"
#include "loom/config/loader.hpp"

namespace loom::config {

using WhereSet = std::function<Location(const std::string& path)>;

void check_consistency(const Config& config, const WhereSet& where_set,
                       std::vector<ConfigIssue>& issues);

}  // namespace loom::config
