// The reading side of a checkpoints folder: which step-N folders are
// complete, the latest, and the one `best` names. Nothing here writes.
#include <algorithm>
#include <charconv>
#include <fstream>
#include <iterator>
#include <system_error>

#include "checkpoint_layout.hpp"
#include "checkpoint_manifest.hpp"
#include <fmt/format.h>

#include "loom/core/log.hpp"
#include "loom/run_dir/checkpoint_store.hpp"

namespace loom::run_dir {
namespace {

namespace fs = std::filesystem;
using checkpoint_detail::read_pointer;
using checkpoint_detail::step_of_dir_name;
using checkpoint_detail::why_incomplete;

constexpr const char* kDirPrefix = "step-";
constexpr const char* kSetAsideSuffix = ".damaged";

struct PassedOver {
  std::int64_t step;
  std::string name;
  std::string reason;
};

// Complete checkpoints by ascending step; incomplete step-N folders go to
// `passed_over` with the reason.
std::vector<Checkpoint> scan(const fs::path& dir, std::vector<PassedOver>* passed_over) {
  std::vector<Checkpoint> complete;
  for (Checkpoint& folder : checkpoint_detail::step_folders(dir)) {
    std::string reason = why_incomplete(folder.dir, folder.step);
    if (reason.empty()) {
      complete.push_back(std::move(folder));
    } else if (passed_over != nullptr) {
      passed_over->push_back({folder.step, folder.dir.filename().string(), std::move(reason)});
    }
  }
  return complete;
}

}  // namespace

namespace checkpoint_detail {

std::optional<std::int64_t> step_of_dir_name(const std::string& name) {
  const std::size_t prefix = std::char_traits<char>::length(kDirPrefix);
  if (name.compare(0, prefix, kDirPrefix) != 0) return std::nullopt;
  std::int64_t step = 0;
  const char* first = name.data() + prefix;
  const char* last = name.data() + name.size();
  const auto [end, error] = std::from_chars(first, last, step);
  if (error != std::errc() || end != last || step < 0 || checkpoint_dir_name(step) != name) {
    return std::nullopt;
  }
  return step;
}

std::vector<Checkpoint> step_folders(const fs::path& dir) {
  std::vector<Checkpoint> folders;
  std::error_code error;
  // Only a folder that is not there has no checkpoints; one that cannot be
  // read is an error, or a resume would silently start from scratch.
  if (fs::status(dir, error).type() == fs::file_type::not_found) return folders;
  for (fs::directory_iterator entry(dir, error), end; !error && entry != end;
       entry.increment(error)) {
    const std::optional<std::int64_t> step = step_of_dir_name(entry->path().filename().string());
    std::error_code not_a_folder;
    if (step && entry->is_directory(not_a_folder)) folders.push_back({*step, entry->path()});
  }
  if (error) {
    throw CheckpointError(
        fmt::format("{}: cannot list checkpoints ({})", dir.string(), error.message()));
  }
  std::sort(folders.begin(), folders.end(),
            [](const Checkpoint& a, const Checkpoint& b) { return a.step < b.step; });
  return folders;
}

std::string set_aside_name(std::int64_t step, int attempt) {
  const std::string name = checkpoint_dir_name(step) + kSetAsideSuffix;
  return attempt <= 1 ? name : fmt::format("{}-{}", name, attempt);
}

std::optional<std::int64_t> step_of_set_aside_name(const std::string& name) {
  const std::size_t suffix = name.find(kSetAsideSuffix);
  if (suffix == std::string::npos) return std::nullopt;
  const std::string rest = name.substr(suffix + std::char_traits<char>::length(kSetAsideSuffix));
  const bool numbered =
      rest.size() > 1 && rest[0] == '-' &&
      std::all_of(rest.begin() + 1, rest.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!rest.empty() && !numbered) return std::nullopt;
  return step_of_dir_name(name.substr(0, suffix));
}

std::string pointer_text(std::int64_t step) {
  return checkpoint_dir_name(step) + "\n";
}

std::optional<std::int64_t> read_pointer(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.pop_back();
  }
  return step_of_dir_name(text);
}

}  // namespace checkpoint_detail

std::string checkpoint_dir_name(std::int64_t step) {
  return fmt::format("{}{:08d}", kDirPrefix, step);
}

std::vector<Checkpoint> list_checkpoints(const fs::path& checkpoints_dir) {
  return scan(checkpoints_dir, nullptr);
}

std::optional<Checkpoint> latest_checkpoint(const fs::path& checkpoints_dir) {
  std::vector<PassedOver> passed_over;
  const std::vector<Checkpoint> complete = scan(checkpoints_dir, &passed_over);
  const std::int64_t newest = complete.empty() ? -1 : complete.back().step;
  for (const PassedOver& folder : passed_over) {
    if (folder.step > newest) {
      log::warn("{}: not a complete checkpoint ({}); passed over",
                (checkpoints_dir / folder.name).string(), folder.reason);
    }
  }
  if (complete.empty()) return std::nullopt;
  return complete.back();
}

std::optional<Checkpoint> best_checkpoint(const fs::path& checkpoints_dir) {
  const std::optional<std::int64_t> step =
      read_pointer(checkpoints_dir / checkpoint_detail::kBestPointer);
  if (!step) return std::nullopt;
  const fs::path dir = checkpoints_dir / checkpoint_dir_name(*step);
  if (!why_incomplete(dir, *step).empty()) return std::nullopt;
  return Checkpoint{*step, dir};
}

}  // namespace loom::run_dir
