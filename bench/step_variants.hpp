// The ways loom-bench-step runs one CPU training step (the variants), and
// VariantRun, which steps one of them. Each variant trains Loom's real model
// (make_model) with Loom's loss and gradient clipping; they differ in:
//   - intra-op threads of the stepping thread (2, or 1);
//   - gradients zero-filled or reset to undefined between steps;
//   - batch slices: the batch split in two, forward and backward of each
//     half at once on loom::train::CpuWorkerPool (the trainer's pool for
//     run.cpu_threading: batch; the caller is one of the two workers), each
//     at 1 intra-op thread, gradients from autograd::grad summed in a fixed
//     order, then the optimizer at the variant's thread count;
//   - make_adamw's AdamW or FlatAdamW (flat_adamw.hpp).
// Every variant starts from the same weights (one seed) and steps the same
// batches, so their losses and final weights can be compared: they should
// agree up to rounding.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "flat_adamw.hpp"
#include <torch/torch.h>

#include "loom/config/config.hpp"
#include "loom/model/language_model.hpp"
#include "loom/train/cpu_worker_pool.hpp"

namespace loom::bench {

inline constexpr std::int64_t kVocab = 65;  // Tiny Shakespeare's characters

// The model and the batch size of one step.
struct Shape {
  config::ModelConfig model;
  std::int64_t batch = 0;
};

// "small": nanoGPT's shakespeare_char on CPU (its README's command line, and
// configs/shakespeare_char_cpu.yaml); "full": its shakespeare_char.
Shape make_shape(const std::string& name);

struct Variant {
  const char* name;
  int threads;         // intra-op threads of the stepping thread (the optimizer's, with slices)
  bool batch_slices;   // half the batch each on a 2-worker CpuWorkerPool
  bool grads_to_none;  // reset gradients instead of zero-filling them
  bool flat_adamw;     // FlatAdamW instead of make_adamw's
};

inline constexpr Variant kVariants[] = {
    {"baseline", 2, false, false, false},     {"1-thread", 1, false, false, false},
    {"grads-none", 2, false, true, false},    {"flat", 2, false, false, true},
    {"dp2", 2, true, false, false},           {"dp2-flat", 2, true, false, true},
    {"dp2-flat-main1", 1, true, false, true},
};

struct Batch {
  torch::Tensor idx, targets;  // int64 [batch, block_size]
};

// `count` batches of uniformly random tokens, the same for a given seed.
std::vector<Batch> make_batches(const Shape& shape, int count, std::uint64_t seed);

// What one timed step took: seconds of wall time in all and in its parts,
// process CPU seconds, minor page faults.
struct StepTimes {
  double total = 0, forward_backward = 0, optimizer = 0, cpu = 0;
  long faults = 0;
};

// One variant's model, optimizer and (with batch slices) worker pool,
// stepped a few steps at a time so that the variants can take turns: on a
// shared machine the load then falls on all of them alike.
class VariantRun {
 public:
  VariantRun(const Shape& shape, const Variant& variant, std::uint64_t seed);

  // One step: forward, backward, clipping, AdamW, gradient reset. Untimed
  // steps (warm-up) are not recorded.
  void step(const Batch& batch, bool timed);

  const Variant& variant() const { return variant_; }
  const std::vector<StepTimes>& steps() const { return steps_; }
  double last_loss() const { return last_loss_; }
  // The parameters, decay group first, then no-decay (make_adamw's order).
  const std::vector<torch::Tensor>& weights() const { return params_; }

  // With batch slices: the workers' intra-op threads and their CPU time
  // per wall time of forward+backward. Empty otherwise.
  std::string notes() const;

 private:
  // What one worker's slice left for the caller.
  struct Slice {
    std::vector<torch::Tensor> grads;
    double loss = 0, cpu_seconds = 0;
    int intra_op_threads = 0;
  };

  void compute_grads(const Batch& batch);
  void compute_grads_in_slices(const Batch& batch);
  void update();

  Variant variant_;
  config::OptimConfig optim_;
  std::shared_ptr<model::LanguageModel> model_;
  std::unique_ptr<torch::optim::AdamW> adamw_;
  std::unique_ptr<FlatAdamW> flat_;
  std::vector<torch::Tensor> params_;  // decay group, then no-decay group
  std::unique_ptr<train::CpuWorkerPool> workers_;
  std::vector<Slice> slices_;  // one per worker
  std::vector<StepTimes> steps_;
  double last_loss_ = 0, worker_cpu_ = 0, forward_backward_wall_ = 0;
};

}  // namespace loom::bench
