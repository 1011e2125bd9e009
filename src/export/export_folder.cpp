// Writing an export folder through a temporary one; see export_folder.hpp.
#include "export_folder.hpp"

#include <algorithm>
#include <string>
#include <system_error>

#include <fmt/format.h>

#include "loom/core/durable_files.hpp"
#include "loom/core/error.hpp"

namespace loom::exporting::detail {
namespace {

namespace fs = std::filesystem;

// The first entry of `dir` that is not one of an export's own files, or an
// empty path when there is none.
fs::path foreign_entry(const fs::path& dir) {
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    const bool ours =
        std::find(kExportFiles.begin(), kExportFiles.end(), name) != kExportFiles.end();
    if (!ours || !entry.is_regular_file()) return entry.path();
  }
  return {};
}

// Throws UsageError unless `dir` is a folder holding nothing but an
// export's files, which Loom may then remove.
void check_replaceable(const fs::path& dir, const std::string& advice) {
  if (!fs::is_directory(fs::symlink_status(dir))) {
    throw UsageError(fmt::format("{} exists and is not a folder; {}", dir.string(), advice));
  }
  const fs::path foreign = foreign_entry(dir);
  if (!foreign.empty()) {
    throw UsageError(fmt::format("{} holds '{}', which is not part of an export; {}", dir.string(),
                                 foreign.filename().string(), advice));
  }
}

void remove_folder(const fs::path& dir) {
  std::error_code error;
  fs::remove_all(dir, error);
  if (error) throw Error(fmt::format("{}: cannot remove it ({})", dir.string(), error.message()));
}

void create_folder(const fs::path& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) throw Error(fmt::format("{}: cannot create it ({})", dir.string(), error.message()));
}

}  // namespace

void write_folder_atomically(const fs::path& out_dir, bool force,
                             const std::function<void(const fs::path&)>& write) {
  // "out/" names the folder "out": without the slash the temporary folder
  // is its sibling, not its child.
  const fs::path target = out_dir.has_filename() ? out_dir : out_dir.parent_path();
  const fs::path temp = target.string() + ".tmp";
  const bool replacing = fs::exists(fs::symlink_status(target));
  if (replacing && !force) {
    throw UsageError(fmt::format("{} already exists; pass --force to replace it", target.string()));
  }
  // Checked before any work, so a refusal costs nothing.
  if (replacing) check_replaceable(target, "refusing to replace it with an export");
  if (fs::exists(fs::symlink_status(temp))) {
    check_replaceable(temp, "move it away: an export is written there first");
    remove_folder(temp);
  }
  const fs::path parent = fs::absolute(target).parent_path();
  create_folder(parent);
  create_folder(temp);
  try {
    write(temp);
    durable::sync_tree(temp);
  } catch (...) {
    std::error_code ignored;  // the first error is the one worth reporting
    fs::remove_all(temp, ignored);
    throw;
  }
  // The new export is whole on disk before the old one goes.
  if (replacing) remove_folder(target);
  durable::rename_path(temp, target);
  durable::sync_directory(parent);
}

}  // namespace loom::exporting::detail
