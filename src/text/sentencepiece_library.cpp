#include "sentencepiece_library.hpp"

#include <filesystem>
#include <mutex>

#include <dlfcn.h>
#include <fmt/format.h>

#include "loom/core/error.hpp"

namespace loom::text::spm {
namespace {

namespace fs = std::filesystem;

constexpr const char* kPluginName = "libloom_sentencepiece.so";

// AddressSanitizer and ThreadSanitizer refuse to open a library with
// RTLD_DEEPBIND: it would bind past their interceptors of malloc and the
// rest (google/sanitizers#611). Sanitizer builds open the plugin without it;
// RTLD_LOCAL still keeps SentencePiece's protobuf out of the global scope.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr int kBindOwnSymbolsFirst = 0;
#else
constexpr int kBindOwnSymbolsFirst = RTLD_DEEPBIND;
#endif

std::vector<fs::path> candidate_paths() {
  std::vector<fs::path> paths;
  if (const char* explicit_path = std::getenv("LOOM_SENTENCEPIECE_PLUGIN"))
    paths.emplace_back(explicit_path);
  std::error_code ignored;
  const fs::path program = fs::read_symlink("/proc/self/exe", ignored);
  if (!program.empty()) {
    paths.push_back(program.parent_path() / kPluginName);
    paths.push_back(program.parent_path() / ".." / "lib" / kPluginName);
  }
  paths.emplace_back(LOOM_SENTENCEPIECE_PLUGIN_BUILD_PATH);
  return paths;
}

const PluginApi* open_plugin(std::string& tried) {
  for (const fs::path& path : candidate_paths()) {
    if (!fs::exists(path)) {
      tried += fmt::format("\n  {}: no such file", path.string());
      continue;
    }
    // RTLD_DEEPBIND: SentencePiece binds to its own protobuf first;
    // RTLD_LOCAL: nothing else in the process binds to it.
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | kBindOwnSymbolsFirst);
    if (handle == nullptr) {
      tried += fmt::format("\n  {}: {}", path.string(), dlerror());
      continue;
    }
    using Entry = const PluginApi* (*)();
    const auto entry = reinterpret_cast<Entry>(dlsym(handle, "loom_sentencepiece_plugin_api"));
    const PluginApi* api = entry != nullptr ? entry() : nullptr;
    if (api != nullptr && api->abi_version == kPluginAbiVersion) return api;
    tried += fmt::format("\n  {}: not a Loom SentencePiece plugin of this version", path.string());
    dlclose(handle);
  }
  return nullptr;
}

}  // namespace

const PluginApi& plugin() {
  static std::once_flag once;
  static const PluginApi* api = nullptr;
  static std::string tried;
  std::call_once(once, [] { api = open_plugin(tried); });
  if (api == nullptr) {
    throw Error(fmt::format(
        "SentencePiece tokenizers (bpe, unigram) need {}, which could not be loaded; tried:{}\n"
        "set LOOM_SENTENCEPIECE_PLUGIN to its path",
        kPluginName, tried));
  }
  return *api;
}

}  // namespace loom::text::spm
