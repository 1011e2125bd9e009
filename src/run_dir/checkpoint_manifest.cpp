// The DONE marker: writing and checking it; see checkpoint_manifest.hpp.
#include "checkpoint_manifest.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "loom/run_dir/checkpoint_store.hpp"

namespace loom::run_dir::checkpoint_detail {
namespace {

namespace fs = std::filesystem;

constexpr const char* kFormat = "loom-checkpoint";
constexpr int kVersion = 1;

// A listed path must stay inside the folder: DONE is data read from disk.
bool is_inside(const std::string& path) {
  const fs::path relative(path);
  if (path.empty() || relative.is_absolute()) return false;
  return std::none_of(relative.begin(), relative.end(),
                      [](const fs::path& part) { return part == ".." || part == "."; });
}

// Parses DONE into a manifest, or says what is wrong with it.
std::optional<Manifest> parse_manifest(const std::string& text, std::string& problem) {
  const nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    problem = "DONE is not a JSON object";
    return std::nullopt;
  }
  const auto format = json.find("format");
  const auto version = json.find("version");
  if (format == json.end() || *format != kFormat || version == json.end() || *version != kVersion) {
    problem = fmt::format("DONE is not a {} version {} marker", kFormat, kVersion);
    return std::nullopt;
  }
  const auto step = json.find("step");
  const auto files = json.find("files");
  if (step == json.end() || !step->is_number_integer() || files == json.end() ||
      !files->is_array()) {
    problem = "DONE lacks an integer 'step' or a 'files' list";
    return std::nullopt;
  }
  Manifest manifest;
  manifest.step = step->get<std::int64_t>();
  for (const nlohmann::json& file : *files) {
    const auto path = file.is_object() ? file.find("path") : file.end();
    const auto bytes = file.is_object() ? file.find("bytes") : file.end();
    if (path == file.end() || !path->is_string() || bytes == file.end() ||
        !bytes->is_number_unsigned() || !is_inside(path->get<std::string>())) {
      problem = fmt::format(
          "DONE lists a file entry {} that is not a path inside the folder "
          "with a byte count",
          file.dump());
      return std::nullopt;
    }
    manifest.files.push_back({path->get<std::string>(), bytes->get<std::uintmax_t>()});
  }
  return manifest;
}

}  // namespace

Manifest describe_payload(const fs::path& dir, std::int64_t step) {
  Manifest manifest;
  manifest.step = step;
  std::error_code error;
  for (fs::recursive_directory_iterator entry(dir, error), end; !error && entry != end;
       entry.increment(error)) {
    const fs::file_status status = entry->symlink_status(error);
    if (error) break;
    if (fs::is_directory(status)) continue;
    const std::string relative = entry->path().lexically_relative(dir).generic_string();
    if (!fs::is_regular_file(status)) {
      throw CheckpointError(
          fmt::format("{}: checkpoint payload must be regular files and folders; this is not one",
                      entry->path().string()));
    }
    if (relative == kManifestName) {
      throw CheckpointError(fmt::format(
          "{}: a payload file may not be called {}: the store writes that marker itself",
          entry->path().string(), kManifestName));
    }
    const std::uintmax_t bytes = entry->file_size(error);
    if (error) break;
    manifest.files.push_back({relative, bytes});
  }
  if (error) {
    throw CheckpointError(
        fmt::format("{}: cannot list checkpoint payload ({})", dir.string(), error.message()));
  }
  std::sort(manifest.files.begin(), manifest.files.end(),
            [](const ManifestFile& a, const ManifestFile& b) { return a.path < b.path; });
  return manifest;
}

std::string manifest_text(const Manifest& manifest) {
  nlohmann::json files = nlohmann::json::array();
  for (const ManifestFile& file : manifest.files) {
    files.push_back({{"path", file.path}, {"bytes", file.bytes}});
  }
  const nlohmann::json json = {
      {"format", kFormat}, {"version", kVersion}, {"step", manifest.step}, {"files", files}};
  return json.dump(2) + "\n";
}

std::string why_incomplete(const fs::path& dir, std::int64_t step) {
  std::ifstream in(dir / kManifestName, std::ios::binary);
  if (!in) return "no DONE marker";
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string problem;
  const std::optional<Manifest> manifest = parse_manifest(text, problem);
  if (!manifest) return problem;
  if (manifest->step != step) return fmt::format("DONE is for step {}", manifest->step);
  for (const ManifestFile& file : manifest->files) {
    std::error_code error;
    const std::uintmax_t bytes = fs::file_size(dir / file.path, error);
    if (error) return fmt::format("{} is missing or not a file", file.path);
    if (bytes != file.bytes) {
      return fmt::format("{} has {} bytes, DONE says {}", file.path, bytes, file.bytes);
    }
  }
  return "";
}

}  // namespace loom::run_dir::checkpoint_detail
