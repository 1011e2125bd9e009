// Private to the export module: Loom's GPT with rotary positions, RMSNorm and
// SwiGLU as transformers' LlamaForCausalLM, and with QK-norm as
// Qwen3ForCausalLM (Llama with each head's q and k RMS-normalised before the
// rotation). Both compute what Loom's layout computes inside block_size;
// past it Loom's cache slides (sliding-window attention), which Llama has no
// setting for.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "loom/export/model_export.hpp"

namespace loom::exporting::detail {

// Whether the run's model is one (positions rope, norm rmsnorm, mlp swiglu).
bool is_llama_layout(const config::ModelConfig& config);

// Throws loom::UsageError naming the first option of a rotary model that
// neither Llama nor Qwen3 expresses.
void check_llama_exportable(const config::ModelConfig& config);

// The tensors under transformers' names: c_attn split into q/k/v_proj,
// c_fc into gate_proj and up_proj, biases only where the run has them.
std::vector<NamedTensor> llama_tensors(const model::LanguageModel& model, Dtype dtype);

// A LlamaConfig or Qwen3Config, with `loom` (the run's model section and
// source) under "loom".
nlohmann::json llama_config(const model::LanguageModel& model, Dtype dtype,
                            const nlohmann::json& loom);

}  // namespace loom::exporting::detail
