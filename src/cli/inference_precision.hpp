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

// The autocast dtype for running the run's model on `device`: --precision's
// word, else the run's train.precision, with auto chosen for this machine
// as training chooses it. Logs the choice on stderr. fp16 is refused on the
// CPU with a message naming --precision.
std::optional<at::ScalarType> inference_autocast(const std::string& word,
                                                 const config::Config& run_config,
                                                 const torch::Device& device);

}  // namespace loom::cli
