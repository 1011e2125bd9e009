// Loom's exception types. Each carries the exit code the `loom` command ends
// with when it reaches main, so the code that detects a problem also decides
// how a script sees it.
#pragma once

#include <stdexcept>
#include <string>

#include "loom/core/exit_codes.hpp"

namespace loom {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, ExitCode code = ExitCode::kFailure)
      : std::runtime_error(message), code_(code) {}
  ExitCode exit_code() const { return code_; }

 private:
  ExitCode code_;
};

// The user asked for something that cannot work (a bad flag, a bad config
// value): reported before any work starts, exit code 2.
class UsageError : public Error {
 public:
  explicit UsageError(const std::string& message) : Error(message, ExitCode::kUsage) {}
};

}  // namespace loom
