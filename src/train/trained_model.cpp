#include "loom/train/trained_model.hpp"

namespace loom::train {

TrainedModel load_trained_model(const std::filesystem::path& checkpoint_dir,
                                const torch::Device& device) {
  TrainedModel trained;
  trained.info = read_checkpoint_info(checkpoint_dir);
  trained.tokenizer = text::tokenizer_from_json(trained.info.tokenizer);
  trained.model = model::make_model(trained.info.config.model, trained.info.vocab_size);
  load_model_weights(checkpoint_dir, *trained.model);
  trained.model->to(device);
  trained.model->eval();
  return trained;
}

}  // namespace loom::train
