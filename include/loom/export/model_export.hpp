// A trained model exported for tools outside Loom: what `loom export` writes.
// The folder holds
//
//   model.safetensors  the weights (safetensors.hpp), named as below
//   config.json        what rebuilds the model: every model.* key of the run
//                      (arch, block_size, n_layer, n_head, n_embd, dropout,
//                      bias, positions, rope_base, norm, mlp, mlp_hidden,
//                      activation, qk_norm, tie_weights), vocab_size,
//                      layer_norm_eps (GPT; also RMSNorm's), the dtype, the tensor naming
//                      scheme, tied_weights, the Loom version and the
//                      checkpoint it came from
//   tokenizer.json     the run's tokenizer JSON, as Loom stores it
//
// and scripts/load_safetensors.py is the worked example of loading it in
// Python with torch and numpy alone.
//
// Tensor names, scheme "loom-1": the model's own parameter names (nanoGPT's,
// without its "transformer." prefix). Linear weights are [out, in], as in
// torch.nn.Linear (GPT-2's own checkpoints store c_attn, c_fc and c_proj
// transposed). Names marked (bias) exist only with model.bias.
//
//   GPT
//   wte.weight                [vocab_size, n_embd]   token embedding
//   wpe.weight                [block_size, n_embd]   positions: learned
//   sinusoids                 [block_size, n_embd]   positions: sinusoidal (fixed, not trained)
//                                                    (positions: rope has no tensor: q and
//                                                    k's channels d and d + D/2 turn by
//                                                    position x rope_base^(-2d / D))
//   h.<i>.ln_1.weight, .bias  [n_embd]               i = 0 .. n_layer-1; LayerNorm (bias),
//                                                    or RMSNorm (weight only)
//   h.<i>.attn.c_attn.weight  [3 n_embd, n_embd]     rows: q, k, v; in each, head j has
//   h.<i>.attn.c_attn.bias    [3 n_embd]               rows j*D .. (j+1)*D-1, D = n_embd/n_head
//   (bias) h.<i>.attn.c_proj.weight  [n_embd, n_embd]       .bias [n_embd] (bias)
//   h.<i>.attn.q_norm.weight, .bias  [D]             qk_norm: model.norm over each head's q
//   h.<i>.attn.k_norm.weight, .bias  [D]               and k, before rotary positions (bias:
//                                                    LayerNorm with model.bias only)
//   h.<i>.ln_2.weight, .bias  [n_embd]
//   h.<i>.mlp.c_fc.weight     [H, n_embd]            .bias [H] (bias); H = mlp_hidden
//                                                    (0: 4 n_embd); swiglu: [2H, n_embd],
//                                                    rows 0..H-1 the gate, H..2H-1 up,
//                                                    H = round(8 n_embd / 3) when 0
//   h.<i>.mlp.c_proj.weight   [n_embd, H]            .bias [n_embd] (bias)
//   ln_f.weight, .bias        [n_embd]
//   lm_head.weight            [vocab_size, n_embd]   only when tie_weights is off
//
//   LSTM (gates in torch.nn.LSTM's order i, f, g, o; k = 0 .. n_layer-1)
//   wte.weight                [vocab_size, n_embd]
//   lstm.weight_ih_l<k>       [4 n_embd, n_embd]
//   lstm.weight_hh_l<k>       [4 n_embd, n_embd]
//   lstm.bias_ih_l<k>, lstm.bias_hh_l<k>  [4 n_embd]  (bias)
//   lm_head.weight            [vocab_size, n_embd]   only when tie_weights is off
//
// safetensors forbids two names sharing storage, so a tied output projection
// is stored once, as wte.weight, and named by an alias: the metadata entry
// "alias:lm_head.weight" = "wte.weight", and "tied_weights" in config.json.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "loom/export/safetensors.hpp"
#include "loom/model/language_model.hpp"

namespace loom::exporting {

// Bumped whenever a tensor's name, shape or meaning above changes.
inline constexpr const char* kTensorNaming = "loom-1";

// The name the output projection has when it is a tensor of its own, and the
// name an alias gives it when it is tied to the token embedding.
inline constexpr const char* kOutputWeightName = "lm_head.weight";

// The metadata key prefix of an alias: "alias:NAME" = "STORED NAME".
inline constexpr const char* kAliasPrefix = "alias:";

struct NamedTensor {
  std::string name;
  torch::Tensor tensor;  // on the CPU, contiguous, in the export dtype
};

// Every parameter and buffer of `model`, each stored once, by name.
std::vector<NamedTensor> export_tensors(const model::LanguageModel& model, Dtype dtype);

// The names that are aliases of stored tensors: {"lm_head.weight":
// "wte.weight"} when the output projection is tied, else empty.
std::map<std::string, std::string> tied_aliases(const model::LanguageModel& model);

// Every key of the model section ({"arch": "gpt", "n_layer": 6, ...}), as
// the run's config.yaml writes it: config.json's model keys, and what
// `loom serve` reports as the model.
nlohmann::json model_section_json(const config::ModelConfig& model);

// config.json's content. `source` (e.g. the checkpoint and its step) is
// recorded under "source" when not null.
nlohmann::json export_config(const model::LanguageModel& model, Dtype dtype,
                             const nlohmann::json& source = nullptr);

struct ExportOptions {
  Dtype dtype = Dtype::F32;
  // Replace an existing folder at the destination, if it holds nothing but
  // a previous export's files.
  bool force = false;
};

struct ExportSummary {
  std::size_t tensors = 0;           // stored in model.safetensors (aliases not counted)
  std::uintmax_t weights_bytes = 0;  // model.safetensors' size
};

// Writes the three files into `out_dir`, through a temporary folder
// (out_dir + ".tmp") renamed into place once complete and synced, so
// out_dir is a whole export or absent. Throws loom::UsageError when out_dir
// exists and options.force is off, when it is not a folder, or when it (or
// the temporary folder) holds other files than an export's; loom::Error
// when writing fails.
ExportSummary export_model(const model::LanguageModel& model, const nlohmann::json& tokenizer,
                           const std::filesystem::path& out_dir, const ExportOptions& options,
                           const nlohmann::json& source = nullptr);

}  // namespace loom::exporting
