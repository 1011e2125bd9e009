// What the trainer, evaluation and sampling see of a model: token ids in,
// next-token logits out, the loss, incremental decoding for generation, and
// the figures that progress lines report (parameters, FLOPs per token).
// make_model() builds the family that
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
#include <vector>

#include <torch/torch.h>

#include "loom/config/config.hpp"
#include "loom/model/decode_state.hpp"

namespace loom::model {

class DecodeFeed;  // src/model/decode_feed.hpp: what one decode() call feeds a family

// The target id that marks a position the loss ignores (padding).
inline constexpr std::int64_t kIgnoreIndex = -1;

class LanguageModel : public torch::nn::Module {
 public:
  // idx: int64 token ids [B, T] with 1 <= T <= block_size(). Returns the
  // logits [B, T, vocab_size()] of the token that follows each position,
  // each seeing only positions <= its own (causal). Stateless: nothing
  // carries over between calls (generation uses decode()). Throws
  // loom::Error when idx has the wrong rank, dtype or length.
  virtual torch::Tensor forward(const torch::Tensor& idx) = 0;

  // --- Incremental decoding ------------------------------------------------
  //
  // start_decoding() begins `rows` (>= 1) empty sequences; each decode()
  // appends ids to every row and returns, per row, the logits of the id
  // that follows, equal (up to float rounding) to forward_context() over the
  // row's window, that is its last context_length() ids (block_size() but
  // with a sliding cache, below):
  //
  //   DecodeState state = model.start_decoding(2);
  //   model.decode(state, {prompt_a, prompt_b});  // [2, V]: reads the prompts
  //   model.decode(state, {{next_a}, {next_b}});  // [2, V]: one more id each
  //
  // The sliding window. Once a row's ids outnumber block_size(), its window
  // keeps the last block_size() of them, at positions 0..block_size()-1 as
  // in training. GPT's positions are absolute (learned or sinusoidal), and
  // even without positions every layer above the first computes its keys
  // from states that attended to the id that left, so once the window
  // slides every cached key and value is stale: the row is read afresh from
  // its window (one pass over block_size() ids, written into its cache from
  // position 0). The LSTM likewise restarts from the zero state over the
  // window, as forward() does. So past block_size() each new id costs about
  // what DecodeMode::recompute costs (GPT skips the top layer's MLP, the
  // final LayerNorm and the head for all but the last id); the cache pays
  // off for the first block_size() ids of a row (bench/README.md has figures).
  //
  // Except with rotary positions (model.positions: rope, cache_slides()): a
  // query and a key interact through their distance alone, so a key rotated
  // once by its absolute position stays valid, and the cache slides in
  // place: past block_size() each new id's key and value overwrite the
  // oldest id's slot (several new ids go one at a time), and every id keeps
  // costing one position's work however long the row gets. What this
  // computes is sliding-window attention (Mistral's): every layer attends to
  // the last block_size() positions of the layer below, whose states
  // themselves saw further back, so the next logits depend on the last
  // context_length() = n_layer x (block_size() - 1) + 1 ids, not only the
  // last block_size(). Inside the window it is forward() exactly. The
  // recompute path computes the same thing without a cache: forward_context()
  // over the last context_length() ids, each layer masked to a band of
  // block_size() keys.
  //
  // Decoding is inference: it never applies dropout and builds no autograd
  // graph, and it refuses a model in training mode (call eval() first).

  // Throws loom::UsageError when rows < 1.
  DecodeState start_decoding(std::int64_t rows, DecodeMode mode = DecodeMode::cached) const;

  // Appends ids[r] (at least one id, each in [0, vocab_size())) to row r of
  // `state`, for every row; returns float logits [rows, vocab_size()] on the
  // model's device. Throws loom::Error for a state another model started,
  // one list per row not given, an empty list, an id out of range, or a
  // model in training mode; the state is unchanged then.
  torch::Tensor decode(DecodeState& state, const std::vector<std::vector<std::int64_t>>& ids);

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

  // Whether training draws random numbers from torch's global generator
  // rather than the thread's (model::DropoutGeneratorScope): threads that
  // train slices of one batch at once would then share it in no fixed order.
  virtual bool draws_from_global_generator() const { return false; }

  const config::ModelConfig& config() const { return config_; }
  std::int64_t vocab_size() const { return vocab_size_; }
  std::int64_t block_size() const { return config_.block_size; }
  // How many of a sequence's last ids decode()'s next logits depend on:
  // block_size(), or more for a family whose cache slides.
  virtual std::int64_t context_length() const { return block_size(); }
  // Logits [B, T, V] over T <= context_length() ids: forward(), or for a
  // family whose cache slides, the sliding-window attention that decoding
  // computes (see decode()).
  virtual torch::Tensor forward_context(const torch::Tensor& idx) { return forward(idx); }

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
  // Hidden states [..., n_embd] to logits [..., V], without bias (GPT-2's lm_head).
  torch::Tensor output_logits(const torch::Tensor& hidden) const;

  // The family's cache, empty until the first decode_cached() fills it (and
  // so learns the number of rows, the device and the dtype).
  virtual std::unique_ptr<DecodeCache> make_decode_cache() const = 0;
  // Reads feed's new ids into `cache` (the one make_decode_cache() made,
  // restarting the rows whose feed starts at 0) and returns the logits
  // [rows, V] of the id after each row's last new one.
  virtual torch::Tensor decode_cached(DecodeCache& cache, const DecodeFeed& feed) = 0;
  // Whether the family's cache stays valid when its window slides, so that
  // decode() feeds a full row's next ids one at a time at positions past
  // block_size() (decode_feed.hpp) instead of restarting it.
  virtual bool cache_slides() const { return false; }

 private:
  // decode() for a family whose cache slides: each row's ids at its next
  // positions, past block_size() one at a time.
  torch::Tensor decode_sliding(DecodeState& state,
                               const std::vector<std::vector<std::int64_t>>& ids);

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
