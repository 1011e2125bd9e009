// loom-bench-step: which way of running one CPU training step is fastest?
// The CPU trainer has to beat nanoGPT's train.py on the same LibTorch, so
// this times Loom's real model (make_model), loss, AdamW (make_adamw) and
// clip_grad_norm, one way per variant, each from the same initial weights
// and the same random token batches:
//
//   loom-bench-step [--config small|full] [--steps N] [--warmup N] [--turn N]
//                   [--variant NAME]... [--tuned-malloc] [--dropout P]
//
// A variant combines: intra-op threads (2, or 1); gradients zero-filled or
// reset to undefined between steps; thread data parallelism (two long-lived
// workers with 1 intra-op thread each run forward and backward on half the
// batch against the shared parameters, and the main thread adds their
// gradients in a fixed order); and a flat AdamW (every parameter and gradient
// a view into one buffer, so a step is a handful of vector ops). The variants
// take turns, --turn steps each, so that the load of a shared machine falls
// on all of them alike. --tuned-malloc sets glibc's mmap and trim thresholds
// for the whole run (mallopt cannot be undone). It prints a markdown table:
// ms per step (median, min), its forward+backward and optimizer parts, CPU
// time per wall time, minor page faults per step, the last loss and how far
// the final weights are from the first variant's. It never fails on time.
// The full config holds about 1 GB per variant: run its variants one by one.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <ctime>
#include <exception>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <malloc.h>
#include <sys/resource.h>
#include <torch/torch.h>

#include "loom/core/error.hpp"
#include "loom/model/language_model.hpp"
#include "loom/train/grad_norm.hpp"
#include "loom/train/optimizer.hpp"

namespace {

using loom::model::LanguageModel;
using Clock = std::chrono::steady_clock;

constexpr std::int64_t kVocab = 65;  // Tiny Shakespeare's characters

struct Shape {
  loom::config::ModelConfig model;
  std::int64_t batch = 0;
};

// nanoGPT's shakespeare_char on CPU (its README's command line) and in full.
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

struct Variant {
  const char* name;
  int threads;         // intra-op threads of the stepping thread
  bool data_parallel;  // two 1-thread workers, half the batch each
  bool grads_to_none;  // reset gradients instead of zero-filling them
  bool flat_adamw;     // FlatAdamW instead of make_adamw's
};

constexpr Variant kVariants[] = {
    {"baseline", 2, false, false, false},     {"1-thread", 1, false, false, false},
    {"grads-none", 2, false, true, false},    {"flat", 2, false, false, true},
    {"dp2", 2, true, false, false},           {"dp2-flat", 2, true, false, true},
    {"dp2-flat-main1", 1, true, false, true},
};

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

std::string proc_line(const char* path, const char* prefix) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) return line;
  }
  return "?";
}

// AdamW with every parameter moved into one flat buffer (decay group first,
// so weight decay is one op on a prefix) and every gradient a view of a
// second one: torch::optim::AdamW's arithmetic, op for op, but on one tensor.
class FlatAdamW {
 public:
  FlatAdamW(torch::nn::Module& module, const loom::config::OptimConfig& optim) : optim_(optim) {
    loom::train::ParameterGroups groups = loom::train::split_by_weight_decay(module);
    params_ = groups.decay;
    params_.insert(params_.end(), groups.no_decay.begin(), groups.no_decay.end());
    std::int64_t total = 0;
    for (const torch::Tensor& p : params_)
      total += p.numel();
    for (const torch::Tensor& p : groups.decay)
      decay_numel_ += p.numel();
    flat_param_ = torch::empty({total});
    flat_grad_ = torch::zeros({total});
    exp_avg_ = torch::zeros({total});
    exp_avg_sq_ = torch::zeros({total});
    denom_ = torch::empty({total});
    torch::NoGradGuard no_grad;
    std::int64_t offset = 0;
    for (torch::Tensor& p : params_) {
      torch::Tensor view = flat_param_.narrow(0, offset, p.numel()).view(p.sizes());
      view.copy_(p);
      p.set_data(view);
      grads_.push_back(flat_grad_.narrow(0, offset, p.numel()).view(p.sizes()));
      p.mutable_grad() = grads_.back();
      offset += p.numel();
    }
  }

