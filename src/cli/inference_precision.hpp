// Private to the `loom` command: the --precision option of `sample`, `eval`
// and `serve`, which run a trained model in the precision its training
// chose unless told otherwise.
#pragma once

#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <torch/types.h>

#include "loom/config/config.hpp"

namespace loom::cli {

// Adds --precision (auto | fp32 | bf16; default: the run's train.precision)
// to `command`, writing the word into `word` (empty when not given).
void add_precision_option(CLI::App& command, std::string& word);

struct InferencePrecision {
  std::optional<at::ScalarType> autocast;  // none: fp32
  std::string description;                 // "bf16 (auto: this CPU multiplies bf16 natively ...)"
};

// How to run the run's model on `device`: --precision's word, else the
// run's train.precision, with auto chosen for this machine as training
// chooses it. fp16 is refused on the CPU with a message naming --precision.
InferencePrecision inference_precision(const std::string& word, const config::Config& run_config,
                                       const torch::Device& device);

}  // namespace loom::cli
