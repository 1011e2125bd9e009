#include "loom/dist/gradient_sync.hpp"

#include <mutex>

#include <fmt/format.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>
#include <torch/torch.h>

#include "loom/core/error.hpp"
#include "loom/core/torch_compat.hpp"

namespace loom::dist {

struct GradientSync::State {
  struct Slot {
    torch::Tensor parameter;
    std::size_t bucket = 0;
    std::int64_t offset = 0;  // in the bucket's buffer
    bool ready = false;
  };
  struct Bucket {
    torch::Tensor buffer;  // float32, flat
    std::vector<std::size_t> slots;
    std::size_t pending = 0;  // slots not ready yet
    std::unique_ptr<PendingOperation> reduction;
  };

  Communicator& communicator;
  std::vector<Slot> slots;
  // A parameter's AccumulateGrad node lives only while someone holds it;
  // these keep the nodes, and so the hooks, alive.
  std::vector<torch_compat::GradAccumulator> accumulators;
  std::vector<Bucket> buckets;
  std::size_t next_launch = 0;  // buckets start in index order
  bool armed = false;
  std::mutex mutex;  // hooks of different parameters may run on different threads
  SyncTimeline timeline;

  explicit State(Communicator& comm) : communicator(comm) {}

  // Copies the slot's gradient (zeros when it has none) into its bucket.
  void stage(std::size_t index) {
    Slot& slot = slots[index];
    Bucket& bucket = buckets[slot.bucket];
    torch::Tensor view = bucket.buffer.narrow(0, slot.offset, slot.parameter.numel());
    const torch::Tensor& grad = slot.parameter.grad();
    if (grad.defined()) {
      view.copy_(grad.reshape({-1}));
    } else {
      view.zero_();
    }
    slot.ready = true;
    --bucket.pending;
  }

  // Starts every bucket that is full and whose predecessors have started.
  void launch_ready() {
    while (next_launch < buckets.size() && buckets[next_launch].pending == 0) {
      if (next_launch == 0 && timeline.buckets_launched_by_hooks == 0)
        timeline.first_launch = SyncTimeline::Clock::now();
      timeline.launched[next_launch] = SyncTimeline::Clock::now();
      buckets[next_launch].reduction =
          communicator.all_reduce_async(buckets[next_launch].buffer, ReduceOp::average);
      ++next_launch;
    }
  }

  void on_gradient_ready(std::size_t index) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!armed || slots[index].ready) return;
    stage(index);
    timeline.last_hook = SyncTimeline::Clock::now();
    const std::size_t before = next_launch;
    launch_ready();
    timeline.buckets_launched_by_hooks += static_cast<std::int64_t>(next_launch - before);
  }
};

namespace {

// Runs after a parameter's AccumulateGrad node has added this backward's
// gradient into .grad.
class GradientReadyHook final : public torch::autograd::FunctionPostHook {
 public:
  GradientReadyHook(std::weak_ptr<GradientSync::State> state, std::size_t index)
      : state_(std::move(state)), index_(index) {}
  torch::autograd::variable_list operator()(const torch::autograd::variable_list& outputs,
                                            const torch::autograd::variable_list&) override {
    if (const auto state = state_.lock()) state->on_gradient_ready(index_);
    return outputs;
  }

 private:
  std::weak_ptr<GradientSync::State> state_;
  std::size_t index_;
};

}  // namespace

GradientSync::GradientSync(std::vector<torch::Tensor> parameters, Communicator& communicator,
                           double bucket_mb)
    : state_(std::make_shared<State>(communicator)) {
  if (!(bucket_mb > 0))
    throw UsageError(fmt::format("dist.bucket_mb must be positive, got {}", bucket_mb));
  // One rank's gradients are already the average: no buckets, no hooks.
  if (communicator.size() == 1) return;
  const auto bucket_floats = static_cast<std::int64_t>(bucket_mb * 1024 * 1024 / 4);
  // Last registered first: backward reaches the output layers first.
  std::int64_t filled = 0;
  std::vector<std::int64_t> sizes;
  for (auto it = parameters.rbegin(); it != parameters.rend(); ++it) {
    if (state_->buckets.empty() || (filled > 0 && filled + it->numel() > bucket_floats)) {
      state_->buckets.emplace_back();
      sizes.push_back(0);
      filled = 0;
    }
    State::Slot slot;
    slot.parameter = *it;
    slot.bucket = state_->buckets.size() - 1;
    slot.offset = filled;
    state_->buckets.back().slots.push_back(state_->slots.size());
    state_->slots.push_back(slot);
    filled += it->numel();
    sizes.back() = filled;
  }
  for (std::size_t b = 0; b < state_->buckets.size(); ++b)
    // On the parameters' device: NCCL reduces CUDA buffers in place.
    state_->buckets[b].buffer =
        torch::zeros({sizes[b]}, parameters.front().options().dtype(torch::kFloat32));
  for (std::size_t i = 0; i < state_->slots.size(); ++i) {
    const torch_compat::GradAccumulator accumulator =
        torch::autograd::impl::grad_accumulator(state_->slots[i].parameter);
    accumulator->add_post_hook(std::make_unique<GradientReadyHook>(state_, i));
    state_->accumulators.push_back(accumulator);
  }
}

GradientSync::~GradientSync() = default;

std::size_t GradientSync::bucket_count() const {
  return state_->buckets.size();
}

void GradientSync::arm() {
  std::lock_guard<std::mutex> lock(state_->mutex);
  for (State::Slot& slot : state_->slots)
    slot.ready = false;
  for (State::Bucket& bucket : state_->buckets) {
    bucket.pending = bucket.slots.size();
    bucket.reduction.reset();
  }
  state_->next_launch = 0;
  state_->timeline = SyncTimeline{};
  state_->timeline.armed = SyncTimeline::Clock::now();
  state_->timeline.launched.resize(state_->buckets.size());
  state_->timeline.reduced.resize(state_->buckets.size());
  state_->armed = true;
}

void GradientSync::finish() {
  std::unique_lock<std::mutex> lock(state_->mutex);
  if (!state_->armed) {
    lock.unlock();
    arm();  // nothing came through the hooks: reduce everything now
    lock.lock();
  }
  for (std::size_t i = 0; i < state_->slots.size(); ++i)
    if (!state_->slots[i].ready) state_->stage(i);
  state_->launch_ready();
  state_->armed = false;
  lock.unlock();

  const auto wait_start = SyncTimeline::Clock::now();
  for (std::size_t b = 0; b < state_->buckets.size(); ++b) {
    state_->buckets[b].reduction->wait();
    state_->timeline.reduced[b] = SyncTimeline::Clock::now();
  }
  state_->timeline.wait_seconds =
      std::chrono::duration<double>(SyncTimeline::Clock::now() - wait_start).count();

  torch::NoGradGuard no_grad;
  for (State::Slot& slot : state_->slots) {
    const torch::Tensor averaged = state_->buckets[slot.bucket]
                                       .buffer.narrow(0, slot.offset, slot.parameter.numel())
                                       .view(slot.parameter.sizes());
    torch::Tensor& grad = slot.parameter.mutable_grad();
    if (grad.defined()) {
      grad.copy_(averaged);
    } else {
      grad = averaged.clone();
    }
  }
}

const SyncTimeline& GradientSync::timeline() const {
  return state_->timeline;
}

}  // namespace loom::dist
