// `loom export --format hf`: a folder that Hugging Face's transformers loads
// as a standard architecture, AutoModelForCausalLM.from_pretrained(DIR) and
// AutoTokenizer.from_pretrained(DIR), with no Loom code:
//
//   model.safetensors      GPT-2's tensor names ("transformer.h.0.attn.c_attn.weight",
//                          ...), its Conv1D weights stored [in, out] (Loom's
//                          Linear weights transposed), zero biases where the
//                          run has none (model.bias: false), lm_head.weight only
//                          when the output projection is not tied; or for the
//                          rotary layout (positions rope, norm rmsnorm, mlp
//                          swiglu) Llama's ("model.layers.0.self_attn.q_proj.weight",
//                          ..., src/export/hf_llama.hpp), as Qwen3 with qk_norm
//   config.json            a GPT2Config (model_type gpt2), LlamaConfig or
//                          Qwen3Config, and under "loom" the run's model
//                          section and the checkpoint it came from
//   generation_config.json <bos>/<eos>/<pad> ids
//   tokenizer.json         the run's tokenizer for the `tokenizers` library: char
//                          (one token per Unicode character, unknown ones <unk>),
//                          byte (GPT-2's byte-to-character map, no merges) or bpe
//                          (SentencePiece's model as BPE merges, byte fallback,
//                          src/export/hf_sentencepiece.hpp); Loom's special
//                          tokens at Loom's ids
//   tokenizer_config.json  PreTrainedTokenizerFast with those special tokens,
//                          which text never produces (split_special_tokens), as
//                          in Loom
//
// What neither expresses is refused with a UsageError naming the option:
// model.arch lstm, sinusoidal or no positions, learned positions with any of
// the later options (RMSNorm, SwiGLU, QK-norm, a non-standard MLP width),
// rotary positions without both RMSNorm and SwiGLU, QK-norm with biases, and
// the unigram tokenizer, which transformers cannot be made to segment exactly
// as SentencePiece does (hf_sentencepiece.cpp says why).
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

#include "loom/export/model_export.hpp"

namespace loom::exporting {

// Throws loom::UsageError naming the first option of the run's model or
// tokenizer that the Hugging Face export cannot express.
void check_hf_exportable(const model::LanguageModel& model, const nlohmann::json& tokenizer);

// Every tensor of the GPT2LMHeadModel (or LlamaForCausalLM, Qwen3ForCausalLM),
// named and laid out as transformers loads them.
std::vector<NamedTensor> hf_tensors(const model::LanguageModel& model, Dtype dtype);

// config.json's content.
nlohmann::json hf_config(const model::LanguageModel& model, Dtype dtype,
                         const nlohmann::json& source = nullptr);

// tokenizer.json's content (the `tokenizers` library's format) for Loom's
// tokenizer JSON.
nlohmann::json hf_tokenizer(const nlohmann::json& tokenizer);

// Writes the folder, whole or not at all, as export_model does.
ExportSummary export_hf_model(const model::LanguageModel& model, const nlohmann::json& tokenizer,
                              const std::filesystem::path& out_dir, const ExportOptions& options,
                              const nlohmann::json& source = nullptr);

}  // namespace loom::exporting
