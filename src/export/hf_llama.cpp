// Loom's rotary GPT as Llama (or Qwen3); see hf_llama.hpp. Loom's head
// layout is already Llama's: q_proj's rows j*D .. (j+1)*D-1 are head j, and
// both rotate channel d with channel d + D/2 ("rotate_half"), so the mapping
// is names and two row splits.
#include "hf_llama.hpp"

#include <string>

#include "export_detail.hpp"
#include <fmt/format.h>

#include "loom/config/enum_names.hpp"
#include "loom/core/error.hpp"
#include "loom/model/language_model.hpp"

namespace loom::exporting::detail {
namespace {

using nlohmann::json;

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

// Loom's name within a block ("attn.c_proj.weight") to Llama's
// ("self_attn.o_proj.weight"); the split tensors are handled by the caller.
std::string llama_block_name(const std::string& name) {
  static const std::pair<const char*, const char*> renames[] = {
      {"ln_1.", "input_layernorm."},         {"ln_2.", "post_attention_layernorm."},
      {"attn.c_proj.", "self_attn.o_proj."}, {"attn.q_norm.", "self_attn.q_norm."},
      {"attn.k_norm.", "self_attn.k_norm."}, {"mlp.c_proj.", "mlp.down_proj."}};
  for (const auto& [loom, llama] : renames) {
    if (starts_with(name, loom)) return llama + name.substr(std::string(loom).size());
  }
  throw Error(fmt::format("export: no Llama name for the block tensor {}", name));
}

}  // namespace

bool is_llama_layout(const config::ModelConfig& config) {
  return config.positions == config::Positions::rope && config.norm == config::Norm::rmsnorm &&
         config.mlp == config::MlpKind::swiglu;
}

void check_llama_exportable(const config::ModelConfig& config) {
  const auto refuse = [](const std::string& option, const std::string& why) {
    throw UsageError(
        fmt::format("--format hf: {}: a rotary model exports as Llama, {}; export it with --format "
                    "safetensors",
                    option, why));
  };
  if (config.norm != config::Norm::rmsnorm) {
    refuse(fmt::format("model.norm {}", config::enum_name(config.norm)),
           "which normalises with RMSNorm (model.norm: rmsnorm)");
  }
  if (config.mlp != config::MlpKind::swiglu) {
    refuse(fmt::format("model.mlp {}", config::enum_name(config.mlp)),
           "whose MLP is SwiGLU (model.mlp: swiglu)");
  }
  if (config.qk_norm && config.bias) {
    refuse("model.bias true with model.qk_norm",
           "and with QK-norm as Qwen3, whose MLP has no biases");
  }
}

std::vector<NamedTensor> llama_tensors(const model::LanguageModel& model, Dtype dtype) {
  const std::int64_t width = model.config().n_embd;
  std::vector<NamedTensor> tensors;
  for (NamedTensor& named : export_tensors(model, dtype)) {
    const std::string& name = named.name;
    if (name == kOutputWeightName) {
      tensors.push_back(std::move(named));
    } else if (name == "wte.weight") {
      tensors.push_back({"model.embed_tokens.weight", named.tensor});
    } else if (starts_with(name, "ln_f.")) {
      tensors.push_back({"model.norm." + name.substr(5), named.tensor});
    } else if (starts_with(name, "h.")) {
      const std::size_t dot = name.find('.', 2);
      const std::string layer = "model.layers." + name.substr(2, dot - 2) + ".";
      const std::string part = name.substr(dot + 1);
      const std::string kind = part.substr(part.rfind('.'));  // ".weight" or ".bias"
      if (starts_with(part, "attn.c_attn.")) {
        // Rows q, k, v.
        const std::vector<torch::Tensor> qkv = named.tensor.split(width, 0);
        tensors.push_back({layer + "self_attn.q_proj" + kind, qkv[0].contiguous()});
        tensors.push_back({layer + "self_attn.k_proj" + kind, qkv[1].contiguous()});
        tensors.push_back({layer + "self_attn.v_proj" + kind, qkv[2].contiguous()});
      } else if (starts_with(part, "mlp.c_fc.")) {
        // Rows: the gate's, then up's.
        const std::vector<torch::Tensor> gate_up = named.tensor.chunk(2, 0);
        tensors.push_back({layer + "mlp.gate_proj" + kind, gate_up[0].contiguous()});
        tensors.push_back({layer + "mlp.up_proj" + kind, gate_up[1].contiguous()});
      } else {
        tensors.push_back({layer + llama_block_name(part), named.tensor});
      }
    } else {
      throw Error(fmt::format("export: no Llama name for the tensor {}", name));
    }
  }
  return tensors;
}

json llama_config(const model::LanguageModel& model, Dtype dtype, const json& loom) {
  const config::ModelConfig& config = model.config();
  const bool qwen3 = config.qk_norm;
  json result = {{"architectures", {qwen3 ? "Qwen3ForCausalLM" : "LlamaForCausalLM"}},
                 {"model_type", qwen3 ? "qwen3" : "llama"},
                 {"vocab_size", model.vocab_size()},
                 {"hidden_size", config.n_embd},
                 {"intermediate_size", model.named_parameters()["h.0.mlp.c_proj.weight"].size(1)},
                 {"num_hidden_layers", config.n_layer},
                 {"num_attention_heads", config.n_head},
                 {"num_key_value_heads", config.n_head},
                 {"head_dim", config.n_embd / config.n_head},
                 {"hidden_act", "silu"},
                 {"max_position_embeddings", config.block_size},
                 {"rms_norm_eps", kLayerNormEps},
                 {"rope_theta", config.rope_base},
                 {"rope_scaling", nullptr},
                 {"attention_bias", config.bias},
                 {"attention_dropout", 0.0}};
  result.update(hf_common_config(config, dtype, loom));
  if (qwen3) {
    result["use_sliding_window"] = false;
    result["sliding_window"] = nullptr;
    result["max_window_layers"] = config.n_layer;
  } else {
    result["mlp_bias"] = config.bias;
  }
  return result;
}

}  // namespace loom::exporting::detail
