// Exporting a model: its tensors by name, config.json, and the folder that
// holds them with the tokenizer. The names are the model's own
// (named_parameters), so this file knows no layer of either family; the
// scheme they form is documented in model_export.hpp.
#include "loom/export/model_export.hpp"

#include <variant>

#include "export_detail.hpp"
#include "export_folder.hpp"
#include <fmt/format.h>

#include "loom/config/enum_names.hpp"
#include "loom/config/fields.hpp"
#include "loom/core/build_info.hpp"
#include "loom/core/durable_files.hpp"
#include "loom/core/error.hpp"

namespace loom::exporting {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The name `tensor` is registered under in `model`, or "" when it is none
// of its parameters.
std::string parameter_name(const model::LanguageModel& model, const torch::Tensor& tensor) {
  for (const auto& parameter : model.named_parameters(/*recurse=*/true))
    if (parameter.value().is_same(tensor)) return parameter.key();
  return {};
}

Metadata safetensors_metadata(const model::LanguageModel& model) {
  Metadata metadata = {
      {"format", "pt"},  // what Hugging Face's loaders expect of torch weights
      {"loom_version", LOOM_VERSION},
      {"tensor_naming", kTensorNaming},
      {"arch", config::enum_name(model.config().arch)},
  };
  for (const auto& [alias, stored] : tied_aliases(model))
    metadata[kAliasPrefix + alias] = stored;
  return metadata;
}

}  // namespace

namespace detail {

at::ScalarType torch_dtype(Dtype dtype) {
  switch (dtype) {
    case Dtype::F32:
      return torch::kFloat;
    case Dtype::F16:
      return torch::kHalf;
    case Dtype::BF16:
      return torch::kBFloat16;
  }
  throw Error(fmt::format("export: unknown dtype {}", static_cast<int>(dtype)));
}

// config.json names the dtype as torch does ("float32"), as Hugging Face's
// torch_dtype does; the safetensors header uses its own names ("F32").
const char* torch_dtype_name(Dtype dtype) {
  switch (dtype) {
    case Dtype::F32:
      return "float32";
    case Dtype::F16:
      return "float16";
    case Dtype::BF16:
      return "bfloat16";
  }
  return "?";
}

std::vector<TensorBytes> tensor_views(const std::vector<NamedTensor>& tensors, Dtype dtype) {
  std::vector<TensorBytes> views;
  for (const NamedTensor& named : tensors) {
    const auto sizes = named.tensor.sizes();
    views.push_back({named.name, dtype, {sizes.begin(), sizes.end()}, named.tensor.data_ptr()});
  }
  return views;
}

}  // namespace detail

using namespace detail;

std::vector<NamedTensor> export_tensors(const model::LanguageModel& model, Dtype dtype) {
  std::vector<NamedTensor> tensors;
  const auto add = [&](const std::string& name, const torch::Tensor& tensor) {
    tensors.push_back({name, tensor.detach().to(torch::kCPU, torch_dtype(dtype)).contiguous()});
  };
  // A tied output projection is not a parameter of its own: it is stored once.
  for (const auto& parameter : model.named_parameters(/*recurse=*/true))
    add(parameter.key(), parameter.value());
  for (const auto& buffer : model.named_buffers(/*recurse=*/true))
    add(buffer.key(), buffer.value());
  return tensors;
}

std::map<std::string, std::string> tied_aliases(const model::LanguageModel& model) {
  const std::string stored = parameter_name(model, model.output_weight());
  if (stored.empty())
    throw Error("export: the model's output projection is none of its parameters");
  if (stored == kOutputWeightName) return {};  // untied: a tensor of its own
  return {{kOutputWeightName, stored}};
}

json model_section_json(const config::ModelConfig& model) {
  // Read off the schema, so a key added to the model section is exported
  // without a change here.
  config::Config holder;
  holder.model = model;
  json section;
  for (const config::FieldRow& row : config::flatten(holder)) {
    if (row.section != "model") continue;
    section[row.key] = std::visit([](const auto& value) { return json(value); }, row.value);
  }
  return section;
}

json export_config(const model::LanguageModel& model, Dtype dtype, const json& source) {
  json exported;
  exported["loom_version"] = LOOM_VERSION;
  exported["tensor_naming"] = kTensorNaming;
  exported["dtype"] = torch_dtype_name(dtype);
  exported["vocab_size"] = model.vocab_size();
  exported["tied_weights"] = tied_aliases(model);
  exported.update(model_section_json(model.config()));
  if (model.config().arch == config::ModelArch::gpt) exported["layer_norm_eps"] = kLayerNormEps;
  if (!source.is_null()) exported["source"] = source;
  return exported;
}

ExportSummary export_model(const model::LanguageModel& model, const json& tokenizer,
                           const fs::path& out_dir, const ExportOptions& options,
                           const json& source) {
  const std::vector<NamedTensor> tensors = export_tensors(model, options.dtype);
  const std::vector<TensorBytes> views = tensor_views(tensors, options.dtype);
  const Metadata metadata = safetensors_metadata(model);
  // A checkpoint path in `source` need not be valid UTF-8; JSON text must be.
  const std::string config_text = export_config(model, options.dtype, source)
                                      .dump(2, ' ', false, json::error_handler_t::replace) +
                                  "\n";
  // As the run directory and every checkpoint store it.
  const std::string tokenizer_text = tokenizer.dump() + "\n";

  detail::write_folder_atomically(out_dir, options.force, [&](const fs::path& dir) {
    write_safetensors(dir / detail::kWeightsFile, views, metadata);
    durable::write_file_synced(dir / detail::kConfigFile, config_text);
    durable::write_file_synced(dir / detail::kTokenizerFile, tokenizer_text);
  });
  ExportSummary summary;
  summary.tensors = views.size();
  summary.weights_bytes = fs::file_size(out_dir / detail::kWeightsFile);
  return summary;
}

}  // namespace loom::exporting
