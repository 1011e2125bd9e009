// Which random generator the models' dropout draws its masks from, chosen
// per thread. By default it is torch's global generator. The trainer sets
// one seeded from (run seed, step, micro-step, worker) around each forward
// pass, so that
//   - worker threads training slices of one batch at once each draw their
//     own masks, in a fixed order (the global generator would hand out its
//     numbers in whatever order the threads arrive), and
//   - a step's masks are a function of where it is in the run, not of what
//     was drawn before: a resumed run draws the same masks.
#pragma once

#include <ATen/core/Generator.h>
#include <torch/types.h>

namespace loom::model {

// Sets this thread's dropout generator for the scope's lifetime.
class DropoutGeneratorScope {
 public:
  explicit DropoutGeneratorScope(at::Generator generator);
  ~DropoutGeneratorScope();
  DropoutGeneratorScope(const DropoutGeneratorScope&) = delete;
  DropoutGeneratorScope& operator=(const DropoutGeneratorScope&) = delete;

 private:
  at::Generator* previous_;
  at::Generator generator_;
};

// This thread's dropout generator, or null for torch's global one.
at::Generator* dropout_generator();

// Dropout of x at `rate`, drawing from dropout_generator(): the identity
// when rate is 0 or not training.
torch::Tensor maybe_dropout(const torch::Tensor& x, double rate, bool training);

}  // namespace loom::model
