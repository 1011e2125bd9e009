// From the paths a user gave `loom prepare` to the list of inputs it reads:
// files, folders walked recursively, glob patterns, Discord packages and
// Telegram export folders, each with its format. The order is that of the
// arguments, and within a folder or glob that of the paths' bytes, so the
// same arguments give the same corpus on every machine. An input reached
// again is dropped, and the run's own outputs are never inputs.
#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "ascii_text.hpp"
#include "discord_package.hpp"
#include "input_stream.hpp"
#include "readers.hpp"
#include <fmt/format.h>
#include <glob.h>

namespace loom::data_tools {
namespace {

namespace fs = std::filesystem;

constexpr InputFormat kAllFormats[] = {InputFormat::text, InputFormat::jsonl, InputFormat::discord,
                                       InputFormat::telegram};

// The forced format, or nothing for "auto".
std::optional<InputFormat> parse_format(const std::string& name) {
  if (name == "auto") return std::nullopt;
  for (const InputFormat format : kAllFormats) {
    if (name == input_format_name(format)) return format;
  }
  throw InputResolutionError(fmt::format(
      "unknown input format '{}'; expected auto, text, jsonl, discord or telegram", name));
}

bool is_hidden(const fs::path& path) {
  const std::string name = path.filename().string();
  return !name.empty() && name[0] == '.';
}

// A token store or a temporary file of one being written (NAME.h5.tmp,
// NAME.h5.train.tmp, NAME.h5.val.docs.tmp): what `loom prepare` leaves
// beside a corpus, never corpus itself.
bool is_token_store(const fs::path& path) {
  const std::string name = path.filename().string();
  if (ends_with_ignoring_case(name, ".h5")) return true;
  if (!ends_with_ignoring_case(name, ".tmp")) return false;
  for (std::size_t dot = name.find('.'); dot != std::string::npos; dot = name.find('.', dot + 1)) {
    if (starts_with_ignoring_case(std::string_view(name).substr(dot), ".h5.")) return true;
  }
  return false;
}

bool has_glob_characters(const std::string& text) {
  return text.find_first_of("*?[") != std::string::npos;
}

// The path with links, "." and ".." resolved, as far as it exists; the rest
// (a store not written yet) is appended as it is spelled.
std::string canonical_path(const fs::path& path) {
  std::error_code error;
  // Absolute first: a relative path none of which exists would stay relative.
  fs::path absolute = fs::absolute(path, error);
  if (error) absolute = path;
  const fs::path canonical = fs::weakly_canonical(absolute, error);
  return (error ? absolute.lexically_normal() : canonical).string();
}

// The format of a file, from its name and, for .json, its top-level keys.
InputFormat guess_file_format(const fs::path& path) {
  const std::string file_name = path.filename().string();  // the view below points into it
  const std::string_view name = without_compression_suffix(file_name);
  if (ends_with_ignoring_case(name, ".jsonl")) return InputFormat::jsonl;
  if (equals_ignoring_case(name, "result.json")) return InputFormat::telegram;
  if (ends_with_ignoring_case(name, ".json") && has_telegram_members(path.string())) {
    return InputFormat::telegram;
  }
  return InputFormat::text;
}

// A folder Telegram Desktop exported: result.json beside photos/, files/...
std::optional<fs::path> telegram_export_file(const fs::path& folder) {
  std::error_code error;
  const fs::path result = folder / "result.json";
  if (fs::is_regular_file(result, error)) return result;
  return std::nullopt;
}

// Telegram Desktop exports HTML unless told otherwise: a chat as
// messages.html (messages2.html, ...) beside css/ and js/, a whole account
// as export_results.html beside lists/ and chats/. The page that says so.
std::optional<fs::path> telegram_html_export_page(const fs::path& folder) {
  std::error_code error;
  const fs::path account = folder / "export_results.html";
  if (fs::is_regular_file(account, error)) return account;
  const fs::path chat = folder / "messages.html";
  if (fs::is_regular_file(chat, error) && fs::is_directory(folder / "css", error)) return chat;
  return std::nullopt;
}

std::vector<std::string> glob_matches(const std::string& pattern) {
  glob_t matches{};
  const int status = ::glob(pattern.c_str(), 0, nullptr, &matches);
  std::vector<std::string> paths;
  if (status == 0) paths.assign(matches.gl_pathv, matches.gl_pathv + matches.gl_pathc);
  globfree(&matches);
  // glob(3) sorts by the locale's collation; bytes are the same everywhere.
  std::sort(paths.begin(), paths.end());
  return paths;
}

// ExcludedPaths in canonical form.
class Exclusions {
 public:
  explicit Exclusions(const ExcludedPaths& excluded) {
    for (const std::string& file : excluded.files)
      files_.insert(canonical_path(file));
    for (const std::string& prefix : excluded.prefixes) {
      // "out/corpus.h5." names no file: only its folder can be resolved.
      const fs::path spelled(prefix);
      const fs::path folder = spelled.has_parent_path() ? spelled.parent_path() : fs::path(".");
      prefixes_.push_back((fs::path(canonical_path(folder)) / spelled.filename()).string());
    }
  }

