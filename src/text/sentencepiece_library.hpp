// SentencePiece, kept in a library of its own and loaded with dlopen.
//
// Why: Debian's libsentencepiece carries its own copy of protobuf-lite and
// exports it, while LibTorch needs the system's full libprotobuf. Loaded
// side by side into one process, the two copies' same-named symbols bind to
// each other and one of them crashes (libprotobuf in its static
// initialisers, or SentencePiece on its first model). So no Loom program
// links libsentencepiece: the small plugin libloom_sentencepiece.so does,
// and is opened RTLD_LOCAL | RTLD_DEEPBIND, which keeps SentencePiece's
// protobuf symbols out of the process's global scope and binds
// SentencePiece to its own copy first.
//
// This header is the plugin's whole interface: plain functions over
// standard types (the plugin and Loom share one libstdc++).
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace loom::text::spm {

inline constexpr int kPluginAbiVersion = 1;

struct PieceInfo {
  std::string piece;
  bool unknown = false;
  bool control = false;
  bool byte = false;
  bool unused = false;
};

// Hands SentencePiece's trainer the sample, repaired where `needs_repair`
// says, one text at a time (no copy of the whole sample).
struct TrainingSample {
  const std::vector<std::string>* texts = nullptr;
  bool (*needs_repair)(std::string_view text) = nullptr;
  std::string (*repair)(std::string_view text) = nullptr;
};

// Each function reports failure by returning null/false with `error` set.
struct PluginApi {
  int abi_version = kPluginAbiVersion;
  // A processor for the serialized model, and the model's pieces by id.
  void* (*load)(const std::string& model, std::vector<PieceInfo>& pieces, std::string& error);
  void (*release)(void* processor);
  bool (*encode)(const void* processor, std::string_view text, std::vector<int>& ids,
                 std::string& error);
  // Trains a model with the given trainer arguments and process-wide seed.
  bool (*train)(const std::unordered_map<std::string, std::string>& arguments,
                const TrainingSample& sample, unsigned seed, std::string& model,
                std::string& error);
};

// The plugin, loaded on first use. Looks for libloom_sentencepiece.so at
// $LOOM_SENTENCEPIECE_PLUGIN, beside the running program, in ../lib beside
// it, and where this build put it; throws loom::Error naming the places
// tried when none loads.
const PluginApi& plugin();

}  // namespace loom::text::spm

// The plugin's one exported symbol.
extern "C" const loom::text::spm::PluginApi* loom_sentencepiece_plugin_api();
