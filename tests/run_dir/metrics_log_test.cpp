#include "loom/run_dir/metrics_log.hpp"

#include "test_support.hpp"
#include <gtest/gtest.h>

#include "loom/core/error.hpp"

namespace loom::run_dir {
namespace {

using namespace loom::test;

nlohmann::json step_record(int step, double loss) {
  return {{"step", step}, {"loss", loss}};
}

std::vector<int> steps_of(const std::string& path) {
  std::vector<int> steps;
  for (const nlohmann::json& record : read_metrics(path))
    steps.push_back(record["step"]);
  return steps;
}

TEST(MetricsLog, AppendsOneRecordPerLine) {
  TempDir dir;
  const std::string path = dir.file("metrics.jsonl");
  {
    MetricsLog log(path);
    log.append(step_record(0, 4.2));
    log.append(step_record(10, 3.5));
  }
  EXPECT_EQ(read_file(path), "{\"loss\":4.2,\"step\":0}\n{\"loss\":3.5,\"step\":10}\n");
  MetricsLog again(path);  // reopening appends
  again.append(step_record(20, 3.1));
  EXPECT_EQ(steps_of(path), (std::vector<int>{0, 10, 20}));
}

TEST(MetricsLog, AResumedRunDropsTheRecordsItWillWriteAgain) {
  TempDir dir;
  const std::string path = dir.file("metrics.jsonl");
  {
    MetricsLog log(path);
    for (int step = 0; step <= 50; step += 10)
      log.append(step_record(step, 1.0));
  }
  MetricsLog resumed(path, /*resume_step=*/20);
  resumed.append(step_record(30, 0.9));
  EXPECT_EQ(steps_of(path), (std::vector<int>{0, 10, 20, 30}));
}

TEST(MetricsLog, ATornLastLineIsDroppedNotGluedTo) {
  TempDir dir;
  const std::string path = dir.file("metrics.jsonl");
  write_file(path, "{\"step\":0,\"loss\":4}\n{\"step\":10,\"lo");
  EXPECT_EQ(steps_of(path), (std::vector<int>{0}));
  MetricsLog log(path);
  log.append(step_record(10, 3.0));
  EXPECT_EQ(steps_of(path), (std::vector<int>{0, 10}));
}

TEST(MetricsLog, ABadLineInTheMiddleIsNamed) {
  TempDir dir;
  const std::string path = dir.file("metrics.jsonl");
  write_file(path, "{\"step\":0}\nnot json\n{\"step\":2}\n");
  EXPECT_EQ(error_message<Error>([&] { read_metrics(path); }), path + ":2: not a JSON object");
  EXPECT_THROW(read_metrics(dir.file("missing.jsonl")), Error);
}

}  // namespace
}  // namespace loom::run_dir
