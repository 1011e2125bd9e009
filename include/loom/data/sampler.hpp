// Which tokens each rank trains on at each step, decided so that the global
// batch order does not depend on the number of ranks (DESIGN.md, invariant 1).
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

// A seeded bijection on [0, size), for any size >= 1, in O(1) memory.
class FeistelPermutation {
 public:
  FeistelPermutation(std::uint64_t size, std::uint64_t seed);
  std::uint64_t size() const { return size_; }
  std::uint64_t operator()(std::uint64_t index) const;

 private:
  std::uint64_t size_;
  std::uint64_t seed_;
  unsigned half_bits_;  // the network permutes [0, 4^half_bits), >= size
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
  std::vector<std::uint64_t> sample_ids;  // the global sample id of each row
};

class BatchSampler {
 public:
  // Throws loom::UsageError with the numbers when: global_batch is not a
  // multiple of micro_batch x world_size; the split holds no window.
  BatchSampler(SplitView tokens, const SamplerOptions& options);

  std::int64_t accumulation_steps() const;  // global_batch / (micro_batch x world_size)
  std::uint64_t num_windows() const;
  std::int64_t epoch_of_step(std::int64_t step) const;

  // Global sample ids of this rank's micro-step `micro` of optimizer step `step`.
  std::vector<std::uint64_t> sample_ids(std::int64_t step, std::int64_t micro) const;
  Batch batch(std::int64_t step, std::int64_t micro) const;

  // The fixed evaluation set: batch `index` of a sequence that depends only
  // on the split, the options and the seed, never on training progress, so
  // every evaluation of a run (and of a resumed run) averages the same windows.
  Batch eval_batch(std::int64_t index) const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

// Assembles the micro-batches that follow (start_step, 0) on a background
// thread, `depth` ahead, in order: (k, 0), (k, 1), ..., (k+1, 0), ...
class BatchPrefetcher {
 public:
  BatchPrefetcher(BatchSampler sampler, std::int64_t start_step, std::int64_t depth);
  ~BatchPrefetcher();  // stops the thread
  BatchPrefetcher(const BatchPrefetcher&) = delete;
  BatchPrefetcher& operator=(const BatchPrefetcher&) = delete;

  Batch next();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace loom::data