  // Autograd adds into a defined .grad in place; this checks it still did
  // after a backward pass (else the flat buffer would be stale).
  void check_grads_in_place() const {
    for (std::size_t i = 0; i < params_.size(); ++i) {
      if (params_[i].grad().data_ptr() != grads_[i].data_ptr()) {
        throw loom::Error(fmt::format(
            "flat AdamW: parameter {}'s gradient left the flat buffer after backward", i));
      }
    }
  }

  const std::vector<torch::Tensor>& params() const { return params_; }
  const std::vector<torch::Tensor>& grads() const { return grads_; }
  void zero_grad() { flat_grad_.zero_(); }

  double clip_grad_norm(double max_norm) {
    const double norm = flat_grad_.norm().item<double>();
    if (max_norm > 0 && std::isfinite(norm) && norm > max_norm)
      flat_grad_.mul_(max_norm / (norm + 1e-6));
    return norm;
  }

  void step() {
    torch::NoGradGuard no_grad;
    ++step_;
    const double beta1 = optim_.beta1, beta2 = optim_.beta2, lr = optim_.lr;
    if (optim_.weight_decay != 0)
      flat_param_.narrow(0, 0, decay_numel_).mul_(1 - lr * optim_.weight_decay);
    const double correction1 = 1 - std::pow(beta1, step_);
    const double correction2 = 1 - std::pow(beta2, step_);
    exp_avg_.mul_(beta1).add_(flat_grad_, 1 - beta1);
    exp_avg_sq_.mul_(beta2).addcmul_(flat_grad_, flat_grad_, 1 - beta2);
    torch::sqrt_out(denom_, exp_avg_sq_).div_(std::sqrt(correction2)).add_(optim_.eps);
    flat_param_.addcdiv_(exp_avg_, denom_, -lr / correction1);
  }

 private:
  loom::config::OptimConfig optim_;
  std::vector<torch::Tensor> params_, grads_;
  torch::Tensor flat_param_, flat_grad_, exp_avg_, exp_avg_sq_, denom_;
  std::int64_t decay_numel_ = 0;
  std::int64_t step_ = 0;
};

// Two long-lived threads that each run forward and backward on half of a
// batch against the shared parameters. torch::autograd::grad returns the
// gradients instead of adding them to .grad, so the two never write the
// same tensor. Each worker pins itself to 1 intra-op thread: ATen's OpenMP
// thread count is per calling thread (OpenMP ICVs), set lazily from a global
// on a thread's first parallel op, hence the lazy init before the override.
class HalfBatchWorkers {
 public:
  static constexpr int kWorkers = 2;

