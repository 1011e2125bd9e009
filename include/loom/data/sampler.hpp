// Which tokens each rank trains on at each step, decided so that the global
// batch order does not depend on the number of ranks (docs/ARCHITECTURE.md, invariant 1).
//
// A window is block_size + 1 consecutive tokens (inputs, and targets shifted
// by one). Windows are numbered 0..W-1; sample id s belongs to epoch
// s / W and picks window perm_e(s % W), where perm_e is a seeded bijection of
// [0, W) computed in O(1) memory (a Feistel network with cycle walking), new
// each epoch. Optimizer step k consumes ids [k*G, (k+1)*G) of the global
// batch G; rank r of R takes the contiguous slice [r*G/R, (r+1)*G/R) and
// splits it into micro-batches of micro_batch ids. Hence 2 ranks x 1
// micro-step and 1 rank x 2 micro-steps see the same tokens, and resuming
// at step k needs nothing but k.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "loom/config/config.hpp"
#include "loom/data/split_view.hpp"

namespace loom::data {

// A seeded bijection on [0, size), for any size >= 1, in O(1) memory: a
// balanced Feistel network on the smallest [0, 4^h) that holds `size`, with
// cycle walking (re-apply until the value lands in [0, size)). The domain is
// under 4 x size, so a call costs fewer than 4 network passes on average.
class FeistelPermutation {
 public:
  static constexpr int kRounds = 6;

  // Throws loom::UsageError when size is 0.
  FeistelPermutation(std::uint64_t size, std::uint64_t seed);
  std::uint64_t size() const { return size_; }
  // Throws loom::Error when index >= size.
  std::uint64_t operator()(std::uint64_t index) const;

 private:
  std::uint64_t network(std::uint64_t value) const;

  std::uint64_t size_;
  unsigned half_bits_;  // the network permutes [0, 4^half_bits), >= size
  std::uint64_t half_mask_;
  std::uint64_t round_keys_[kRounds];  // derived from the seed once, not per call
};

struct SamplerOptions {
  std::int64_t block_size = 256;
  std::int64_t global_batch = 64;  // sequences per optimizer step over all ranks
  std::int64_t micro_batch = 64;   // sequences per forward pass on one rank
  int rank = 0;
  int world_size = 1;
  // packed: a window may cross document boundaries (windows start at every
  // token offset). document: a window stays in one document; documents
  // shorter than a window give one window padded with <pad>, whose targets
  // are -1 so the loss ignores them.
  config::WindowMode windows = config::WindowMode::packed;
  std::uint64_t seed = 1337;
};

// One rank's micro-batch, row-major [rows x cols], ready for torch::from_blob.
struct Batch {
  std::int64_t rows = 0;  // micro_batch
  std::int64_t cols = 0;  // block_size
  std::vector<std::int64_t> inputs;
  std::vector<std::int64_t> targets;  // -1 where the loss must ignore the position
  // The global sample id of each row; for eval_batch, the row's position in
  // the evaluation sequence.
  std::vector<std::uint64_t> sample_ids;
};

class BatchSampler {
 public:
  // Throws loom::UsageError with the numbers when: global_batch is not a
  // multiple of micro_batch x world_size; block_size, micro_batch or
  // world_size is below 1; rank is outside [0, world_size); the split holds
  // no window. Throws loom::Error when document starts are not ascending.
  // Keeps `tokens` (not a copy of the tokens): the caller keeps them alive.
  // Copies are cheap (shared immutable state) and every const member may be
  // called from any number of threads at once.
  BatchSampler(SplitView tokens, const SamplerOptions& options);

  std::int64_t accumulation_steps() const;  // global_batch / (micro_batch x world_size)
  std::uint64_t num_windows() const;
  // The epoch of the first sample of `step` (a step may straddle two epochs).
  std::int64_t epoch_of_step(std::int64_t step) const;

  // Global sample ids of this rank's micro-step `micro` of optimizer step `step`.
  // Throws loom::Error when step < 0, micro is outside [0, accumulation_steps()),
  // or the step's ids would pass 2^64 - 1.
  std::vector<std::uint64_t> sample_ids(std::int64_t step, std::int64_t micro) const;
  // The window (in [0, num_windows())) that training sample `sample_id` reads.
  std::uint64_t window_of(std::uint64_t sample_id) const;
  Batch batch(std::int64_t step, std::int64_t micro) const;

  // The fixed evaluation set: batch `index` of a sequence that depends only
  // on the split, the options and the seed, never on training progress, so
  // every evaluation of a run (and of a resumed run) averages the same windows.
  // Evaluation batches are laid out like training steps: evaluation batch k
  // is positions [k x G, (k+1) x G) of a fixed permutation of the windows
  // (repeated when positions pass num_windows()), rank r takes its
  // contiguous share, and `index` counts this rank's micro-batches: batch
  // index / A, micro-step index % A (A = accumulation_steps()). So k
  // evaluation batches score the same windows whatever the number of ranks
  // and the micro-batch size.
  Batch eval_batch(std::int64_t index) const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

// Assembles the micro-batches that follow (start_step, 0) on a background
// thread, `depth` ahead, in order: (k, 0), (k, 1), ..., (k+1, 0), ...
// depth 0 starts no thread: next() assembles the batch itself.
class BatchPrefetcher {
 public:
  // Throws loom::UsageError when depth < 0 or start_step < 0.
  BatchPrefetcher(BatchSampler sampler, std::int64_t start_step, std::int64_t depth);
  ~BatchPrefetcher();  // stops the thread without waiting for the queue to drain
  BatchPrefetcher(const BatchPrefetcher&) = delete;
  BatchPrefetcher& operator=(const BatchPrefetcher&) = delete;

  // The next micro-batch, waiting for it if needed. Batches assembled before
  // a failure are delivered first; then the sampler's exception is re-thrown
  // here, by this and every later call.
  Batch next();

  // How many assembled micro-batches wait in the queue now: `depth` once the
  // producer has filled it and blocks. For tests and diagnostics.
  std::int64_t queued() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace loom::data
