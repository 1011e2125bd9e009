// What the trainer, evaluation and sampling see of a model: token ids in,
// next-token logits out, the loss, and the figures that progress lines
// report (parameters, FLOPs per token). make_model() builds the family that
// model.arch names (GPT or the LSTM baseline) from the run config; the
// vocabulary size comes from the token store, not the config.
//
// A model is a torch::nn::Module: parameters(), named_parameters(),
// train()/eval(), to(device) and torch::save/load work as usual. Every
// trainable tensor is registered exactly once, also when the output
// projection shares the token embedding, so an optimizer built from
// parameters() updates each weight once.
#pragma once

#include <cstdint>
#include <memory>

#include <torch/torch.h>

#include "loom/config/config.hpp"

namespace loom::model {

// The target id that marks a position the loss ignores (padding).
inline constexpr std::int64_t kIgnoreIndex = -1;

class LanguageModel : public torch::nn::Module {
 public:
  // idx: int64 token ids [B, T] with 1 <= T <= block_size(). Returns the
  // logits [B, T, vocab_size()] of the token that follows each position,
  // each seeing only positions <= its own (causal). Stateless: nothing
  // carries over between calls, so generation calls it on the last
  // block_size() tokens. Throws loom::Error when idx has the wrong rank,
  // dtype or length.
  virtual torch::Tensor forward(const torch::Tensor& idx) = 0;

  // Cross-entropy of logits [B, T, V] against targets [B, T], averaged over
  // the positions whose target is not kIgnoreIndex (NaN when there are none).
  static torch::Tensor loss(const torch::Tensor& logits, const torch::Tensor& targets);

  // Trainable parameters, each counted once (a tied output projection is the
  // token embedding, counted once), without learned position embeddings:
  // nanoGPT's get_num_params(non_embedding=True), the N of the 6N FLOP rule.
  // This default counts every parameter; GPT leaves out its wpe.
  virtual std::int64_t parameter_count() const;

  // Training FLOPs (forward and backward) per token at context length
  // `sequence_length`; see each family for the formula.
  virtual double flops_per_token(std::int64_t sequence_length) const = 0;

  const config::ModelConfig& config() const { return config_; }
  std::int64_t vocab_size() const { return vocab_size_; }
  std::int64_t block_size() const { return config_.block_size; }

  // The token embedding [V, n_embd] ("wte") and the output projection's
  // weight [V, n_embd]: the same tensor when model.tie_weights is on, else
  // a separate "lm_head" parameter.
  const torch::Tensor& token_embedding_weight() const { return wte_->weight; }
  const torch::Tensor& output_weight() const;

 protected:
  // Checks the arguments every family needs (UsageError naming the key) and
  // registers the token embedding and, when untied, the output projection,
  // both drawn from N(0, 0.02) as in GPT-2.
  LanguageModel(const config::ModelConfig& config, std::int64_t vocab_size);

  // The checks forward() promises; returns T.
  std::int64_t check_input(const torch::Tensor& idx) const;
  torch::Tensor embed_tokens(const torch::Tensor& idx) { return wte_->forward(idx); }
  // Hidden states [B, T, n_embd] to logits [B, T, V], without bias (GPT-2's lm_head).
  torch::Tensor output_logits(const torch::Tensor& hidden) const;

 private:
  config::ModelConfig config_;
  std::int64_t vocab_size_;
  torch::nn::Embedding wte_{nullptr};
  torch::nn::Linear lm_head_{nullptr};  // null when tied to wte_
};

// The model model.arch names, freshly initialised from torch's global
// generator (so torch::manual_seed makes it reproducible). Throws
// loom::UsageError naming the key when the combination cannot be built
// (vocab_size < 1, n_embd not a multiple of n_head, ...).
std::shared_ptr<LanguageModel> make_model(const config::ModelConfig& config,
                                          std::int64_t vocab_size);

}  // namespace loom::model
