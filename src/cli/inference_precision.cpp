#include "inference_precision.hpp"

#include <fmt/format.h>

#include "loom/config/enum_names.hpp"
#include "loom/core/error.hpp"
#include "loom/train/compute_setup.hpp"

namespace loom::cli {

void add_precision_option(CLI::App& command, std::string& word) {
  command
      .add_option("--precision", word,
                  "auto | fp32 | bf16: the precision of the model's matrix products; default the "
                  "run's train.precision (auto: bf16 where the CPU or GPU multiplies it natively)")
      ->check(CLI::IsMember({"auto", "fp32", "bf16", "fp16"}));
}

InferencePrecision inference_precision(const std::string& word, const config::Config& run_config,
                                       const torch::Device& device) {
  const config::Precision requested =
      word.empty() ? run_config.train.precision : *config::parse_enum<config::Precision>(word);
  train::PrecisionChoice choice = train::choose_precision(requested, device);
  if (requested != config::Precision::automatic) {
    choice.reason = word.empty() ? "the run's train.precision" : "--precision";
  }
  if (choice.precision == config::Precision::fp16 && !device.is_cuda()) {
    throw UsageError(word.empty()
                         ? "the run trained in fp16, which runs on CUDA only; pass --precision "
                           "fp32 or bf16 to run it on the CPU"
                         : "--precision fp16 needs a CUDA device; use fp32 or bf16 on the CPU");
  }
  return {train::autocast_dtype_for(choice.precision, device),
          fmt::format("{} ({})", config::enum_name(choice.precision), choice.reason)};
}

}  // namespace loom::cli
