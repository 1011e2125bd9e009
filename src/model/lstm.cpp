// LstmModel: embedding, LibTorch's stacked LSTM from the zero state, and the
// (possibly tied) output projection; decoding carries (h, c) per row.
#include "loom/model/lstm.hpp"

#include "decode_feed.hpp"
#include "layer_utils.hpp"

namespace loom::model {
namespace {

// Every layer's (h, c) for every row: [n_layer, rows, n_embd] each,
// undefined until the first decode.
struct LstmDecodeCache : DecodeCache {
  torch::Tensor h;
  torch::Tensor c;

  void keep_rows(const torch::Tensor& rows) override {
    if (!h.defined()) return;
    const torch::Tensor index = rows.to(h.device());
    h = h.index_select(1, index);
    c = c.index_select(1, index);
  }
};

}  // namespace

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

bool LstmModel::draws_from_global_generator() const {
  return config().n_layer > 1 && config().dropout > 0;
}

std::unique_ptr<DecodeCache> LstmModel::make_decode_cache() const {
  return std::make_unique<LstmDecodeCache>();
}

torch::Tensor LstmModel::decode_cached(DecodeCache& cache, const DecodeFeed& feed) {
  auto& state = dynamic_cast<LstmDecodeCache&>(cache);
  const torch::Tensor embedded = embed_tokens(feed.tokens());
  if (!state.h.defined()) {
    state.h = torch::zeros({config().n_layer, feed.rows(), config().n_embd}, embedded.options());
    state.c = torch::zeros_like(state.h);
  }
  // A row that starts afresh (its window slid) starts from the zero state,
  // as forward() over its window does.
  const torch::Tensor restarts =
      (torch::tensor(feed.starts(), torch::kLong) == 0).to(embedded.device()).view({1, -1, 1});
  std::tuple<torch::Tensor, torch::Tensor> state_before{state.h.masked_fill(restarts, 0.0),
                                                        state.c.masked_fill(restarts, 0.0)};
  if (feed.uniform()) {
    std::tie(state.h, state.c) = std::get<1>(lstm_->forward(embedded, std::move(state_before)));
  } else {
    // Packed, so that each row runs for its own number of new ids and its
    // final (h, c) is the one after its last id, not after the padding.
    const auto packed = torch::nn::utils::rnn::pack_padded_sequence(
        embedded, torch::tensor(feed.counts(), torch::kLong), /*batch_first=*/true,
        /*enforce_sorted=*/false);
    std::tie(state.h, state.c) =
        std::get<1>(lstm_->forward_with_packed_input(packed, std::move(state_before)));
  }
  // The top layer's h is its output at each row's last new id.
  return output_logits(state.h[config().n_layer - 1]);
}

double LstmModel::flops_per_token(std::int64_t /*sequence_length*/) const {
  const auto& c = config();
  const double width = static_cast<double>(c.n_embd);
  const double gate_weights = 8.0 * static_cast<double>(c.n_layer) * width * width;
  const double head_weights = static_cast<double>(vocab_size()) * width;
  return 6.0 * (gate_weights + head_weights);
}

}  // namespace loom::model