  HalfBatchWorkers(LanguageModel& model, std::vector<torch::Tensor> params)
      : model_(model), params_(std::move(params)) {
    for (int w = 0; w < kWorkers; ++w)
      threads_.emplace_back([this, w] { work(w); });
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return pending_ == 0; });
  }

  HalfBatchWorkers(const HalfBatchWorkers&) = delete;
  HalfBatchWorkers& operator=(const HalfBatchWorkers&) = delete;

  ~HalfBatchWorkers() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    start_.notify_all();
    for (std::thread& thread : threads_)
      thread.join();
  }

  // Each worker's loss is halved so that adding the two gradients gives the
  // whole batch's mean (0.5 is exact in binary: the same as dividing after).
  void run(const torch::Tensor& idx, const torch::Tensor& targets) {
    const std::int64_t half = idx.size(0) / kWorkers;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (int w = 0; w < kWorkers; ++w) {
        slots_[w].idx = idx.narrow(0, w * half, half);
        slots_[w].targets = targets.narrow(0, w * half, half);
        slots_[w].error = nullptr;
      }
      pending_ = kWorkers;
      ++generation_;
    }
    start_.notify_all();
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return pending_ == 0; });
    for (const Slot& slot : slots_) {
      if (slot.error) std::rethrow_exception(slot.error);
    }
  }

  // Worker 0's gradients plus worker 1's, always in that order.
  template <class Store>
  void sum_grads(Store&& store) const {
    for (std::size_t i = 0; i < params_.size(); ++i)
      store(i, slots_[0].grads[i], slots_[1].grads[i]);
  }
  double loss() const { return slots_[0].loss + slots_[1].loss; }
  double worker_cpu_seconds() const { return slots_[0].cpu_seconds + slots_[1].cpu_seconds; }
  int worker_threads(int w) const { return slots_[w].intra_op_threads; }

 private:
  struct Slot {
    torch::Tensor idx, targets;
    std::vector<torch::Tensor> grads;
    double loss = 0, cpu_seconds = 0;
    int intra_op_threads = 0;
    std::exception_ptr error;
  };

  void work(int w) {
    at::internal::lazy_init_num_threads();
    at::set_num_threads(1);
    Slot& slot = slots_[w];
    std::uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    slot.intra_op_threads = at::get_num_threads();
    if (--pending_ == 0) done_.notify_all();
    for (;;) {
      start_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      lock.unlock();
      const double cpu_start = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
      try {
        const torch::Tensor loss =
            LanguageModel::loss(model_.forward(slot.idx), slot.targets) * 0.5;
        slot.grads = torch::autograd::grad({loss}, params_);
        slot.loss = loss.item<double>();
      } catch (...) {
        slot.error = std::current_exception();
      }
      slot.cpu_seconds = cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - cpu_start;
      lock.lock();
      if (--pending_ == 0) done_.notify_all();
    }
  }

  LanguageModel& model_;
  std::vector<torch::Tensor> params_;
  std::array<Slot, kWorkers> slots_;
  std::mutex mutex_;
  std::condition_variable start_, done_;
  std::uint64_t generation_ = 0;
  int pending_ = kWorkers;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

struct Batch {
  torch::Tensor idx, targets;
};

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

struct StepTimes {
  double total = 0, forward_backward = 0, optimizer = 0, cpu = 0;
  long faults = 0;
};

// One variant's model, optimizer and (data-parallel) workers, stepped a few
// steps at a time so that the variants can take turns: on a shared machine
// the load then falls on all of them alike.
class VariantRun {
 public:
  VariantRun(const Shape& shape, const Variant& variant, std::uint64_t seed) : variant_(variant) {
    at::set_num_threads(variant.threads);
    torch::manual_seed(seed);
    model_ = loom::model::make_model(shape.model, kVocab);
    model_->train();
    optim_.beta2 = 0.99;  // otherwise OptimConfig's defaults: lr 1e-3, weight decay 0.1, clip 1
    if (variant.flat_adamw) {
      flat_ = std::make_unique<FlatAdamW>(*model_, optim_);
      params_ = flat_->params();
    } else {
      adamw_ = loom::train::make_adamw(*model_, optim_);
      for (const auto& group : adamw_->param_groups())
        params_.insert(params_.end(), group.params().begin(), group.params().end());
    }
    if (variant.data_parallel) workers_ = std::make_unique<HalfBatchWorkers>(*model_, params_);
  }

  void step(const Batch& batch, bool timed) {
    // Per calling thread: this undoes another variant's count (and a
    // worker's at::set_num_threads(1), which also lowers the global default
    // that new threads start from).
    at::set_num_threads(variant_.threads);
    const long faults_start = minor_faults();
    const double cpu_start = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
    const Clock::time_point start = Clock::now();
    compute_grads(batch);
    const Clock::time_point backward_done = Clock::now();
    update();
    const Clock::time_point end = Clock::now();
    if (!timed) return;
    steps_.push_back(
        {seconds(end - start), seconds(backward_done - start), seconds(end - backward_done),
         cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu_start, minor_faults() - faults_start});
    if (workers_) {
      worker_cpu_ += workers_->worker_cpu_seconds();
      forward_backward_wall_ += seconds(backward_done - start);
    }
  }