  bool contain(const std::string& canonical) const {
    return files_.count(canonical) > 0 ||
           std::any_of(prefixes_.begin(), prefixes_.end(), [&](const std::string& prefix) {
             return canonical.compare(0, prefix.size(), prefix) == 0;
           });
  }

 private:
  std::set<std::string> files_;
  std::vector<std::string> prefixes_;
};

class InputCollector {
 public:
  InputCollector(std::optional<InputFormat> forced, const ExcludedPaths& excluded)
      : forced_(forced), exclusions_(excluded) {}

  void add_argument(const std::string& argument) {
    argument_ = argument;
    std::vector<InputFile> found;
    std::error_code error;
    if (fs::exists(argument, error)) {
      add_path(argument, found);
    } else {
      const std::vector<std::string> matches =
          has_glob_characters(argument) ? glob_matches(argument) : std::vector<std::string>{};
      if (matches.empty()) fail("no such file, folder or glob match");
      for (const std::string& match : matches)
        add_path(match, found);
    }
    const bool named_file = fs::is_regular_file(argument, error);
    std::size_t kept = 0;
    for (InputFile& input : found) {
      const std::string canonical = canonical_path(input.path);
      if (exclusions_.contain(canonical)) {
        if (named_file) fail("this run writes it; an output is never read as corpus");
        continue;
      }
      ++kept;
      // Counted as kept even when listed already: naming a file twice is
      // no mistake.
      if (listed_.insert(canonical).second) inputs_.push_back(std::move(input));
    }
    if (kept == 0) {
      fail(forced_ == InputFormat::discord
               ? "no Discord data package (a folder with Messages), messages folder or channel "
                 "folder in it"
               : "no files in it (hidden files, .h5 token stores and this run's outputs are "
                 "skipped)");
    }
  }

  std::vector<InputFile> take() { return std::move(inputs_); }

 private:
  std::string about_argument(const std::string& complaint) const {
    return fmt::format("input '{}': {}", argument_, complaint);
  }
  [[noreturn]] void fail(const std::string& complaint) const {
    throw InputResolutionError(about_argument(complaint));
  }

  bool looks_for_packages() const { return !forced_ || *forced_ == InputFormat::discord; }

  void add_path(const fs::path& path, std::vector<InputFile>& found) {
    std::error_code error;
    const fs::file_status status = fs::status(path, error);
    if (fs::is_directory(status)) {
      if (add_export_folder(path, found)) return;
      const std::size_t before = found.size();
      walk(path, found);
      std::sort(found.begin() + static_cast<std::ptrdiff_t>(before), found.end(),
                [](const InputFile& a, const InputFile& b) { return a.path < b.path; });
    } else if (fs::is_regular_file(status)) {
      if (forced_ == InputFormat::discord) {
        fail(fmt::format(
            "'{}' is a file; a Discord data package is the folder holding Messages (or that "
            "folder, or one channel folder in it)",
            path.string()));
      }
      found.push_back(file_input(path));
    } else {
      fail(fmt::format("'{}' is neither a file nor a folder", path.string()));
    }
  }

