// metrics.jsonl: one JSON object per line, appended as training goes (step,
// loss, val_loss, lr, grad_norm, tokens_per_second, mfu, elapsed, ...). A
// line is written whole and flushed, so a killed run loses at most the line
// being written; a resumed run first drops the lines past its checkpoint, so
// the file reads as one uninterrupted run.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "loom/core/durable_files.hpp"

namespace loom::run_dir {

class MetricsLog {
 public:
  // Opens `path` for appending (creating it). A torn last line is dropped
  // first, and when `resume_step` is given (>= 0), so are the records with a
  // "step" greater than it.
  explicit MetricsLog(std::string path, std::int64_t resume_step = -1);

  // Throws loom::Error naming the file and the errno text when the write
  // fails (a full disk).
  void append(const nlohmann::json& record);
  const std::string& path() const { return path_; }

 private:
  void rewrite(const std::vector<nlohmann::json>& records, std::int64_t last_step);

  std::string path_;
  std::unique_ptr<durable::FileWriter> out_;
};

// Every complete record of a metrics file, in order. A torn last line (a run
// killed mid-write) is skipped; any other bad line is a loom::Error naming
// the file and line.
std::vector<nlohmann::json> read_metrics(const std::string& path);

}  // namespace loom::run_dir
