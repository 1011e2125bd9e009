// BatchPrefetcher: one producer thread keeps up to `depth` micro-batches
// assembled ahead of the trainer, so the step never waits for token copies.
//
// The producer owns the position it produces next; the consumer only pops.
// A mutex guards the queue, the stop flag and the failure; `space` wakes the
// producer when the queue has room or it must stop, `filled` wakes the
// consumer when a batch or a failure arrives.
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "loom/core/error.hpp"
#include "loom/data/sampler.hpp"

namespace loom::data {

struct BatchPrefetcher::Impl {
  Impl(BatchSampler batch_sampler, std::int64_t start_step, std::size_t queue_depth)
      : sampler(std::move(batch_sampler)),
        accumulation(sampler.accumulation_steps()),
        depth(queue_depth),
        step(start_step) {}

  // Assembles the batch at the current position and moves past it.
  Batch produce_next() {
    Batch batch = sampler.batch(step, micro);
    if (++micro == accumulation) {
      micro = 0;
      ++step;
    }
    return batch;
  }

  void run_producer() {
    try {
      for (;;) {
        {
          std::unique_lock<std::mutex> lock(mutex);
          space.wait(lock, [this] { return stopping || ready.size() < depth; });
          if (stopping) return;
        }
        // Assembled outside the lock so next() can pop meanwhile.
        Batch batch = produce_next();
        {
          const std::lock_guard<std::mutex> lock(mutex);
          ready.push_back(std::move(batch));
        }
        filled.notify_one();
      }
    } catch (...) {
      {
        const std::lock_guard<std::mutex> lock(mutex);
        failure = std::current_exception();
      }
      filled.notify_one();
    }
  }

  Batch pop() {
    std::unique_lock<std::mutex> lock(mutex);
    filled.wait(lock, [this] { return !ready.empty() || failure; });
    if (ready.empty()) std::rethrow_exception(failure);
    Batch batch = std::move(ready.front());
    ready.pop_front();
    lock.unlock();
    space.notify_one();
    return batch;
  }

  void stop() {
    {
      const std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    space.notify_one();
    if (producer.joinable()) producer.join();
  }

  const BatchSampler sampler;
  const std::int64_t accumulation;
  const std::size_t depth;
  std::int64_t step;  // the next position to produce
  std::int64_t micro = 0;

  std::mutex mutex;
  std::condition_variable space;
  std::condition_variable filled;
  std::deque<Batch> ready;
  std::exception_ptr failure;
  bool stopping = false;
  std::thread producer;
};

BatchPrefetcher::BatchPrefetcher(BatchSampler sampler, std::int64_t start_step,
                                 std::int64_t depth) {
  if (depth < 0) throw UsageError(fmt::format("data.prefetch must be at least 0 (got {})", depth));
  if (start_step < 0) {
    throw UsageError(
        fmt::format("the first step to prefetch must be at least 0 (got {})", start_step));
  }
  impl_ = std::make_unique<Impl>(std::move(sampler), start_step, static_cast<std::size_t>(depth));
  if (depth > 0) impl_->producer = std::thread([impl = impl_.get()] { impl->run_producer(); });
}

BatchPrefetcher::~BatchPrefetcher() {
  impl_->stop();
}

Batch BatchPrefetcher::next() {
  // Without a thread the caller's own call does the work, in order.
  if (impl_->depth == 0) return impl_->produce_next();
  return impl_->pop();
}

std::int64_t BatchPrefetcher::queued() const {
  const std::lock_guard<std::mutex> lock(impl_->mutex);
  return static_cast<std::int64_t>(impl_->ready.size());
}

}  // namespace loom::data
