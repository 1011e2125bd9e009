#include "loom/run_dir/loss_plot.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>

#include <fmt/format.h>

#include "loom/core/durable_files.hpp"
#include "loom/core/error.hpp"

namespace loom::run_dir {
namespace {

constexpr double kWidth = 800;
constexpr double kHeight = 500;
constexpr double kLeft = 70;
constexpr double kRight = 20;
constexpr double kTop = 40;
constexpr double kBottom = 50;
constexpr std::size_t kMaxPointsPerLine = 2000;  // keeps long runs' files small
const char* const kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                "#9467bd", "#8c564b", "#e377c2", "#17becf"};

std::string escape_xml(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Tick labels without trailing zeros: 0.5, 1, 1.5, 2000.
std::string tick_label(double value) {
  std::string text = fmt::format("{:.6g}", value);
  return text == "-0" ? "0" : text;
}

struct Bounds {
  double x_low = std::numeric_limits<double>::infinity();
  double x_high = -std::numeric_limits<double>::infinity();
  double y_low = std::numeric_limits<double>::infinity();
  double y_high = -std::numeric_limits<double>::infinity();

  void add(const CurvePoint& p) {
    x_low = std::min(x_low, p.first);
    x_high = std::max(x_high, p.first);
    y_low = std::min(y_low, p.second);
    y_high = std::max(y_high, p.second);
  }
  bool empty() const { return x_low > x_high; }
};

class Canvas {
 public:
  Canvas(const Bounds& data, const std::vector<double>& x_ticks, const std::vector<double>& y_ticks)
      : x_low_(std::min(data.x_low, x_ticks.front())),
        x_high_(std::max(data.x_high, x_ticks.back())),
        y_low_(std::min(data.y_low, y_ticks.front())),
        y_high_(std::max(data.y_high, y_ticks.back())) {}

  double x(double step) const {
    return kLeft + (step - x_low_) / span(x_low_, x_high_) * (kWidth - kLeft - kRight);
  }
  double y(double loss) const {
    return kHeight - kBottom - (loss - y_low_) / span(y_low_, y_high_) * (kHeight - kTop - kBottom);
  }

 private:
  static double span(double low, double high) { return high > low ? high - low : 1.0; }
  double x_low_, x_high_, y_low_, y_high_;
};

std::string polyline(const Canvas& canvas, const std::vector<CurvePoint>& points,
                     const std::string& style) {
  const std::size_t stride = std::max<std::size_t>(1, points.size() / kMaxPointsPerLine);
  std::string coordinates;
  for (std::size_t i = 0; i < points.size(); i += stride) {
    coordinates +=
        fmt::format("{:.1f},{:.1f} ", canvas.x(points[i].first), canvas.y(points[i].second));
  }
  if (!points.empty() && (points.size() - 1) % stride != 0) {
    coordinates +=
        fmt::format("{:.1f},{:.1f}", canvas.x(points.back().first), canvas.y(points.back().second));
  }
  return fmt::format("<polyline fill=\"none\" {} points=\"{}\"/>\n", style, coordinates);
}

}  // namespace

std::vector<double> nice_ticks(double low, double high, int target) {
  if (!std::isfinite(low) || !std::isfinite(high) || !std::isfinite(high - low)) {
    return {low, high};  // no round steps across an infinite span
  }
  if (!(high > low)) {  // one value, or none: a unit span around it
    const double centre = std::isfinite(low) ? low : 0.0;
    low = centre - 0.5;
    high = centre + 0.5;
  }
  const double raw = (high - low) / std::max(1, target);
  const double exponent = std::floor(std::log10(raw));
  double factor = 1;
  for (double candidate : {1.0, 2.0, 5.0, 10.0}) {
    factor = candidate;
    if (candidate * std::pow(10.0, exponent) >= raw) break;
  }
  // Tick k is k x factor x 10^exponent, computed so that 0.6 is the double
  // nearest 0.6 rather than 3 x 0.2's 0.6000000000000001.
  const auto value = [&](double k) {
    return exponent < 0 ? k * factor / std::pow(10.0, -exponent)
                        : k * factor * std::pow(10.0, exponent);
  };
  const double step = value(1);
  std::vector<double> ticks;
  for (double k = std::floor(low / step); ticks.size() < 1000; ++k) {
    ticks.push_back(value(k) == 0 ? 0.0 : value(k));
    if (ticks.back() >= high - step * 1e-9) break;
  }
  return ticks;
}

LossCurves curves_from_metrics(const std::vector<nlohmann::json>& records, std::string run_name) {
  LossCurves curves{std::move(run_name), {}, {}};
  for (const nlohmann::json& record : records) {
    if (!record.contains("step") || !record["step"].is_number()) continue;
    const double step = record["step"].get<double>();
    if (record.contains("loss") && record["loss"].is_number()) {
      curves.train.emplace_back(step, record["loss"].get<double>());
    }
    if (record.contains("val_loss") && record["val_loss"].is_number()) {
      curves.val.emplace_back(step, record["val_loss"].get<double>());
    }
  }
  return curves;
}

std::string render_loss_svg(const std::vector<LossCurves>& given, const std::string& title) {
  // A diverged run's inf or NaN loss cannot be placed on an axis: it is left
  // out, and so are magnitudes whose span would overflow (|loss| >= 1e300).
  std::vector<LossCurves> runs = given;
  const auto unplottable = [](const CurvePoint& p) {
    return !std::isfinite(p.first) || !std::isfinite(p.second) || std::abs(p.second) >= 1e300 ||
           std::abs(p.first) >= 1e300;
  };
  for (LossCurves& run : runs) {
    run.train.erase(std::remove_if(run.train.begin(), run.train.end(), unplottable),
                    run.train.end());
    run.val.erase(std::remove_if(run.val.begin(), run.val.end(), unplottable), run.val.end());
  }
  Bounds bounds;
  for (const LossCurves& run : runs) {
    for (const CurvePoint& p : run.train)
      bounds.add(p);
    for (const CurvePoint& p : run.val)
      bounds.add(p);
  }
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} "
      "{1}\" font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"{2}\" y=\"24\" font-size=\"15\" text-anchor=\"middle\">{3}</text>\n",
      kWidth, kHeight, kWidth / 2, escape_xml(title));
  if (bounds.empty()) {
    svg += fmt::format(
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#666\">no loss "
        "recorded yet</text>\n",
        kWidth / 2, kHeight / 2);
  } else {
    const std::vector<double> x_ticks = nice_ticks(bounds.x_low, bounds.x_high, 8);
    const std::vector<double> y_ticks = nice_ticks(bounds.y_low, bounds.y_high, 6);
    const Canvas canvas(bounds, x_ticks, y_ticks);
    for (double tick : x_ticks) {
      svg += fmt::format(
          "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#e5e5e5\"/>\n"
          "<text x=\"{0:.1f}\" y=\"{3}\" text-anchor=\"middle\">{4}</text>\n",
          canvas.x(tick), kTop, kHeight - kBottom, kHeight - kBottom + 18, tick_label(tick));
    }
    for (double tick : y_ticks) {
      svg += fmt::format(
          "<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"#e5e5e5\"/>\n"
          "<text x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\">{5}</text>\n",
          kLeft, canvas.y(tick), kWidth - kRight, kLeft - 8, canvas.y(tick) + 4, tick_label(tick));
    }
    svg += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#333\"/>\n",
        kLeft, kTop, kWidth - kLeft - kRight, kHeight - kTop - kBottom);
    svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">step</text>\n",
                       (kLeft + kWidth - kRight) / 2, kHeight - 10);
    svg += fmt::format(
        "<text x=\"16\" y=\"{0}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {0})\">loss "
        "(nats per token)</text>\n",
        (kTop + kHeight - kBottom) / 2);
    for (std::size_t r = 0; r < runs.size(); ++r) {
      const char* colour = kPalette[r % std::size(kPalette)];
      svg += polyline(
          canvas, runs[r].train,
          fmt::format("stroke=\"{}\" stroke-width=\"1.2\" stroke-opacity=\"0.6\"", colour));
      svg += polyline(
          canvas, runs[r].val,
          fmt::format("stroke=\"{}\" stroke-width=\"2.2\" stroke-dasharray=\"6 4\"", colour));
      for (const CurvePoint& p : runs[r].val) {
        svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"/>\n",
                           canvas.x(p.first), canvas.y(p.second), colour);
      }
    }
  }
  // Legend, top right: one row per run and curve.
  double row = kTop + 16;
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const char* colour = kPalette[r % std::size(kPalette)];
    for (const bool val : {false, true}) {
      const double x = kWidth - kRight - 190;
      svg += fmt::format(
          "<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"{3}\" "
          "stroke-width=\"{4}\"{5}/>\n<text x=\"{6}\" y=\"{7:.1f}\">{8} {9}</text>\n",
          x, row, x + 24, colour, val ? 2.2 : 1.2, val ? " stroke-dasharray=\"6 4\"" : "", x + 30,
          row + 4, escape_xml(runs[r].run_name), val ? "val" : "train");
      row += 16;
    }
  }
  svg += "</svg>\n";
  return svg;
}

void write_loss_svg(const std::string& path, const std::vector<LossCurves>& runs,
                    const std::string& title) {
  // Through a temporary file, removed if the disk is full: a reader sees the
  // old plot or the new one.
  durable::replace_file(path, path + ".tmp", render_loss_svg(runs, title));
}

}  // namespace loom::run_dir
