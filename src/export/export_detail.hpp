// Private to the export module: what Loom's own export and the Hugging Face
// export share.
#pragma once

#include <vector>

#include <torch/types.h>

#include "loom/export/model_export.hpp"
#include "loom/export/safetensors.hpp"

namespace loom::exporting::detail {

// The epsilon of every LayerNorm in src/model/gpt_block.cpp (PyTorch's
// default). The export round-trip tests compare logits computed from the
// exported config with Loom's own, so a change there that is not made here
// fails.
inline constexpr double kLayerNormEps = 1e-5;

at::ScalarType torch_dtype(Dtype dtype);

// The dtype as torch names it ("float32"), as config.json files do.
const char* torch_dtype_name(Dtype dtype);

// Views of the tensors' bytes for write_safetensors (they must outlive it).
std::vector<TensorBytes> tensor_views(const std::vector<NamedTensor>& tensors, Dtype dtype);

}  // namespace loom::exporting::detail
