// LstmModel: embedding, LibTorch's stacked LSTM from the zero state, and the
// (possibly tied) output projection.
#include "loom/model/lstm.hpp"

#include "layer_utils.hpp"

namespace loom::model {

LstmModel::LstmModel(const config::ModelConfig& config, std::int64_t vocab_size)
    : LanguageModel(config, vocab_size) {
  // LibTorch warns about dropout between layers when there is only one.
  const double between_layers = config.n_layer > 1 ? config.dropout : 0.0;
  lstm_ =
      register_module("lstm", torch::nn::LSTM(torch::nn::LSTMOptions(config.n_embd, config.n_embd)
                                                  .num_layers(config.n_layer)
                                                  .bias(config.bias)
                                                  .dropout(between_layers)
                                                  .batch_first(true)));
}

torch::Tensor LstmModel::forward(const torch::Tensor& idx) {
  check_input(idx);
  const double rate = config().dropout;
  const torch::Tensor embedded = maybe_dropout(embed_tokens(idx), rate, is_training());
  const torch::Tensor hidden = std::get<0>(lstm_->forward(embedded));
  return output_logits(maybe_dropout(hidden, rate, is_training()));
}

double LstmModel::flops_per_token(std::int64_t /*sequence_length*/) const {
  const auto& c = config();
  const double width = static_cast<double>(c.n_embd);
  const double gate_weights = 8.0 * static_cast<double>(c.n_layer) * width * width;
  const double head_weights = static_cast<double>(vocab_size()) * width;
  return 6.0 * (gate_weights + head_weights);
}

}  // namespace loom::model
