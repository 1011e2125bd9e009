// A STAND-IN GPT, FOR TIMING ONLY: batch_bench.cpp needs a CPU training step
// to weigh batch assembly against, and Loom's own model does not exist yet
// (it arrives with the trainer issue, and this file should then give way to
// it). It has the shape of configs/shakespeare_char.yaml's model and does the
// same arithmetic per step: token + position embeddings, pre-LayerNorm
// blocks of causal self-attention (a -inf masked softmax) and a 4x GELU MLP,
// a final LayerNorm, logits through the tied token embedding, cross-entropy
// that ignores target -1. It leaves out what costs little or nothing next to
// that: dropout, nanoGPT's initialisation of the linear layers, no-decay
// parameter groups. Without dropout the step is slightly cheaper, so the
// assembly/step ratio measured against it errs on the high side.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace loom::bench {

struct StandInGptShape {
  std::int64_t vocab_size = 69;
  std::int64_t block_size = 128;
  std::int64_t n_layer = 4;
  std::int64_t n_head = 4;
  std::int64_t n_embd = 128;
};

class CausalSelfAttentionImpl : public torch::nn::Module {
 public:
  explicit CausalSelfAttentionImpl(const StandInGptShape& shape)
      : n_head_(shape.n_head),
        qkv_(register_module("qkv", torch::nn::Linear(shape.n_embd, 3 * shape.n_embd))),
        out_(register_module("out", torch::nn::Linear(shape.n_embd, shape.n_embd))),
        // True above the diagonal: the later positions a token must not see.
        future_(register_buffer(
            "future", torch::ones({shape.block_size, shape.block_size}, torch::kBool).triu(1))) {}

  torch::Tensor forward(const torch::Tensor& x) {
    const std::int64_t batch = x.size(0), time = x.size(1), width = x.size(2);
    const std::int64_t head_width = width / n_head_;
    const auto split_heads = [&](const torch::Tensor& t) {
      return t.view({batch, time, n_head_, head_width}).transpose(1, 2);
    };
    const std::vector<torch::Tensor> qkv = qkv_(x).split(width, 2);
    const torch::Tensor q = split_heads(qkv[0]), k = split_heads(qkv[1]), v = split_heads(qkv[2]);
    const torch::Tensor scores =
        torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(head_width));
    const torch::Tensor masked = scores.masked_fill(future_.slice(0, 0, time).slice(1, 0, time),
                                                    -std::numeric_limits<float>::infinity());
    const torch::Tensor y = torch::matmul(masked.softmax(-1), v);
    return out_(y.transpose(1, 2).contiguous().view({batch, time, width}));
  }

 private:
  std::int64_t n_head_;
  torch::nn::Linear qkv_;
  torch::nn::Linear out_;
  torch::Tensor future_;
};
TORCH_MODULE(CausalSelfAttention);

class TransformerBlockImpl : public torch::nn::Module {
 public:
  explicit TransformerBlockImpl(const StandInGptShape& shape)
      : attention_norm_(register_module(
            "attention_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({shape.n_embd})))),
        attention_(register_module("attention", CausalSelfAttention(shape))),
        mlp_norm_(register_module(
            "mlp_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({shape.n_embd})))),
        mlp_in_(register_module("mlp_in", torch::nn::Linear(shape.n_embd, 4 * shape.n_embd))),
        mlp_out_(register_module("mlp_out", torch::nn::Linear(4 * shape.n_embd, shape.n_embd))) {}

  torch::Tensor forward(const torch::Tensor& x) {
    const torch::Tensor h = x + attention_(attention_norm_(x));
    return h + mlp_out_(torch::gelu(mlp_in_(mlp_norm_(h))));
  }

 private:
  torch::nn::LayerNorm attention_norm_;
  CausalSelfAttention attention_;
  torch::nn::LayerNorm mlp_norm_;
  torch::nn::Linear mlp_in_;
  torch::nn::Linear mlp_out_;
};
TORCH_MODULE(TransformerBlock);

class StandInGptImpl : public torch::nn::Module {
 public:
  explicit StandInGptImpl(const StandInGptShape& shape)
      : shape_(shape),
        token_embedding_(register_module("token_embedding",
                                         torch::nn::Embedding(shape.vocab_size, shape.n_embd))),
        position_embedding_(register_module("position_embedding",
                                            torch::nn::Embedding(shape.block_size, shape.n_embd))),
        final_norm_(register_module(
            "final_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({shape.n_embd})))) {
    for (std::int64_t layer = 0; layer < shape.n_layer; ++layer) {
      blocks_.push_back(register_module("block" + std::to_string(layer), TransformerBlock(shape)));
    }
    // GPT-2's embedding scale. With Embedding's default N(0, 1) the tied
    // output layer starts out with huge logits, and a loss near 80 instead of
    // ln(vocab) would hide whether the step learns.
    torch::nn::init::normal_(token_embedding_->weight, 0.0, 0.02);
    torch::nn::init::normal_(position_embedding_->weight, 0.0, 0.02);
  }

  const StandInGptShape& shape() const { return shape_; }

  // Logits [batch, time, vocab] for token ids [batch, time].
  torch::Tensor forward(const torch::Tensor& tokens) {
    const torch::Tensor positions = torch::arange(tokens.size(1), torch::kLong);
    torch::Tensor x = token_embedding_(tokens) + position_embedding_(positions);
    for (TransformerBlock& block : blocks_)
      x = block(x);
    // Tied weights: the output projection is the token embedding, as in GPT-2.
    return torch::nn::functional::linear(final_norm_(x), token_embedding_->weight);
  }

  // Mean cross-entropy over the positions whose target is not -1.
  torch::Tensor loss(const torch::Tensor& tokens, const torch::Tensor& targets) {
    const torch::Tensor logits = forward(tokens);
    return torch::nn::functional::cross_entropy(
        logits.view({-1, shape_.vocab_size}), targets.reshape({-1}),
        torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-1));
  }

  // The parameters a matrix multiply touches per token: all but the position
  // embedding, which is only added (the count GPT FLOP estimates use).
  std::int64_t matmul_parameters() const {
    std::int64_t count = 0;
    for (const torch::Tensor& parameter : parameters())
      count += parameter.numel();
    return count - position_embedding_->weight.numel();
  }

 private:
  StandInGptShape shape_;
  torch::nn::Embedding token_embedding_;
  torch::nn::Embedding position_embedding_;
  std::vector<TransformerBlock> blocks_;
  torch::nn::LayerNorm final_norm_;
};
TORCH_MODULE(StandInGpt);

}  // namespace loom::bench
