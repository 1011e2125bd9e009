// LearningRateSchedule: see lr_schedule.hpp for the formula.
#include "loom/train/lr_schedule.hpp"

#include <cmath>

namespace loom::train {
namespace {

// C++17 has no std::numbers::pi; kPi is POSIX, not standard.
constexpr double kPi = 3.14159265358979323846;

}  // namespace

LearningRateSchedule::LearningRateSchedule(const config::OptimConfig& optim, std::int64_t max_iters)
    : lr_(optim.lr),
      min_lr_(optim.min_lr),
      warmup_iters_(optim.warmup_iters),
      decay_end_(optim.lr_decay_iters > 0 ? optim.lr_decay_iters : max_iters),
      kind_(optim.schedule) {}

double LearningRateSchedule::at(std::int64_t step) const {
  if (step < warmup_iters_) {
    return lr_ * static_cast<double>(step + 1) / static_cast<double>(warmup_iters_ + 1);
  }
  if (kind_ == config::LrSchedule::constant) return lr_;
  if (step >= decay_end_) return min_lr_;
  const double progress =
      static_cast<double>(step - warmup_iters_) / static_cast<double>(decay_end_ - warmup_iters_);
  const double coefficient = 0.5 * (1.0 + std::cos(kPi * progress));
  return min_lr_ + coefficient * (lr_ - min_lr_);
}

}  // namespace loom::train