  // A Discord package or (guessing formats) a Telegram export folder, added
  // to `found` as one input; false for any other folder.
  bool add_export_folder(const fs::path& folder, std::vector<InputFile>& found) const {
    if (looks_for_packages()) {
      if (const std::optional<DiscordPackage> package = find_discord_package(folder)) {
        // Refused here, before any reading, like a folder without files.
        if (package->channels.empty()) fail(package->missing_messages());
        found.push_back(InputFile{folder.string(), package->bytes(), InputFormat::discord});
        return true;
      }
    }
    if (!forced_) {
      if (const std::optional<fs::path> result = telegram_export_file(folder)) {
        found.push_back(InputFile{result->string(), fs::file_size(*result), InputFormat::telegram});
        return true;
      }
      if (const std::optional<fs::path> page = telegram_html_export_page(folder)) {
        fail(fmt::format(
            "'{}' is a Telegram Desktop export in HTML ({}), which Loom does not read; export "
            "again with Format 'Machine-readable JSON' and give the folder holding result.json",
            folder.string(), page->filename().string()));
      }
    }
    return false;
  }

  // Every file under `folder`, exports as single inputs, hidden files and
  // token stores left out. Symbolic links are followed, each folder visited
  // once (a link back up the tree would otherwise never end).
  void walk(const fs::path& folder, std::vector<InputFile>& found) {
    std::error_code error;
    const fs::path canonical = fs::canonical(folder, error);
    if (!error && !visited_.insert(canonical).second) return;
    fs::directory_iterator entry(folder, error);
    for (; !error && entry != fs::directory_iterator(); entry.increment(error)) {
      if (is_hidden(entry->path())) continue;
      std::error_code ignored;  // an entry that vanished meanwhile is skipped
      if (entry->is_directory(ignored)) {
        if (!add_export_folder(entry->path(), found)) walk(entry->path(), found);
      } else if (entry->is_regular_file(ignored) && forced_ != InputFormat::discord &&
                 !is_token_store(entry->path())) {
        // (With --format discord only the packages in a folder are inputs.)
        found.push_back(file_input(entry->path()));
      }
    }
    if (error) {
      // Not the command line's fault: the folder exists but cannot be read.
      throw CorpusError(about_argument(
          fmt::format("cannot list folder '{}': {}", folder.string(), error.message())));
    }
  }

  InputFile file_input(const fs::path& path) const {
    return InputFile{path.string(), fs::file_size(path),
                     forced_ ? *forced_ : guess_file_format(path)};
  }

  std::optional<InputFormat> forced_;
  Exclusions exclusions_;
  std::vector<InputFile> inputs_;
  std::set<std::string> listed_;  // canonical paths of inputs_
  std::set<fs::path> visited_;    // canonical paths of the folders walked
  std::string argument_;          // the argument being resolved, for messages
};

}  // namespace

const char* input_format_name(InputFormat format) {
  switch (format) {
    case InputFormat::text:
      return "text";
    case InputFormat::jsonl:
      return "jsonl";
    case InputFormat::discord:
      return "discord";
    case InputFormat::telegram:
      return "telegram";
  }
  return "text";
}

std::vector<InputFile> resolve_inputs(const std::vector<std::string>& paths,
                                      const std::string& format, const ExcludedPaths& excluded) {
  InputCollector collector(parse_format(format), excluded);
  for (const std::string& path : paths)
    collector.add_argument(path);
  return collector.take();
}

}  // namespace loom::data_tools