  const Variant& variant() const { return variant_; }
  const std::vector<StepTimes>& steps() const { return steps_; }
  double last_loss() const { return last_loss_; }
  const std::vector<torch::Tensor>& weights() const { return params_; }

  std::string notes() const {
    if (!workers_) return "";
    return fmt::format(
        "workers' intra-op threads {} and {}, worker CPU / forward+backward wall {:.2f}",
        workers_->worker_threads(0), workers_->worker_threads(1),
        worker_cpu_ / forward_backward_wall_);
  }

 private:
  void compute_grads(const Batch& batch) {
    if (!workers_) {
      const torch::Tensor loss = LanguageModel::loss(model_->forward(batch.idx), batch.targets);
      loss.backward();
      last_loss_ = loss.item<double>();
      if (flat_) flat_->check_grads_in_place();
      return;
    }
    workers_->run(batch.idx, batch.targets);
    last_loss_ = workers_->loss();
    torch::NoGradGuard no_grad;
    if (flat_) {
      workers_->sum_grads([&](std::size_t i, const torch::Tensor& a, const torch::Tensor& b) {
        torch::Tensor sum = flat_->grads()[i];  // a handle on the flat buffer's view
        torch::add_out(sum, a, b);
      });
    } else {
      workers_->sum_grads([&](std::size_t i, const torch::Tensor& a, const torch::Tensor& b) {
        params_[i].mutable_grad() = a.add(b);
      });
    }
  }

  void update() {
    if (flat_) {
      flat_->clip_grad_norm(optim_.grad_clip);
      flat_->step();
      if (!workers_) flat_->zero_grad();  // the workers' sums overwrite it
      return;
    }
    loom::train::clip_grad_norm(params_, optim_.grad_clip);
    adamw_->step();
    if (variant_.grads_to_none || workers_) {
      for (torch::Tensor& p : params_)
        p.mutable_grad().reset();
    } else {
      adamw_->zero_grad();
    }
  }

  Variant variant_;
  loom::config::OptimConfig optim_;
  std::shared_ptr<LanguageModel> model_;
  std::unique_ptr<torch::optim::AdamW> adamw_;
  std::unique_ptr<FlatAdamW> flat_;
  std::vector<torch::Tensor> params_;  // decay group, then no-decay group
  std::unique_ptr<HalfBatchWorkers> workers_;
  std::vector<StepTimes> steps_;
  double last_loss_ = 0, worker_cpu_ = 0, forward_backward_wall_ = 0;
};

struct BenchOptions {
  std::string config = "small";
  int steps = 30;
  int warmup = 5;
  int turn = 5;         // steps a variant runs before the next one's turn
  double dropout = -1;  // < 0: the config's
  bool tuned_malloc = false;
  std::uint64_t seed = 1337;
  std::vector<std::string> variants;
};

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

template <class Field>
std::vector<double> column(const std::vector<StepTimes>& steps, Field field) {
  std::vector<double> values;
  for (const StepTimes& step : steps)
    values.push_back(static_cast<double>(step.*field));
  return values;
}

// Largest weight difference against the reference run, relative to the
// reference's largest weight. Both list the parameters in the same order.
double weight_difference(const VariantRun& run, const VariantRun& reference) {
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < reference.weights().size(); ++i) {
    const torch::Tensor& w = reference.weights()[i];
    diff = std::max(diff, (run.weights()[i] - w).abs().max().item<double>());
    scale = std::max(scale, w.abs().max().item<double>());
  }
  return diff / scale;
}

