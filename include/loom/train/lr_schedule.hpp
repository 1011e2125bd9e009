// The learning rate as a pure function of the optimizer step: linear warmup,
// then cosine decay to min_lr (or a constant lr). Being a function of the
// step alone, a resumed run gets the same rate at step k as an uninterrupted
// one without the schedule having any state to checkpoint.
#pragma once

#include <cstdint>

#include "loom/config/config.hpp"

namespace loom::train {

// With W = warmup_iters, D = the decay end (optim.lr_decay_iters, or
// train.max_iters when that is 0), and step s counted from 0:
//   s <  W:       lr * (s + 1) / (W + 1)   (nanoGPT's warmup: the first step
//                                           already moves, and the ramp meets
//                                           lr at s = W)
//   cosine:  W <= s < D:  min_lr + (lr - min_lr) * (1 + cos(pi * (s - W) / (D - W))) / 2
//            s >= D:      min_lr
//   constant: s >= W:     lr
// D == W is a decay of length zero: min_lr from step W on. The config's
// consistency check keeps W <= D and min_lr <= lr; the formula is defined
// without them all the same (warmup is checked first).
class LearningRateSchedule {
 public:
  LearningRateSchedule(const config::OptimConfig& optim, std::int64_t max_iters);

  double at(std::int64_t step) const;

  std::int64_t warmup_iters() const { return warmup_iters_; }
  std::int64_t decay_end() const { return decay_end_; }

 private:
  double lr_;
  double min_lr_;
  std::int64_t warmup_iters_;
  std::int64_t decay_end_;
  config::LrSchedule kind_;
};

}  // namespace loom::train
