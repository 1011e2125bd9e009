// The family-independent part of the model library: make_model, the loss
// with ignored positions, the argument checks, and the LSTM baseline.
#include <cmath>
#include <memory>

#include "model_test_support.hpp"
#include <gtest/gtest.h>

#include "loom/core/error.hpp"
#include "loom/model/gpt.hpp"
#include "loom/model/language_model.hpp"
#include "loom/model/lstm.hpp"

namespace loom::model {
namespace {

using namespace loom::test;

using config::ModelArch;

TEST(MakeModelTest, BuildsTheFamilyModelArchNames) {
  const auto gpt = make_model(tiny_config(ModelArch::gpt), 7);
  EXPECT_NE(std::dynamic_pointer_cast<GptModel>(gpt), nullptr);
  EXPECT_EQ(gpt->vocab_size(), 7);
  EXPECT_EQ(gpt->block_size(), 16);
  const auto lstm = make_model(tiny_config(ModelArch::lstm), 7);
  EXPECT_NE(std::dynamic_pointer_cast<LstmModel>(lstm), nullptr);
}

TEST(MakeModelTest, RefusesImpossibleShapes) {
  for (const ModelArch arch : {ModelArch::gpt, ModelArch::lstm}) {
    const config::ModelConfig good = tiny_config(arch);
    EXPECT_EQ(error_message<UsageError>([&] { make_model(good, 0); }),
              "the model's vocabulary must hold at least 1 token (the token store gives 0)");
    config::ModelConfig config = good;
    config.block_size = 0;
    EXPECT_EQ(error_message<UsageError>([&] { make_model(config, 5); }),
              "model.block_size must be at least 1 (got 0)");
    config = good;
    config.n_layer = -2;
    EXPECT_EQ(error_message<UsageError>([&] { make_model(config, 5); }),
              "model.n_layer must be at least 1 (got -2)");
    config = good;
    config.n_embd = 0;
    EXPECT_EQ(error_message<UsageError>([&] { make_model(config, 5); }),
              "model.n_embd must be at least 1 (got 0)");
    config = good;
    config.dropout = 1.0;
    EXPECT_EQ(error_message<UsageError>([&] { make_model(config, 5); }),
              "model.dropout must be in [0, 1) (got 1)");
  }
}

TEST(LossTest, AveragesCrossEntropyOverKeptPositions) {
  torch::manual_seed(1);
  const torch::Tensor logits = torch::randn({2, 3, 5});
  const torch::Tensor targets = torch::tensor({{4, -1, 0}, {-1, 2, 2}}, torch::kLong);
  const torch::Tensor log_probs = torch::log_softmax(logits, -1);
  double sum = 0.0;
  int kept = 0;
  for (int b = 0; b < 2; ++b) {
    for (int t = 0; t < 3; ++t) {
      const std::int64_t target = targets[b][t].item<std::int64_t>();
      if (target == kIgnoreIndex) continue;
      sum -= log_probs[b][t][target].item<double>();
      ++kept;
    }
  }
  ASSERT_EQ(kept, 4);
  EXPECT_NEAR(LanguageModel::loss(logits, targets).item<double>(), sum / kept, 1e-6);
}

TEST(LossTest, GradientSkipsIgnoredPositions) {
  const torch::Tensor logits = torch::zeros({1, 2, 4}, torch::requires_grad());
  LanguageModel::loss(logits, torch::tensor({{1, -1}}, torch::kLong)).backward();
  EXPECT_TRUE(torch::equal(logits.grad()[0][1], torch::zeros({4})));
  // softmax of zeros is 1/4 everywhere; the kept position's target gets 1/4 - 1.
  EXPECT_TRUE(torch::allclose(logits.grad()[0][0], torch::tensor({0.25, -0.75, 0.25, 0.25})));
}

TEST(LossTest, UniformLogitsCostTheLogOfTheVocabulary) {
  const torch::Tensor targets = torch::tensor({{0, 1, 2}}, torch::kLong);
  EXPECT_NEAR(LanguageModel::loss(torch::zeros({1, 3, 65}), targets).item<double>(), std::log(65),
              1e-6);
}

TEST(LstmTest, GivesOneLogitRowPerPositionAndToken) {
  torch::manual_seed(2);
  LstmModel model(tiny_config(ModelArch::lstm), 11);
  EXPECT_EQ(model.forward(torch::randint(11, {3, 7}, torch::kLong)).sizes(),
            torch::IntArrayRef({3, 7, 11}));
}

TEST(LstmTest, LaterTokensDoNotChangeEarlierLogits) {
  torch::manual_seed(3);
  LstmModel model(tiny_config(ModelArch::lstm), 11);
  const torch::Tensor original = torch::randint(11, {2, 10}, torch::kLong);
  torch::Tensor changed = original.clone();
  changed.narrow(1, 6, 4).add_(1).remainder_(11);
  const torch::Tensor a = model.forward(original), b = model.forward(changed);
  EXPECT_TRUE(torch::equal(a.narrow(1, 0, 6), b.narrow(1, 0, 6)));
  EXPECT_FALSE(torch::allclose(a.narrow(1, 6, 1), b.narrow(1, 6, 1)));
}

TEST(LstmTest, CountsEveryParameterOnce) {
  config::ModelConfig config = tiny_config(ModelArch::lstm);
  config.bias = true;
  const std::int64_t vocab = 11, width = 32;
  // Per layer: input and recurrent matrices of the four gates (2 x 4C x C)
  // and their two bias vectors (2 x 4C); the embedding, also the head.
  const std::int64_t per_layer = 2 * 4 * width * width + 2 * 4 * width;
  EXPECT_EQ(LstmModel(config, vocab).parameter_count(), vocab * width + 2 * per_layer);
  config.bias = false;
  config.tie_weights = false;
  EXPECT_EQ(LstmModel(config, vocab).parameter_count(),
            2 * vocab * width + 2 * 2 * 4 * width * width);
}

TEST(LstmTest, EstimatesFlopsFromItsMatmulWeights) {
  const LstmModel model(tiny_config(ModelArch::lstm), 11);
  const double expected = 6.0 * (8.0 * 2 * 32 * 32 + 11.0 * 32);
  EXPECT_DOUBLE_EQ(model.flops_per_token(16), expected);
  EXPECT_DOUBLE_EQ(model.flops_per_token(1), expected);
}

TEST(LstmTest, TiesTheHeadToTheEmbeddingWhenAsked) {
  config::ModelConfig config = tiny_config(ModelArch::lstm);
  const LstmModel tied(config, 9);
  EXPECT_EQ(tied.output_weight().data_ptr(), tied.token_embedding_weight().data_ptr());
  config.tie_weights = false;
  const LstmModel untied(config, 9);
  EXPECT_NE(untied.output_weight().data_ptr(), untied.token_embedding_weight().data_ptr());
}

TEST(LstmTest, DropoutActsOnlyWhileTraining) {
  config::ModelConfig config = tiny_config(ModelArch::lstm);
  config.dropout = 0.3;
  torch::manual_seed(4);
  LstmModel model(config, 9);
  const torch::Tensor idx = torch::randint(9, {2, 8}, torch::kLong);
  model.train();
  EXPECT_FALSE(torch::equal(model.forward(idx), model.forward(idx)));
  model.eval();
  EXPECT_TRUE(torch::equal(model.forward(idx), model.forward(idx)));
}

TEST(LstmTest, MemorisesARepeatingSequence) {
  torch::manual_seed(5);
  LstmModel model(tiny_config(ModelArch::lstm), 5);
  const auto batch = repeating_batch(4, 16, 5);
  // ln(5) = 1.61 at the start; a memorised sequence costs almost nothing.
  EXPECT_LT(train_on(model, batch, 100, 1e-2), 0.01);
}

}  // namespace
}  // namespace loom::model
