// Private to the export module: what Loom's own export and the Hugging Face
// export share.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "loom/export/model_export.hpp"
#include "loom/export/safetensors.hpp"

namespace loom::exporting::detail {

// The epsilon of every LayerNorm in src/model/gpt_block.cpp (PyTorch's
// default). The export round-trip tests compare logits computed from the
// exported config with Loom's own, so a change there that is not made here
// fails.
inline constexpr double kLayerNormEps = 1e-5;

// Loom's special tokens are ids 0..3 in every tokenizer (text/tokenizer.hpp).
inline constexpr int kPadId = 0;
inline constexpr int kUnkId = 1;
inline constexpr int kBosId = 2;
inline constexpr int kEosId = 3;

at::ScalarType torch_dtype(Dtype dtype);

// The dtype as torch names it ("float32"), as config.json files do.
const char* torch_dtype_name(Dtype dtype);

// The keys every Hugging Face config.json of Loom's has, whatever the
// architecture: the tied head, the special token ids, the dtype, and `loom`
// (the run's model section and source) under "loom".
nlohmann::json hf_common_config(const config::ModelConfig& config, Dtype dtype,
                                const nlohmann::json& loom);

// A `tokenizers` BPE model, as the byte tokenizer (no merges) and the bpe
// one (SentencePiece's merges) write it; `unk_token` null for none.
nlohmann::json hf_bpe_model(nlohmann::json vocab, nlohmann::json merges, nlohmann::json unk_token,
                            bool fuse_unk, bool byte_fallback);

// Views of the tensors' bytes for write_safetensors (they must outlive it).
std::vector<TensorBytes> tensor_views(const std::vector<NamedTensor>& tensors, Dtype dtype);

}  // namespace loom::exporting::detail
