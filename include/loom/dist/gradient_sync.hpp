// Data-parallel gradient averaging, overlapped with backward
// (docs/ARCHITECTURE.md, invariant 3). With one rank (a solo communicator)
// there is nothing to average, and arm() and finish() do nothing.
//
// Parameters are grouped into buckets of about dist.bucket_mb, in reverse
// order of registration: roughly the order backward produces their
// gradients, last layer first. A hook after each parameter's gradient
// accumulation copies the gradient into its bucket's flat buffer; when a
// bucket is full, its all-reduce starts at once, while backward computes
// the gradients of earlier layers. Buckets start strictly in index order, so
// every rank issues the same reductions in the same order. The hooks act
// only on the step's last micro-step (arm() before its backward): the
// micro-steps before it only accumulate locally.
//
// finish() reduces whatever the hooks did not (parameters that got no
// gradient, or gradients that did not come through backward's accumulation,
// like the CPU batch slices', which autograd::grad returns without running
// the hooks: for them, the whole reduction starts in finish()), waits for
// every bucket, and writes the
// averaged gradients back: after it, every rank holds the same gradients,
// so clipping and the optimizer step agree without further talk.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include <torch/types.h>

#include "loom/dist/communicator.hpp"

namespace loom::dist {

// When the last synced step's reductions started and backward ended, for
// checking (and showing) that communication overlaps computation.
struct SyncTimeline {
  using Clock = std::chrono::steady_clock;
  Clock::time_point armed;         // arm(): the step's last micro-step begins
  Clock::time_point first_launch;  // the first bucket's all-reduce was posted
  Clock::time_point last_hook;     // the last gradient arrived (backward's end)
  std::int64_t buckets_launched_by_hooks = 0;
  double wait_seconds = 0;  // finish() waiting for reductions still in flight
  // By bucket: when its all-reduce was posted, and when finish() found its
  // result in place (a reduction that ended while backward still ran shows
  // the time finish() began).
  std::vector<Clock::time_point> launched, reduced;
};

class GradientSync {
 public:
  // `parameters` in registration order; each appears once. Throws
  // loom::UsageError when bucket_mb is not positive.
  GradientSync(std::vector<torch::Tensor> parameters, Communicator& communicator, double bucket_mb);
  ~GradientSync();
  GradientSync(const GradientSync&) = delete;
  GradientSync& operator=(const GradientSync&) = delete;

  std::size_t bucket_count() const;

  // The next backward is the step's last: its hooks start the reductions.
  void arm();
  // Reduces what is left, waits for all, and leaves the average of every
  // rank's gradient in each parameter's .grad.
  void finish();

  const SyncTimeline& timeline() const;

  struct State;  // defined in gradient_sync.cpp, shared with the hooks

 private:
  std::shared_ptr<State> state_;
};

}  // namespace loom::dist
