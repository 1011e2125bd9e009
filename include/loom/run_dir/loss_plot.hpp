// Loss curves as an SVG picture: train and validation loss against step for
// one run, or several overlaid (a transformer against the LSTM baseline).
// Written by the trainer at each evaluation and by `loom plot`; plain SVG, so
// any browser shows it and it diffs as text.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace loom::run_dir {

using CurvePoint = std::pair<double, double>;  // (step, loss)

struct LossCurves {
  std::string run_name;
  std::vector<CurvePoint> train;  // from records with "loss"
  std::vector<CurvePoint> val;    // from records with "val_loss"
};

// The curves in a run's metrics records (see metrics_log.hpp): "step" with
// "loss" and/or "val_loss"; other records are ignored.
LossCurves curves_from_metrics(const std::vector<nlohmann::json>& records, std::string run_name);

// The SVG text: one colour per run, train loss thin and solid, validation
// loss thick and dashed with a marker per evaluation, axes with round ticks,
// and a legend. Runs without points still appear in the legend. Points
// that are not finite (a diverged run) are left out.
std::string render_loss_svg(const std::vector<LossCurves>& runs, const std::string& title);

// Writes the SVG to `path` through a temporary file renamed into place, so
// a viewer never reads half a picture. Throws loom::Error naming the path.
void write_loss_svg(const std::string& path, const std::vector<LossCurves>& runs,
                    const std::string& title);

// Round tick values covering [low, high]: steps of 1, 2 or 5 x 10^k, about
// `target` of them. Exposed for tests.
std::vector<double> nice_ticks(double low, double high, int target);

}  // namespace loom::run_dir
