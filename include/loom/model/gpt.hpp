// The GPT family: a decoder-only transformer as in GPT-2 and nanoGPT, with
// the options later models took (Llama, OLMo, Qwen) as config keys.
//
//   tokens ─ wte (+ positions) ─ dropout ─ n_layer x block ─ ln_f ─ lm_head ─ logits
//   block:   x += dropout(c_proj(attention(ln_1(x))))
//            x += dropout(mlp(ln_2(x)))                         (pre-norm)
//
// Positions are learned ("wpe", [block_size, n_embd]), a fixed sinusoidal
// table (a buffer, not trained), none, or rotary (rope: each head's queries
// and keys turned by their position, src/model/rotary.hpp; no table). The
// norms are LayerNorm or RMSNorm (model.norm); the MLP is GPT-2's,
// c_proj(act(c_fc(x))), or SwiGLU, c_proj(silu(gate) * up) (model.mlp).
// Attention is causal and multi-head, with q, k, v from one fused Linear
// ("c_attn"), and with model.qk_norm each head's q and k normalised
// ("attn.q_norm", "attn.k_norm", [head width]) before rotation. Biases in
// every Linear and LayerNorm follow model.bias; lm_head never has one.
// Parameter names follow nanoGPT's model.py (wte, wpe, h.<i>.ln_1,
// h.<i>.attn.c_attn, ...) without its "transformer." prefix.
//
// Decoding (LanguageModel::decode) keeps each layer's keys and values
// (src/model/gpt_kv_cache.hpp); a new id's attention reads them. With rotary
// positions the cache slides past block_size without recomputation.
//
// Initialisation is GPT-2's: N(0, 0.02) for Linear and Embedding weights,
// zero biases, unit LayerNorm weights, and N(0, 0.02 / sqrt(2 n_layer)) for
// the two projections that write into the residual stream (attn.c_proj,
// mlp.c_proj), so the stream's variance does not grow with depth.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "loom/model/language_model.hpp"

namespace loom::model {

class GptBlock;  // src/model/gpt_block.hpp
class Normalization;
struct RotaryAngles;

class GptModel : public LanguageModel {
 public:
  // Throws loom::UsageError when n_embd is not a multiple of n_head, or for
  // the checks every family makes (see make_model).
  GptModel(const config::ModelConfig& config, std::int64_t vocab_size);

  torch::Tensor forward(const torch::Tensor& idx) override;
  // With rotary positions: n_layer x (block_size - 1) + 1, and
  // forward_context() masks each layer's attention to a band of block_size
  // keys (language_model.hpp, decode()).
  std::int64_t context_length() const override;
  torch::Tensor forward_context(const torch::Tensor& idx) override;

  // Excludes the learned position embedding (nanoGPT's convention).
  std::int64_t parameter_count() const override;

  // nanoGPT's estimate (the PaLM paper's appendix B): 6N for the weight
  // matmuls (2 forward, 4 backward) plus 12 x n_layer x T x n_embd for the
  // attention scores and their weighted sum, N = parameter_count().
  double flops_per_token(std::int64_t sequence_length) const override;

 protected:
  std::unique_ptr<DecodeCache> make_decode_cache() const override;
  torch::Tensor decode_cached(DecodeCache& cache, const DecodeFeed& feed) override;
  // Rotary keys depend on relative positions only (see language_model.hpp).
  bool cache_slides() const override { return config().positions == config::Positions::rope; }

 private:
  // The position embedding's or table's rows for the feed's new ids,
  // [rows, width, n_embd] or [width, n_embd]; undefined with positions none.
  torch::Tensor position_vectors(const DecodeFeed& feed) const;
  // forward() over idx [B, T] (T checked by the caller), each position
  // attending to the `band` positions up to its own.
  torch::Tensor forward_band(const torch::Tensor& idx, std::int64_t band);
  // With positions: rope, the angles at `positions` (int64 [T] or [rows, T]).
  std::optional<RotaryAngles> rotary_angles_at(const torch::Tensor& positions) const;

  torch::nn::Embedding wpe_{nullptr};  // positions: learned
  torch::Tensor sinusoids_;            // positions: sinusoidal; [block_size, n_embd]
  std::vector<std::shared_ptr<GptBlock>> blocks_;
  std::shared_ptr<Normalization> ln_f_;
};

}  // namespace loom::model
