#include "loom/train/training_data.hpp"

#include <filesystem>

#include <fmt/format.h>

#include "loom/core/error.hpp"
#include "loom/core/log.hpp"

namespace loom::train {

TrainingData open_training_data(const config::Config& config, int rank, int world_size) {
  const std::string& path = config.data.store;
  if (!std::filesystem::exists(path)) {
    throw UsageError(fmt::format(
        "data.store '{}' does not exist; write it with `loom prepare CONFIG` first", path));
  }
  TrainingData data;
  data.store = std::make_unique<data::TokenStoreReader>(path);
  data.tokenizer_json = nlohmann::json::parse(data.store->metadata().tokenizer_json);
  data.tokenizer = text::tokenizer_from_json(data.tokenizer_json);

  data::SamplerOptions options;
  options.block_size = config.model.block_size;
  options.global_batch = config.train.batch_size;
  options.micro_batch = config.train.micro_batch > 0 ? config.train.micro_batch
                                                     : config.train.batch_size / world_size;
  options.rank = rank;
  options.world_size = world_size;
  options.windows = config.data.windows;
  options.seed = static_cast<std::uint64_t>(config.run.seed);
  data.train.emplace(data.store->split(data::Split::train), options);
  try {
    data.val.emplace(data.store->split(data::Split::val), options);
  } catch (const UsageError& e) {
    log::warn(
        "{}: the validation split cannot be evaluated ({}); only the training loss is "
        "reported",
        path, e.what());
  }
  data.tokens_per_step = config.train.batch_size * config.model.block_size;
  return data;
}

}  // namespace loom::train