void print_table(const std::vector<std::unique_ptr<VariantRun>>& runs) {
  fmt::print(
      "| variant | ms/step median | min | fwd+bwd median | optimizer median | CPU/wall "
      "| minflt/step | last loss | max dw / max w vs {} |\n",
      runs.front()->variant().name);
  fmt::print("|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& run : runs) {
    const auto& s = run->steps();
    const std::vector<double> totals = column(s, &StepTimes::total);
    const std::string difference =
        run == runs.front() ? "-" : fmt::format("{:.2e}", weight_difference(*run, *runs.front()));
    fmt::print("| {} | {:.1f} | {:.1f} | {:.1f} | {:.1f} | {:.2f} | {:.0f} | {:.6f} | {} |\n",
               run->variant().name, 1e3 * median(totals),
               1e3 * *std::min_element(totals.begin(), totals.end()),
               1e3 * median(column(s, &StepTimes::forward_backward)),
               1e3 * median(column(s, &StepTimes::optimizer)),
               median(column(s, &StepTimes::cpu)) / median(totals),
               median(column(s, &StepTimes::faults)), run->last_loss(), difference);
  }
  fmt::print("\n");
  for (const auto& run : runs) {
    if (!run->notes().empty()) fmt::print("- {}: {}\n", run->variant().name, run->notes());
  }
}

void run(const BenchOptions& options) {
  if (options.tuned_malloc) {
    // Keep freed blocks up to 32 MB in the heap instead of unmapping them, and
    // trim the heap only past 256 MB free, so that each step reuses the pages
    // the last one faulted in. It cannot be undone, hence a flag for the run.
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
  }
  Shape shape = make_shape(options.config);
  if (options.dropout >= 0) shape.model.dropout = options.dropout;
  fmt::print(
      "loom-bench-step: config {} (layers {}, heads {}, width {}, block {}, batch {}, "
      "dropout {}), malloc {}, {} warm-up + {} timed steps, {} per turn, seed {}\n",
      options.config, shape.model.n_layer, shape.model.n_head, shape.model.n_embd,
      shape.model.block_size, shape.batch, shape.model.dropout,
      options.tuned_malloc ? "tuned" : "default", options.warmup, options.steps, options.turn,
      options.seed);
  fmt::print("load average at start: {}\n\n", proc_line("/proc/loadavg", ""));
  const int total_steps = options.warmup + options.steps;
  const std::vector<Batch> batches = make_batches(shape, total_steps, options.seed + 1);

  std::vector<std::unique_ptr<VariantRun>> runs;
  for (const Variant& variant : kVariants) {
    const auto& wanted = options.variants;
    if (wanted.empty() || std::find(wanted.begin(), wanted.end(), variant.name) != wanted.end())
      runs.push_back(std::make_unique<VariantRun>(shape, variant, options.seed));
  }
  for (int first = 0; first < total_steps; first += options.turn) {
    for (const auto& run : runs) {
      for (int step = first; step < std::min(first + options.turn, total_steps); ++step)
        run->step(batches[static_cast<std::size_t>(step)], step >= options.warmup);
    }
  }
  print_table(runs);
  fmt::print("{}; load average at end: {}\n", proc_line("/proc/self/status", "Threads:"),
             proc_line("/proc/loadavg", ""));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Times one CPU training step of Loom's GPT, several ways"};
  BenchOptions options;
  app.add_option("--config", options.config, "model and batch: small or full")
      ->check(CLI::IsMember({"small", "full"}));
  app.add_option("--steps", options.steps, "timed steps per variant")->check(CLI::PositiveNumber);
  app.add_option("--warmup", options.warmup, "untimed steps first")->check(CLI::NonNegativeNumber);
  app.add_option("--turn", options.turn, "steps a variant runs before the next one's turn")
      ->check(CLI::PositiveNumber);
  app.add_option("--dropout", options.dropout, "override the config's dropout");
  app.add_flag("--tuned-malloc", options.tuned_malloc,
               "mallopt: 32 MB mmap threshold, 256 MB trim threshold");
  app.add_option("--seed", options.seed, "weights and batches");
  std::vector<std::string> names;
  for (const Variant& variant : kVariants)
    names.emplace_back(variant.name);
  app.add_option("--variant", options.variants, "run only these (default: all, in table order)")
      ->check(CLI::IsMember(names));
  CLI11_PARSE(app, argc, argv);
  try {
    run(options);
  } catch (const std::exception& e) {
    fmt::print(stderr, "loom-bench-step: {}\n", e.what());
    return 1;
  }
  return 0;
}
