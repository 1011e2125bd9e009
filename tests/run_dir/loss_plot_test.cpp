#include "loom/run_dir/loss_plot.hpp"

#include <limits>

#include "test_support.hpp"
#include <gtest/gtest.h>

namespace loom::run_dir {
namespace {

using namespace loom::test;

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos;
       at = text.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

TEST(NiceTicks, RoundStepsCoveringTheRange) {
  EXPECT_EQ(nice_ticks(0, 2000, 8), (std::vector<double>{0, 500, 1000, 1500, 2000}));
  EXPECT_EQ(nice_ticks(1.43, 4.21, 6), (std::vector<double>{1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5}));
  EXPECT_EQ(nice_ticks(0.2, 0.9, 6), (std::vector<double>{0.2, 0.4, 0.6, 0.8, 1}));
  // One value: a unit span around it.
  EXPECT_EQ(nice_ticks(3, 3, 5), (std::vector<double>{2.4, 2.6, 2.8, 3, 3.2, 3.4, 3.6}));
}

TEST(LossPlot, CurvesComeFromTheMetricsRecords) {
  const std::vector<nlohmann::json> records = {
      {{"step", 0}, {"loss", 4.2}},
      {{"step", 0}, {"val_loss", 4.25}, {"loss_train_eval", 4.2}},
      {{"step", 10}, {"loss", 3.0}},
      {{"note", "no step"}},
      {{"step", 20}, {"loss", 2.5}, {"val_loss", 2.7}}};
  const LossCurves curves = curves_from_metrics(records, "gpt");
  EXPECT_EQ(curves.run_name, "gpt");
  EXPECT_EQ(curves.train, (std::vector<CurvePoint>{{0, 4.2}, {10, 3.0}, {20, 2.5}}));
  EXPECT_EQ(curves.val, (std::vector<CurvePoint>{{0, 4.25}, {20, 2.7}}));
}

TEST(LossPlot, DrawsEveryRunWithALegend) {
  const LossCurves gpt{"gpt", {{0, 4.2}, {100, 2.0}, {200, 1.5}}, {{0, 4.2}, {200, 1.6}}};
  const LossCurves lstm{"lstm <&>", {{0, 4.2}, {200, 1.9}}, {{200, 2.0}}};
  const std::string svg = render_loss_svg({gpt, lstm}, "gpt vs lstm");
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
  EXPECT_EQ(count(svg, "<polyline"), 4u);  // train and val per run
  EXPECT_EQ(count(svg, "<circle"), 3u);    // one marker per evaluation
  EXPECT_NE(svg.find(">gpt vs lstm</text>"), std::string::npos);
  EXPECT_NE(svg.find(">lstm &lt;&amp;&gt; val</text>"), std::string::npos);
}

TEST(LossPlot, ADivergedRunIsDrawnWithoutItsNonFinitePoints) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const LossCurves run{
      "diverged", {{0, 4.0}, {10, inf}, {20, nan}, {30, 1e308}, {40, 3.0}}, {{0, -inf}, {40, 3.5}}};
  const std::string svg = render_loss_svg({run}, "diverged");
  EXPECT_EQ(svg.find("nan"), std::string::npos);
  EXPECT_EQ(svg.find("inf"), std::string::npos);
  EXPECT_EQ(count(svg, "<circle"), 1u);
  EXPECT_EQ(nice_ticks(0, inf, 5), (std::vector<double>{0, inf}));
  EXPECT_EQ(nice_ticks(-1e308, 1e308, 5).size(), 2u);
}

TEST(LossPlot, AnEmptyRunSaysSo) {
  const std::string svg = render_loss_svg({LossCurves{"new", {}, {}}}, "new");
  EXPECT_NE(svg.find("no loss recorded yet"), std::string::npos);
  EXPECT_EQ(count(svg, "<polyline"), 0u);
}

TEST(LossPlot, LongRunsAreThinnedButKeepTheirLastPoint) {
  LossCurves run{"long", {}, {}};
  for (int step = 0; step < 10001; ++step)
    run.train.emplace_back(step, 5.0 - step * 1e-4);
  const std::string svg = render_loss_svg({run}, "long");
  const std::size_t start = svg.find("points=\"");
  const std::string points = svg.substr(start, svg.find('"', start + 8) - start);
  EXPECT_LE(count(points, ","), 2002u);
  EXPECT_GE(count(points, ","), 2000u);
}

TEST(LossPlot, WritesAtomically) {
  TempDir dir;
  write_loss_svg(dir.file("loss.svg"), {LossCurves{"a", {{0, 1}, {1, 0.5}}, {}}}, "a");
  EXPECT_NE(read_file(dir.file("loss.svg")).find("<polyline"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir.file("loss.svg.tmp")));
}

}  // namespace
}  // namespace loom::run_dir
