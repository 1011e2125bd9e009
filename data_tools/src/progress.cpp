#include "progress.hpp"

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>
#include <unistd.h>

#include "loom/core/log.hpp"

namespace loom::data_tools {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

std::chrono::milliseconds redraw_interval(Progress::Style style) {
  return style == Progress::Style::bar ? std::chrono::milliseconds(200)
                                       : std::chrono::milliseconds(5000);
}

std::string format_duration(double seconds) {
  const auto total = static_cast<long>(seconds + 0.5);
  if (total >= 3600) return fmt::format("{}h{:02}m", total / 3600, (total % 3600) / 60);
  if (total >= 60) return fmt::format("{}m{:02}s", total / 60, total % 60);
  return fmt::format("{}s", total);
}

}  // namespace

Progress::Progress(std::string label, std::uint64_t total_bytes, Style style)
    : label_(std::move(label)),
      total_(total_bytes),
      style_(style),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::Style Progress::default_style() {
  return isatty(STDERR_FILENO) ? Style::bar : Style::lines;
}

double Progress::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::update(std::uint64_t done) {
  if (style_ == Style::silent) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < redraw_interval(style_)) return;
  last_draw_ = now;
  draw(done, false);
}

void Progress::finish(std::uint64_t done) {
  if (style_ != Style::silent) draw(done, true);
}

void Progress::draw(std::uint64_t done, bool final) {
  const double elapsed = std::max(seconds(), 1e-9);
  const double fraction = total_ > 0 ? std::min(1.0, static_cast<double>(done) / total_) : 1.0;
  const double rate = static_cast<double>(done) / kMiB / elapsed;
  const std::string eta =
      final ? format_duration(elapsed)
            : (fraction > 0 ? "ETA " + format_duration(elapsed * (1 - fraction) / fraction)
                            : "ETA ?");
  const std::string figures =
      fmt::format("{:.0f}/{:.0f} MB  {:.0f} MB/s  {}", done / kMiB, total_ / kMiB, rate, eta);
  if (style_ == Style::lines) {
    log::info("{}: {:3.0f}%  {}", label_, fraction * 100, figures);
    return;
  }
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(fraction * kWidth);
  const std::string bar = std::string(filled, '#') + std::string(kWidth - filled, '.');
  std::fprintf(stderr, "\r%s [%s] %3.0f%%  %s\x1b[K%s", label_.c_str(), bar.c_str(), fraction * 100,
               figures.c_str(), final ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace loom::data_tools
