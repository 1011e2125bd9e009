#include "loom/run_dir/run_checkpoint.hpp"

#include <cmath>
#include <exception>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <sstream>

#include "adamw_state.hpp"
#include "checkpoint_layout.hpp"
#include <fmt/format.h>
#include <torch/serialize.h>
#include <torch/torch.h>

#include "loom/config/fields.hpp"
#include "loom/config/loader.hpp"
#include "loom/config/yaml_dump.hpp"
#include "loom/core/durable_files.hpp"
#include "loom/core/mix.hpp"
#include "loom/run_dir/checkpoint_store.hpp"
#include "loom/text/tokenizer.hpp"

namespace loom::run_dir {
namespace {

namespace fs = std::filesystem;

using checkpoint_detail::kConfigFile;
using checkpoint_detail::kModelFile;
using checkpoint_detail::kOptimizerFile;
using checkpoint_detail::kRngFile;
using checkpoint_detail::kStateFile;
using checkpoint_detail::kTokenizerFile;

// The generators a run draws from: CPU always, CUDA devices when present.
std::vector<at::Generator> default_generators() {
  std::vector<at::Generator> generators{at::detail::getDefaultCPUGenerator()};
  if (torch::cuda::is_available()) {
    const auto devices = static_cast<int>(torch::cuda::device_count());
    for (int i = 0; i < devices; ++i) {
      generators.push_back(at::globalContext().defaultGenerator(
          at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(i))));
    }
  }
  return generators;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CheckpointError(fmt::format("{}: cannot be read", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

nlohmann::json read_json(const fs::path& path) {
  try {
    return nlohmann::json::parse(read_text(path));
  } catch (const nlohmann::json::exception& e) {
    throw CheckpointError(fmt::format("{}: not valid JSON: {}", path.string(), e.what()));
  }
}

nlohmann::json state_to_json(const TrainingState& state) {
  nlohmann::json json;
  json["step"] = state.step;
  // JSON has no infinity: "no validation loss yet" is null.
  json["best_val_loss"] = std::isfinite(state.best_val_loss) ? nlohmann::json(state.best_val_loss)
                                                             : nlohmann::json(nullptr);
  json["loss_scaler"] = loss_scaler_state_to_json(state.loss_scaler);
  json["train_seconds"] = state.train_seconds;
  json["world_size"] = state.world_size;
  json["config_fingerprint"] = state.config_fingerprint;
  return json;
}

// An integer key of state.json. nlohmann converts a float (and an integer
// beyond 64 bits, which it reads as one) to an integer unchecked, which is
// undefined behaviour out of range: only a JSON integer that fits is taken.
std::int64_t integer_key(const nlohmann::json& json, const char* key, const std::string& source) {
  const nlohmann::json& value = json.at(key);
  const bool fits = value.is_number_integer() &&
                    !(value.is_number_unsigned() &&
                      value.get<std::uint64_t>() >
                          static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
  if (!fits) {
    throw CheckpointError(
        fmt::format("{}: '{}' is {}, expected an integer", source, key, value.dump()));
  }
  return value.get<std::int64_t>();
}

TrainingState state_from_json(const nlohmann::json& json, const std::string& source) {
  try {
    TrainingState state;
    state.step = integer_key(json, "step", source);
    const nlohmann::json& best = json.at("best_val_loss");
    if (!best.is_null()) state.best_val_loss = best.get<double>();
    state.loss_scaler = loss_scaler_state_from_json(json.at("loss_scaler"), source);
    state.train_seconds = json.at("train_seconds").get<double>();
    state.world_size = integer_key(json, "world_size", source);
    state.config_fingerprint = json.at("config_fingerprint").get<std::string>();
    if (state.step < 0) throw CheckpointError(fmt::format("{}: step is negative", source));
    return state;
  } catch (const nlohmann::json::exception& e) {
    throw CheckpointError(fmt::format("{}: malformed training state: {}", source, e.what()));
  }
}

// Writes what `save` gives its byte sink to `path`, fsynced. LibTorch's
// zip writer must never see a failed write: it throws, and then throws
// again from its destructor as it finishes the archive, which ends the
// process (std::terminate) instead of reporting a full disk. So the sink
// takes every byte, keeps the first error (a loom::Error naming the file
// and the errno text) and rethrows it once LibTorch is done.
template <class Save>
void save_through_checked_writes(const fs::path& path, Save&& save) {
  durable::FileWriter file(path);
  std::exception_ptr first_error;
  const std::function<std::size_t(const void*, std::size_t)> sink = [&](const void* data,
                                                                        std::size_t bytes) {
    if (first_error) return bytes;
    try {
      file.write(data, bytes);
    } catch (...) {
      first_error = std::current_exception();
    }
    return bytes;
  };
  save(sink);
  if (first_error) std::rethrow_exception(first_error);
  file.sync();
  file.close();
}

// Modules and optimizers by reference (torch::save wants a shared_ptr).
template <class Saveable>
void save_archive(const Saveable& object, const fs::path& path) {
  torch::serialize::OutputArchive archive;
  object.save(archive);
  save_through_checked_writes(path, [&](const auto& sink) { archive.save_to(sink); });
}

std::map<std::string, std::string> values_by_key(const config::Config& config) {
  std::map<std::string, std::string> values;
  for (const config::FieldRow& row : config::flatten(config))
    values[row.path()] = config::value_text(row.value);
  return values;
}

}  // namespace

std::string config_fingerprint(const config::Config& config) {
  std::uint64_t hash = 0x4c6f6f6d;  // "Loom"
  for (const char c : config::to_yaml(config))
    hash = mix_keys(hash, static_cast<unsigned char>(c));
  return fmt::format("{:016x}", hash);
}

std::vector<std::string> config_differences(const config::Config& before,
                                            const config::Config& after) {
  const std::map<std::string, std::string> old_values = values_by_key(before);
  std::vector<std::string> lines;
  for (const config::FieldRow& row : config::flatten(after)) {
    const std::string& old_value = old_values.at(row.path());
    const std::string new_value = config::value_text(row.value);
    if (old_value != new_value)
      lines.push_back(fmt::format("{}: {} -> {}", row.path(), old_value, new_value));
  }
  return lines;
}

std::vector<std::string> model_shape_differences(const config::ModelConfig& saved,
                                                 std::int64_t saved_vocab,
                                                 const config::ModelConfig& current,
                                                 std::int64_t current_vocab) {
  config::Config saved_config, current_config;
  saved_config.model = saved;
  current_config.model = current;
  const std::map<std::string, std::string> saved_values = values_by_key(saved_config);
  std::vector<std::string> lines;
  for (const config::FieldRow& row : config::flatten(current_config)) {
    if (row.section != "model" || row.key == "dropout") continue;
    const std::string& saved_value = saved_values.at(row.path());
    const std::string current_value = config::value_text(row.value);
    if (saved_value != current_value) {
      lines.push_back(
          fmt::format("{}: checkpoint {}, config {}", row.path(), saved_value, current_value));
    }
  }
  if (saved_vocab != current_vocab) {
    lines.push_back(
        fmt::format("vocabulary size: checkpoint {}, token store {}", saved_vocab, current_vocab));
  }
  return lines;
}

void write_run_checkpoint(const fs::path& dir, const CheckpointContents& contents) {
  save_archive(contents.model, dir / kModelFile);
  save_archive(contents.optimizer, dir / kOptimizerFile);
  std::vector<torch::Tensor> rng_states;
  for (at::Generator& generator : default_generators()) {
    std::lock_guard<std::mutex> lock(generator.mutex());
    rng_states.push_back(generator.get_state());
  }
  save_through_checked_writes(dir / kRngFile,
                              [&](const auto& sink) { torch::save(rng_states, sink); });
  durable::write_file_synced(dir / kStateFile, state_to_json(contents.state).dump(2) + "\n");
  durable::write_file_synced(dir / kConfigFile, config::to_yaml(contents.config));
  durable::write_file_synced(dir / kTokenizerFile, contents.tokenizer.dump() + "\n");
}

CheckpointInfo read_checkpoint_info(const fs::path& dir) {
  CheckpointInfo info;
  info.dir = dir;
  const fs::path state_path = dir / kStateFile;
  info.state = state_from_json(read_json(state_path), state_path.string());
  const fs::path config_path = dir / kConfigFile;
  if (!fs::exists(config_path))
    throw CheckpointError(fmt::format("{}: missing", config_path.string()));
  info.config = config::load_config_file(config_path.string());
  const fs::path tokenizer_path = dir / kTokenizerFile;
  info.tokenizer = read_json(tokenizer_path);
  try {
    info.vocab_size = text::tokenizer_from_json(info.tokenizer)->vocab_size();
  } catch (const Error& e) {
    throw CheckpointError(fmt::format("{}: {}", tokenizer_path.string(), e.what()));
  }
  return info;
}

namespace {

// torch::load reports a missing or foreign file with a c10::Error whose
// message is a page of C++ frames; this says which file instead.
// `load` reads the file into the target.
template <class Load>
void load_or_explain(const fs::path& path, const char* what, Load&& load) {
  if (!fs::exists(path)) throw CheckpointError(fmt::format("{}: missing", path.string()));
  try {
    load(path.string());
  } catch (const c10::Error& e) {
    throw CheckpointError(
        fmt::format("{}: cannot load the {}: {}", path.string(), what, e.what_without_backtrace()));
  }
}

}  // namespace

void load_model_weights(const fs::path& dir, torch::nn::Module& model) {
  load_or_explain(dir / kModelFile, "model weights", [&](const std::string& path) {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    model.load(archive);
  });
}

void load_optimizer_state(const fs::path& dir, torch::optim::AdamW& optimizer) {
  load_or_explain(dir / kOptimizerFile, "optimizer state", [&](const std::string& path) {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    read_adamw_state(archive, optimizer, path);
  });
}

void restore_rng_states(const fs::path& dir) {
  std::vector<torch::Tensor> rng_states;
  load_or_explain(dir / kRngFile, "random generator states",
                  [&](const std::string& path) { torch::load(rng_states, path); });
  std::vector<at::Generator> generators = default_generators();
  // A checkpoint from a GPU run read on CPU (or the other way) restores what
  // both sides have: the CPU generator always comes first.
  const std::size_t count = std::min(rng_states.size(), generators.size());
  for (std::size_t i = 0; i < count; ++i) {
    std::lock_guard<std::mutex> lock(generators[i].mutex());
    generators[i].set_state(rng_states[i]);
  }
}

}  // namespace loom::run_dir
