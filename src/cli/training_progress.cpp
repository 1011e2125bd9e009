#include "training_progress.hpp"

#include <cmath>
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "loom/core/log.hpp"

namespace loom::cli {
namespace {

std::string format_loss(const std::optional<double>& loss) {
  return loss ? fmt::format("{:.4f}", *loss) : "n/a";
}

std::string progress_bar(std::int64_t step, std::int64_t max_iters, int width) {
  const auto filled = static_cast<int>(static_cast<double>(width) * static_cast<double>(step) /
                                       static_cast<double>(std::max<std::int64_t>(1, max_iters)));
  return std::string(static_cast<std::size_t>(filled), '#') +
         std::string(static_cast<std::size_t>(width - filled), '.');
}

}  // namespace

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto total = static_cast<std::int64_t>(std::llround(seconds));
  if (total >= 3600) return fmt::format("{}h{:02}m", total / 3600, (total % 3600) / 60);
  if (total >= 60) return fmt::format("{}m{:02}s", total / 60, total % 60);
  return fmt::format("{}s", total);
}

TrainingProgress::TrainingProgress(bool terminal, std::int64_t log_interval)
    : terminal_(terminal), log_interval_(log_interval) {}

TrainingProgress::~TrainingProgress() {
  finish();
}

void TrainingProgress::on_start(const train::RunStart& start) {
  if (start.start_step > 0) {
    log::info("resuming {} at step {} of {}", start.run_dir, start.start_step, start.max_iters);
    for (const std::string& change : start.config_changes)
      log::info("  changed since that checkpoint: {}", change);
  } else {
    log::info("training into {}", start.run_dir);
  }
  const std::string threads = start.device != "cpu" || start.threads == 1
                                  ? fmt::format("{} thread", start.threads)
                                  : fmt::format("{} threads, {}", start.threads, start.threading);
  log::info(
      "{} parameters, vocabulary {}, on {} ({}); {} tokens per step, {} micro-step{} of "
      "accumulation",
      start.parameters, start.vocab_size, start.device, threads, start.tokens_per_step,
      start.accumulation_steps, start.accumulation_steps == 1 ? "" : "s");
  log::info("precision {} ({})", start.precision, start.precision_reason);
  session_first_step_ = start.start_step;
  session_start_ = std::chrono::steady_clock::now();
}

double TrainingProgress::eta_seconds(std::int64_t step, std::int64_t max_iters) const {
  const double spent =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - session_start_).count();
  const std::int64_t done = step - session_first_step_;
  if (done <= 0) return NAN;
  return spent / static_cast<double>(done) * static_cast<double>(max_iters - step);
}

void TrainingProgress::on_step(const train::StepReport& report) {
  const std::string eta = format_duration(eta_seconds(report.step, report.max_iters));
  const std::string mfu = report.mfu ? fmt::format(" | MFU {:.1f}%", *report.mfu * 100) : "";
  const std::string skipped = report.non_finite ? " | skipped (not finite)"
                              : report.skipped  ? " | skipped (fp16 overflow)"
                                                : "";
  if (terminal_ && log::enabled(log::Level::info)) {
    std::fprintf(stdout, "\r\033[Kstep %lld/%lld [%s] loss %.4f | %.0f tok/s%s | ETA %s%s",
                 static_cast<long long>(report.step), static_cast<long long>(report.max_iters),
                 progress_bar(report.step, report.max_iters, 24).c_str(), report.loss,
                 report.tokens_per_second, mfu.c_str(), eta.c_str(), skipped.c_str());
    std::fflush(stdout);
    bar_shown_ = true;
    return;
  }
  if (report.step % log_interval_ != 0 && report.step != report.max_iters) return;
  log::info(
      "step {}/{} | loss {:.4f} | lr {:.3e} | grad norm {:.3f} | {:.1f} ms/step | {:.0f} "
      "tok/s{} | ETA {}{}",
      report.step, report.max_iters, report.loss, report.lr, report.grad_norm,
      report.step_seconds * 1e3, report.tokens_per_second, mfu, eta, skipped);
}

void TrainingProgress::on_eval(const train::EvalReport& report) {
  clear_bar();
  log::info("step {}: train loss {:.4f}, val loss {}{} ({:.1f} s)", report.step, report.train_loss,
            format_loss(report.val_loss), report.best ? " (best so far)" : "", report.seconds);
  if (!report.samples.empty()) {
    // The first sample's opening, on one line: enough to watch the model learn.
    std::string excerpt;
    for (const char c : report.samples.front().substr(0, 160))
      excerpt += c == '\n' ? "\\n" : std::string(1, c);
    log::info("  sample: {}", excerpt);
  }
}

void TrainingProgress::on_checkpoint(std::int64_t step, const std::string& dir) {
  if (!terminal_) {
    log::info("step {}: checkpoint {}", step, dir);
    return;
  }
  log::debug("step {}: checkpoint {}", step, dir);
}

void TrainingProgress::clear_bar() {
  if (!bar_shown_) return;
  std::fputs("\r\033[K", stdout);
  std::fflush(stdout);
  bar_shown_ = false;
}

void TrainingProgress::finish() {
  if (!bar_shown_) return;
  std::fputs("\n", stdout);
  std::fflush(stdout);
  bar_shown_ = false;
}

}  // namespace loom::cli
