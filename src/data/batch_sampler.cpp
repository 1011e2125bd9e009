// BatchSampler: turns (step, rank, micro-step) into sample ids, sample ids
// into windows, and windows into a Batch. It holds no mutable state, so
// every answer is a pure function of the split, the options and the
// arguments: resuming needs only the step, and threads may share it freely.
#include <algorithm>
#include <limits>
#include <optional>

#include "sampler_windows.hpp"
#include <fmt/format.h>

#include "loom/core/error.hpp"
#include "loom/core/mix.hpp"
#include "loom/data/sampler.hpp"

namespace loom::data {
namespace {

// Separate streams keep the evaluation order unrelated to every epoch's.
constexpr std::uint64_t kTrainStream = 0x747261696e;  // "train"
constexpr std::uint64_t kEvalStream = 0x6576616c;     // "eval"

void check_options(const SamplerOptions& options) {
  if (options.block_size < 1) {
    throw UsageError(
        fmt::format("model.block_size must be at least 1 (got {})", options.block_size));
  }
  if (options.micro_batch < 1) {
    throw UsageError(
        fmt::format("train.micro_batch must be at least 1 (got {})", options.micro_batch));
  }
  if (options.world_size < 1) {
    throw UsageError(fmt::format("the world size must be at least 1 (got {})", options.world_size));
  }
  if (options.rank < 0 || options.rank >= options.world_size) {
    throw UsageError(fmt::format("rank {} is outside [0, {})", options.rank, options.world_size));
  }
  if (options.global_batch < 1 ||
      options.global_batch % (options.micro_batch * options.world_size) != 0) {
    throw UsageError(
        fmt::format("train.batch_size ({}) must be a multiple of micro_batch ({}) x ranks ({})",
                    options.global_batch, options.micro_batch, options.world_size));
  }
}

// The first id of block `block` when each block holds `block_ids` consecutive
// ids (a step's G ids, an evaluation batch's ranks x micro_batch positions),
// refusing blocks whose last id would pass 2^64 - 1.
std::uint64_t first_id_of_block(std::int64_t block, std::uint64_t block_ids, const char* what) {
  const std::uint64_t max_blocks = std::numeric_limits<std::uint64_t>::max() / block_ids;
  if (block < 0 || static_cast<std::uint64_t>(block) >= max_blocks) {
    throw Error(fmt::format("{} {} is outside [0, {}): its sample ids would not fit in 64 bits",
                            what, block, max_blocks));
  }
  return static_cast<std::uint64_t>(block) * block_ids;
}

}  // namespace

struct BatchSampler::Impl {
  Impl(SplitView split, const SamplerOptions& sampler_options)
      : tokens(split),
        options(sampler_options),
        windows(split, sampler_options.block_size, sampler_options.windows),
        train_key(mix_keys(sampler_options.seed, kTrainStream)),
        eval_permutation(windows.count(), mix_keys(sampler_options.seed, kEvalStream)) {}

  FeistelPermutation epoch_permutation(std::uint64_t epoch) const {
    return FeistelPermutation(windows.count(), mix_keys(train_key, epoch));
  }

  // Fills one row from a window: real tokens through copy_to, then <pad>
  // inputs with target -1 where a short document's window ends early.
  void fill_row(std::uint64_t window, std::int64_t* inputs, std::int64_t* targets) const {
    const detail::WindowSpan span = windows.span(window);
    const auto cols = static_cast<std::size_t>(options.block_size);
    const auto real = static_cast<std::size_t>(span.length - 1);
    tokens.copy_to(span.start, real, inputs);
    tokens.copy_to(span.start + 1, real, targets);
    std::fill(inputs + real, inputs + cols, static_cast<std::int64_t>(text::kPadId));
    std::fill(targets + real, targets + cols, std::int64_t{-1});
  }

  Batch assemble(std::vector<std::uint64_t> sample_ids,
                 const std::vector<std::uint64_t>& row_windows) const {
    Batch batch;
    batch.rows = static_cast<std::int64_t>(row_windows.size());
    batch.cols = options.block_size;
    const auto cols = static_cast<std::size_t>(batch.cols);
    batch.inputs.resize(row_windows.size() * cols);
    batch.targets.resize(row_windows.size() * cols);
    for (std::size_t row = 0; row < row_windows.size(); ++row) {
      fill_row(row_windows[row], batch.inputs.data() + row * cols,
               batch.targets.data() + row * cols);
    }
    batch.sample_ids = std::move(sample_ids);
    return batch;
  }

