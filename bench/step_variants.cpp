// VariantRun (step_variants.hpp): one variant's way of running a CPU
// training step, timed in parts.
#include "step_variants.hpp"

#include <chrono>
#include <ctime>

#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <sys/resource.h>

#include "loom/train/grad_norm.hpp"
#include "loom/train/optimizer.hpp"

namespace loom::bench {
namespace {

using model::LanguageModel;
using Clock = std::chrono::steady_clock;

constexpr int kSliceWorkers = 2;

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

double cpu_seconds(clockid_t clock) {
  timespec now{};
  clock_gettime(clock, &now);
  return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

long minor_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

}  // namespace

Shape make_shape(const std::string& name) {
  Shape shape;
  if (name == "small") {
    shape.model.n_layer = 4, shape.model.n_head = 4, shape.model.n_embd = 128;
    shape.model.block_size = 64, shape.model.dropout = 0.0, shape.batch = 12;
  } else {  // full: ModelConfig's defaults are nanoGPT's
    shape.batch = 64;
  }
  return shape;
}

std::vector<Batch> make_batches(const Shape& shape, int count, std::uint64_t seed) {
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  std::vector<Batch> batches;
  const std::int64_t time = shape.model.block_size;
  for (int i = 0; i < count; ++i) {
    const torch::Tensor window =
        torch::randint(kVocab, {shape.batch, time + 1}, generator, torch::kLong);
    batches.push_back(
        {window.narrow(1, 0, time).contiguous(), window.narrow(1, 1, time).contiguous()});
  }
  return batches;
}

VariantRun::VariantRun(const Shape& shape, const Variant& variant, std::uint64_t seed)
    : variant_(variant) {
  at::set_num_threads(variant.threads);
  torch::manual_seed(seed);
  model_ = model::make_model(shape.model, kVocab);
  model_->train();
  optim_.beta2 = 0.99;  // otherwise OptimConfig's defaults: lr 1e-3, weight decay 0.1, clip 1
  if (variant.flat_adamw) {
    flat_ = std::make_unique<FlatAdamW>(*model_, optim_);
    params_ = flat_->params();
  } else {
    adamw_ = train::make_adamw(*model_, optim_);
    for (const auto& group : adamw_->param_groups())
      params_.insert(params_.end(), group.params().begin(), group.params().end());
  }
  if (variant.batch_slices) {
    workers_ = std::make_unique<train::CpuWorkerPool>(kSliceWorkers);
    slices_.resize(kSliceWorkers);
  }
}

void VariantRun::step(const Batch& batch, bool timed) {
  // Per calling thread: this undoes another variant's count (and the pool's
  // at::set_num_threads(1), which also lowers the global default that new
  // threads start from).
  at::set_num_threads(variant_.threads);
  const long faults_start = minor_faults();
  const double cpu_start = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
  const Clock::time_point start = Clock::now();
  if (workers_) {
    compute_grads_in_slices(batch);
  } else {
    compute_grads(batch);
  }
  const Clock::time_point backward_done = Clock::now();
  update();
  const Clock::time_point end = Clock::now();
  if (!timed) return;
  steps_.push_back({seconds(end - start), seconds(backward_done - start),
                    seconds(end - backward_done), cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu_start,
                    minor_faults() - faults_start});
  for (const Slice& slice : slices_)
    worker_cpu_ += slice.cpu_seconds;
  if (workers_) forward_backward_wall_ += seconds(backward_done - start);
}

std::string VariantRun::notes() const {
  if (!workers_) return "";
  return fmt::format(
      "workers' intra-op threads {} and {}, worker CPU / forward+backward wall {:.2f}",
      slices_[0].intra_op_threads, slices_[1].intra_op_threads,
      worker_cpu_ / forward_backward_wall_);
}

void VariantRun::compute_grads(const Batch& batch) {
  const torch::Tensor loss = LanguageModel::loss(model_->forward(batch.idx), batch.targets);
  loss.backward();
  last_loss_ = loss.item<double>();
  if (flat_) flat_->check_grads_in_place();
}

void VariantRun::compute_grads_in_slices(const Batch& batch) {
  // The caller is worker 0: its slice runs at one intra-op thread like the
  // other worker's; the variant's count comes back for the optimizer.
  at::set_num_threads(1);
  const std::int64_t rows = batch.idx.size(0);
  workers_->run(kSliceWorkers, [&](int worker) {
    Slice& slice = slices_[static_cast<std::size_t>(worker)];
    const double cpu_start = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
    const std::int64_t begin = rows * worker / kSliceWorkers;
    const std::int64_t end = rows * (worker + 1) / kSliceWorkers;
    // Weighed by the slice's share of the rows, so the gradients add up to
    // the whole batch's mean (a half is exact in binary). autograd::grad
    // returns them instead of adding into .grad, which both would write.
    const double share = static_cast<double>(end - begin) / static_cast<double>(rows);
    const torch::Tensor loss = LanguageModel::loss(model_->forward(batch.idx.slice(0, begin, end)),
                                                   batch.targets.slice(0, begin, end)) *
                               share;
    slice.grads = torch::autograd::grad({loss}, params_);
    slice.loss = loss.item<double>();
    slice.intra_op_threads = at::get_num_threads();
    slice.cpu_seconds = cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - cpu_start;
  });
  at::set_num_threads(variant_.threads);
  last_loss_ = slices_[0].loss + slices_[1].loss;
  // Worker 0's gradients plus worker 1's, always in that order.
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const torch::Tensor& a = slices_[0].grads[i];
    const torch::Tensor& b = slices_[1].grads[i];
    if (flat_) {
      torch::Tensor sum = flat_->grads()[i];  // a handle on the flat buffer's view
      torch::add_out(sum, a, b);
    } else {
      params_[i].mutable_grad() = a.add(b);
    }
  }
}

void VariantRun::update() {
  if (flat_) {
    flat_->clip_grad_norm(optim_.grad_clip);
    flat_->step();
    if (!workers_) flat_->zero_grad();  // the slices' sums overwrite it
    return;
  }
  train::clip_grad_norm(params_, optim_.grad_clip);
  adamw_->step();
  if (variant_.grads_to_none || workers_) {
    for (torch::Tensor& p : params_)
      p.mutable_grad().reset();
  } else {
    adamw_->zero_grad();
  }
}

}  // namespace loom::bench
