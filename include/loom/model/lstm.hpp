// The recurrent baseline: the same token embedding and output projection as
// GPT around a stacked LSTM, so the two families can be compared on the same
// data, budget and trainer.
//
//   tokens ─ wte ─ dropout ─ LSTM (n_layer, hidden n_embd, dropout between
//   layers) ─ dropout ─ lm_head ─ logits
//
// Dropout sits on the non-recurrent connections only (Zaremba et al., 2014).
// Every forward starts from the zero state: the model is stateless like GPT,
// and position comes from the recurrence, so model.positions, model.n_head
// and model.activation do not apply. Decoding (LanguageModel::decode)
// carries each row's (h, c) from one call to the next. model.bias switches the gate biases.
// The LSTM's weights keep LibTorch's U(-1/sqrt(n_embd), 1/sqrt(n_embd)) init;
// the embedding and head are GPT's N(0, 0.02). The hidden size equals the
// embedding width, so the head can always be tied to the embedding.
#pragma once

#include <cstdint>

#include "loom/model/language_model.hpp"

namespace loom::model {

class LstmModel : public LanguageModel {
 public:
  // Throws loom::UsageError for the checks every family makes (see make_model).
  LstmModel(const config::ModelConfig& config, std::int64_t vocab_size);

  torch::Tensor forward(const torch::Tensor& idx) override;

  // parameter_count() is every parameter: there are no position embeddings.

  // 6 x the weights a token meets in matmuls: the four gates' input and
  // recurrent matrices of every layer (8 x n_layer x n_embd^2) and the head
  // (vocab x n_embd). Biases, the embedding lookup and the gates' pointwise
  // work are left out, as GPT's 6N leaves out its pointwise work. The cost
  // per token does not depend on the context length.
  double flops_per_token(std::int64_t sequence_length) const override;

  // LibTorch's LSTM draws its dropout between layers from the global
  // generator.
  bool draws_from_global_generator() const override;

 protected:
  std::unique_ptr<DecodeCache> make_decode_cache() const override;
  torch::Tensor decode_cached(DecodeCache& cache, const DecodeFeed& feed) override;

 private:
  torch::nn::LSTM lstm_{nullptr};
};

}  // namespace loom::model
