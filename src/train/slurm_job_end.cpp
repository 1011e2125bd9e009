#include "loom/train/slurm_job_end.hpp"

#include <array>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string_view>
#include <vector>

#include "loom/core/log.hpp"

namespace loom::train {
namespace {

std::optional<long long> parse_count(std::string_view text) {
  long long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < 0)
    return std::nullopt;
  return value;
}

std::string_view trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

// What `command` prints on stdout, or none when it cannot be run or fails.
std::optional<std::string> output_of(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) return std::nullopt;
  std::string output;
  std::array<char, 256> buffer{};
  while (std::fgets(buffer.data(), static_cast<int>(buffer.size()), pipe.get()) != nullptr)
    output += buffer.data();
  if (pclose(pipe.release()) != 0) return std::nullopt;
  return output;
}

}  // namespace

std::optional<double> parse_slurm_time_left(const std::string& text) {
  std::string_view rest = trimmed(text);
  long long days = 0;
  if (const auto dash = rest.find('-'); dash != std::string_view::npos) {
    const std::optional<long long> parsed = parse_count(rest.substr(0, dash));
    if (!parsed) return std::nullopt;
    days = *parsed;
    rest.remove_prefix(dash + 1);
  }
  std::vector<long long> fields;  // [hours:]minutes:seconds
  while (true) {
    const auto colon = rest.find(':');
    const std::optional<long long> field = parse_count(rest.substr(0, colon));
    if (!field) return std::nullopt;
    fields.push_back(*field);
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  if (fields.size() < 2 || fields.size() > 3) return std::nullopt;
  if (fields.size() == 2) fields.insert(fields.begin(), 0);
  return static_cast<double>(((days * 24 + fields[0]) * 60 + fields[1]) * 60 + fields[2]);
}

std::optional<SlurmJobEnd> slurm_job_end() {
  if (const char* end_time = std::getenv("SLURM_JOB_END_TIME"); end_time && *end_time) {
    const std::optional<long long> end = parse_count(trimmed(end_time));
    // 0 (or anything unreadable) means the job has no end time.
    if (!end || *end == 0) return std::nullopt;
    return SlurmJobEnd{static_cast<double>(*end - static_cast<long long>(std::time(nullptr))),
                       "SLURM_JOB_END_TIME"};
  }
  const char* job_id = std::getenv("SLURM_JOB_ID");
  if (job_id == nullptr || !parse_count(job_id)) return std::nullopt;
  // `timeout`: a controller that does not answer must not hold the run up.
  const std::optional<std::string> time_left = output_of(
      std::string("timeout 30 squeue --noheader --jobs ") + job_id + " --format %L 2>/dev/null");
  if (!time_left) {
    log::warn(
        "SLURM job {}: squeue did not say how long the job has left; only train.time_limit and "
        "the stop signals will stop this run before the job ends",
        job_id);
    return std::nullopt;
  }
  const std::optional<double> seconds = parse_slurm_time_left(*time_left);
  if (!seconds) return std::nullopt;
  return SlurmJobEnd{*seconds, "squeue"};
}

}  // namespace loom::train
