// The GPT family: a decoder-only transformer as in GPT-2 and nanoGPT.
//
//   tokens ─ wte (+ positions) ─ dropout ─ n_layer x block ─ ln_f ─ lm_head ─ logits
//   block:   x += dropout(c_proj(attention(ln_1(x))))
//            x += dropout(c_proj(act(c_fc(ln_2(x)))))          (pre-LayerNorm)
//
// Positions are learned ("wpe", [block_size, n_embd]), a fixed sinusoidal
// table (a buffer, not trained) or none. Attention is causal and multi-head,
// with q, k, v from one fused Linear ("c_attn"). Biases in every Linear and
// LayerNorm follow model.bias; lm_head never has one. Parameter names follow
// nanoGPT's model.py (wte, wpe, h.<i>.ln_1, h.<i>.attn.c_attn, ...) without
// its "transformer." prefix.
//
// Decoding (LanguageModel::decode) keeps each layer's keys and values
// (src/model/gpt_kv_cache.hpp); a new id's attention reads them.
//
// Initialisation is GPT-2's: N(0, 0.02) for Linear and Embedding weights,
// zero biases, unit LayerNorm weights, and N(0, 0.02 / sqrt(2 n_layer)) for
// the two projections that write into the residual stream (attn.c_proj,
// mlp.c_proj), so the stream's variance does not grow with depth.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "loom/model/language_model.hpp"

namespace loom::model {

class GptBlock;  // src/model/gpt_block.hpp
class LayerNorm;

class GptModel : public LanguageModel {
 public:
  // Throws loom::UsageError when n_embd is not a multiple of n_head, or for
  // the checks every family makes (see make_model).
  GptModel(const config::ModelConfig& config, std::int64_t vocab_size);

  torch::Tensor forward(const torch::Tensor& idx) override;

  // Excludes the learned position embedding (nanoGPT's convention).
  std::int64_t parameter_count() const override;

  // nanoGPT's estimate (the PaLM paper's appendix B): 6N for the weight
  // matmuls (2 forward, 4 backward) plus 12 x n_layer x T x n_embd for the
  // attention scores and their weighted sum, N = parameter_count().
  double flops_per_token(std::int64_t sequence_length) const override;

 protected:
  std::unique_ptr<DecodeCache> make_decode_cache() const override;
  torch::Tensor decode_cached(DecodeCache& cache, const DecodeFeed& feed) override;

 private:
  // The position embedding's or table's rows for the feed's new ids,
  // [rows, width, n_embd] or [width, n_embd]; undefined with positions none.
  torch::Tensor position_vectors(const DecodeFeed& feed) const;

  torch::nn::Embedding wpe_{nullptr};  // positions: learned
  torch::Tensor sinusoids_;            // positions: sinusoidal; [block_size, n_embd]
  std::vector<std::shared_ptr<GptBlock>> blocks_;
  std::shared_ptr<LayerNorm> ln_f_;
};

}  // namespace loom::model
