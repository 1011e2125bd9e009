// The DONE marker: writing and checking it; see checkpoint_manifest.hpp.
#include "checkpoint_manifest.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "loom/core/checksum.hpp"
#include "loom/run_dir/checkpoint_store.hpp"

namespace loom::run_dir::checkpoint_detail {
namespace {

namespace fs = std::filesystem;

constexpr const char* kFormat = "loom-checkpoint";

// A listed path must stay inside the folder: DONE is data read from disk.
bool is_inside(const std::string& path) {
  const fs::path relative(path);
  if (path.empty() || relative.is_absolute()) return false;
  return std::none_of(relative.begin(), relative.end(),
                      [](const fs::path& part) { return part == ".." || part == "."; });
}

// One entry of DONE's "files", or nullopt with `problem` set.
std::optional<ManifestFile> parse_file_entry(const nlohmann::json& file, int version,
                                             std::string& problem) {
  const auto path = file.is_object() ? file.find("path") : file.end();
  const auto bytes = file.is_object() ? file.find("bytes") : file.end();
  if (path == file.end() || !path->is_string() || bytes == file.end() ||
      !bytes->is_number_unsigned() || !is_inside(path->get<std::string>())) {
    problem = fmt::format(
        "DONE lists a file entry {} that is not a path inside the folder with a byte count",
        file.dump());
    return std::nullopt;
  }
  ManifestFile entry{path->get<std::string>(), bytes->get<std::uintmax_t>(), std::nullopt};
  if (version == kSizesOnlyManifestVersion) return entry;
  const auto crc32 = file.find("crc32");
  if (crc32 == file.end()) {
    problem = fmt::format("DONE lists a file entry {} without a crc32", file.dump());
    return std::nullopt;
  }
  entry.crc32 = crc32->is_string() ? parse_crc32_hex(crc32->get<std::string>()) : std::nullopt;
  if (!entry.crc32) {
    problem =
        fmt::format("DONE lists a file entry {} whose crc32 is not 8 hex digits", file.dump());
    return std::nullopt;
  }
  return entry;
}

// DONE of `dir` for `step`, its files present with their sizes; nullopt
// with `problem` set otherwise.
std::optional<Manifest> read_complete_manifest(const fs::path& dir, std::int64_t step,
                                               std::string& problem) {
  std::ifstream in(dir / kManifestName, std::ios::binary);
  if (!in) {
    problem = "no DONE marker";
    return std::nullopt;
  }
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::optional<Manifest> manifest = parse_manifest(text, problem);
  if (!manifest) return std::nullopt;
  if (manifest->step != step) {
    problem = fmt::format("DONE is for step {}", manifest->step);
    return std::nullopt;
  }
  for (const ManifestFile& file : manifest->files) {
    std::error_code error;
    const std::uintmax_t bytes = fs::file_size(dir / file.path, error);
    if (error) {
      problem = fmt::format("{} is missing or not a file", file.path);
      return std::nullopt;
    }
    if (bytes != file.bytes) {
      problem = fmt::format("{} has {} bytes, DONE says {}", file.path, bytes, file.bytes);
      return std::nullopt;
    }
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
    FileChecksum sum;
    try {
      sum = checksum_file(entry->path());
    } catch (const Error& e) {
      throw CheckpointError(e.what());
    }
    manifest.files.push_back({relative, sum.bytes, sum.crc32});
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
    nlohmann::json entry = {{"path", file.path}, {"bytes", file.bytes}};
    if (file.crc32) entry["crc32"] = crc32_hex(*file.crc32);
    files.push_back(std::move(entry));
  }
  const nlohmann::json json = {{"format", kFormat},
                               {"version", manifest.version},
                               {"step", manifest.step},
                               {"files", files}};
  return json.dump(2) + "\n";
}

std::optional<Manifest> parse_manifest(const std::string& text, std::string& problem) {
  const nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    problem = "DONE is not a JSON object";
    return std::nullopt;
  }
  const auto format = json.find("format");
  const auto version = json.find("version");
  if (format == json.end() || *format != kFormat || version == json.end() ||
      !version->is_number_integer() ||
      (*version != kSizesOnlyManifestVersion && *version != kManifestVersion)) {
    problem = fmt::format("DONE is not a {} marker of version {} or {}", kFormat,
                          kSizesOnlyManifestVersion, kManifestVersion);
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
  manifest.version = version->get<int>();
  manifest.step = step->get<std::int64_t>();
  for (const nlohmann::json& file : *files) {
    std::optional<ManifestFile> entry = parse_file_entry(file, manifest.version, problem);
    if (!entry) return std::nullopt;
    manifest.files.push_back(std::move(*entry));
  }
  return manifest;
}

std::string why_incomplete(const fs::path& dir, std::int64_t step) {
  std::string problem;
  read_complete_manifest(dir, step, problem);
  return problem;
}

PayloadCheck verify_payload(const fs::path& dir, std::int64_t step) {
  PayloadCheck check;
  const std::optional<Manifest> manifest = read_complete_manifest(dir, step, check.problem);
  if (!manifest) {
    check.outcome = PayloadCheck::Outcome::damaged;
    return check;
  }
  check.files = manifest->files.size();
  if (manifest->version == kSizesOnlyManifestVersion) {
    check.outcome = PayloadCheck::Outcome::no_checksums;
    check.problem = fmt::format(
        "no checksums: its DONE is version {}, written by a Loom before checksums; sizes match",
        manifest->version);
    return check;
  }
  for (const ManifestFile& file : manifest->files) {
    FileChecksum sum;
    try {
      sum = checksum_file(dir / file.path);
    } catch (const Error& e) {
      check.outcome = PayloadCheck::Outcome::damaged;
      check.problem = fmt::format("{} cannot be read: {}", file.path, e.what());
      return check;
    }
    check.bytes_read += sum.bytes;
    if (sum.crc32 != *file.crc32 || sum.bytes != file.bytes) {
      check.outcome = PayloadCheck::Outcome::damaged;
      check.problem = fmt::format("{} does not match its checksum (crc32 {} recorded, {} read)",
                                  file.path, crc32_hex(*file.crc32), crc32_hex(sum.crc32));
      return check;
    }
  }
  return check;
}

}  // namespace loom::run_dir::checkpoint_detail
