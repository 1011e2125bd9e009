// What a run trains on, opened from the data section: the token store, the
// tokenizer its ids mean, and this rank's samplers over the train and
// validation splits (the same global batches whatever the number of ranks:
// docs/ARCHITECTURE.md, invariant 1).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "loom/config/config.hpp"
#include "loom/data/sampler.hpp"
#include "loom/data/token_store.hpp"
#include "loom/text/tokenizer.hpp"

namespace loom::train {

struct TrainingData {
  std::unique_ptr<data::TokenStoreReader> store;
  nlohmann::json tokenizer_json;
  std::unique_ptr<text::Tokenizer> tokenizer;
  std::optional<data::BatchSampler> train;
  std::optional<data::BatchSampler> val;  // none when the split has no windows
  std::int64_t tokens_per_step = 0;       // over all ranks
};

// Throws loom::UsageError when data.store does not exist or the batch
// sizes do not divide among the ranks; warns when the validation split
// cannot be evaluated.
TrainingData open_training_data(const config::Config& config, int rank, int world_size);

}  // namespace loom::train