  SplitView tokens;
  SamplerOptions options;
  detail::WindowIndex windows;
  std::uint64_t train_key;
  FeistelPermutation eval_permutation;
};

BatchSampler::BatchSampler(SplitView tokens, const SamplerOptions& options) {
  check_options(options);
  impl_ = std::make_shared<const Impl>(tokens, options);
}

std::int64_t BatchSampler::accumulation_steps() const {
  const SamplerOptions& options = impl_->options;
  return options.global_batch / (options.micro_batch * options.world_size);
}

std::uint64_t BatchSampler::num_windows() const {
  return impl_->windows.count();
}

std::int64_t BatchSampler::epoch_of_step(std::int64_t step) const {
  const auto global_batch = static_cast<std::uint64_t>(impl_->options.global_batch);
  return static_cast<std::int64_t>(first_id_of_block(step, global_batch, "step") / num_windows());
}

std::vector<std::uint64_t> BatchSampler::sample_ids(std::int64_t step, std::int64_t micro) const {
  const SamplerOptions& options = impl_->options;
  if (micro < 0 || micro >= accumulation_steps()) {
    throw Error(fmt::format("micro-step {} is outside [0, {})", micro, accumulation_steps()));
  }
  const auto global_batch = static_cast<std::uint64_t>(options.global_batch);
  const auto micro_batch = static_cast<std::uint64_t>(options.micro_batch);
  const std::uint64_t first = first_id_of_block(step, global_batch, "step") +
                              static_cast<std::uint64_t>(options.rank) *
                                  (global_batch / static_cast<std::uint64_t>(options.world_size)) +
                              static_cast<std::uint64_t>(micro) * micro_batch;
  std::vector<std::uint64_t> ids(micro_batch);
  for (std::uint64_t i = 0; i < micro_batch; ++i)
    ids[i] = first + i;
  return ids;
}

std::uint64_t BatchSampler::window_of(std::uint64_t sample_id) const {
  return impl_->epoch_permutation(sample_id / num_windows())(sample_id % num_windows());
}

Batch BatchSampler::batch(std::int64_t step, std::int64_t micro) const {
  std::vector<std::uint64_t> ids = sample_ids(step, micro);
  // A micro-batch's ids are consecutive, so they span one epoch or two:
  // build each epoch's permutation once, not once per row.
  std::vector<std::uint64_t> row_windows(ids.size());
  std::optional<FeistelPermutation> permutation;
  std::uint64_t permutation_epoch = 0;
  for (std::size_t row = 0; row < ids.size(); ++row) {
    const std::uint64_t epoch = ids[row] / num_windows();
    if (!permutation || epoch != permutation_epoch) {
      permutation = impl_->epoch_permutation(epoch);
      permutation_epoch = epoch;
    }
    row_windows[row] = (*permutation)(ids[row] % num_windows());
  }
  return impl_->assemble(std::move(ids), row_windows);
}

Batch BatchSampler::eval_batch(std::int64_t index) const {
  const SamplerOptions& options = impl_->options;
  const auto micro_batch = static_cast<std::uint64_t>(options.micro_batch);
  const auto micro_steps = static_cast<std::uint64_t>(accumulation_steps());
  const auto global = static_cast<std::uint64_t>(options.global_batch);
  // Micro-batch `index` of this rank: evaluation batch index / A, micro-step
  // index % A, laid out like a training step's ids.
  const std::int64_t global_index = index / static_cast<std::int64_t>(micro_steps);
  const std::uint64_t micro = static_cast<std::uint64_t>(index) % micro_steps;
  const std::uint64_t first = first_id_of_block(global_index, global, "evaluation batch") +
                              static_cast<std::uint64_t>(options.rank) *
                                  (global / static_cast<std::uint64_t>(options.world_size)) +
                              micro * micro_batch;
  std::vector<std::uint64_t> positions(micro_batch);
  std::vector<std::uint64_t> row_windows(micro_batch);
  for (std::uint64_t i = 0; i < micro_batch; ++i) {
    positions[i] = first + i;
    row_windows[i] = impl_->eval_permutation(positions[i] % num_windows());
  }
  return impl_->assemble(std::move(positions), row_windows);
}

}  // namespace loom::data
