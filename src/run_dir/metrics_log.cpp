#include "loom/run_dir/metrics_log.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "loom/core/durable_files.hpp"
#include "loom/core/error.hpp"

namespace loom::run_dir {
namespace {

// The complete lines of `text` (those ending in '\n'), parsed. `torn` is set
// when the text ends in a line without its newline.
std::vector<nlohmann::json> parse_lines(const std::string& path, const std::string& text,
                                        bool& torn) {
  std::vector<nlohmann::json> records;
  std::size_t start = 0;
  int line = 1;
  torn = false;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    if (end == std::string::npos) {
      torn = true;  // killed mid-write: the line is incomplete
      break;
    }
    const std::string_view content(text.data() + start, end - start);
    if (!content.empty()) {
      nlohmann::json record = nlohmann::json::parse(content, nullptr, false);
      if (record.is_discarded() || !record.is_object()) {
        throw Error(fmt::format("{}:{}: not a JSON object", path, line));
      }
      records.push_back(std::move(record));
    }
    start = end + 1;
    ++line;
  }
  return records;
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot read: {}", path, std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::vector<nlohmann::json> read_metrics(const std::string& path) {
  bool torn = false;
  return parse_lines(path, read_all(path), torn);
}

MetricsLog::MetricsLog(std::string path, std::int64_t resume_step) : path_(std::move(path)) {
  if (std::filesystem::exists(path_)) {
    bool torn = false;
    const std::vector<nlohmann::json> records = parse_lines(path_, read_all(path_), torn);
    if (resume_step >= 0 || torn) rewrite(records, resume_step);
  }
  out_ = std::make_unique<durable::FileWriter>(path_, /*append=*/true);
}

// Keeps the records up to `last_step` (all when negative), dropping a torn
// last line, through a temporary file renamed over the old one.
void MetricsLog::rewrite(const std::vector<nlohmann::json>& records, std::int64_t last_step) {
  std::string kept;
  for (const nlohmann::json& record : records) {
    const nlohmann::json* step = record.contains("step") ? &record["step"] : nullptr;
    if (last_step >= 0 && step != nullptr && step->is_number() &&
        step->get<double>() > static_cast<double>(last_step)) {
      continue;
    }
    kept += record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  // The history of a run: replaced whole and durably, never left half written.
  durable::replace_file(path_, path_ + ".tmp", kept);
}

void MetricsLog::append(const nlohmann::json& record) {
  // One write(2) per line: a reader never sees half a record except the
  // last one of a killed run (or of a full disk), which the next open drops.
  const std::string line =
      record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  out_->write(line);
}

}  // namespace loom::run_dir
