// GptModel: shapes, causality in every position mode and layout, agreement
// with a plain per-head reference computation (rotary positions as complex
// rotations, RMSNorm, SwiGLU and QK-norm written out), parameter names and counts, FLOPs,
// GPT-2's init, weight tying, dropout, determinism, bf16 autocast, input
// checks and a tiny model memorising a sequence.
#include "loom/model/gpt.hpp"

#include <cmath>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "model_test_support.hpp"
#include <gtest/gtest.h>

#include "loom/core/error.hpp"
#include "loom/core/torch_compat.hpp"

namespace loom::model {
namespace {

using namespace loom::test;

using config::Positions;

std::map<std::string, torch::Tensor> named_tensors(const torch::nn::Module& module) {
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& item : module.named_parameters())
    tensors[item.key()] = item.value();
  for (const auto& item : module.named_buffers())
    tensors[item.key()] = item.value();
  return tensors;
}

std::vector<std::string> parameter_names(const torch::nn::Module& module) {
  std::vector<std::string> names;
  for (const auto& item : module.named_parameters())
    names.push_back(item.key());
  return names;
}

torch::Tensor random_tokens(std::int64_t rows, std::int64_t time, std::int64_t vocab) {
  return torch::randint(vocab, {rows, time}, torch::kLong);
}

// GPT's forward written out the slow, obvious way from the model's tensors:
// one head at a time, the causal mask as a -inf upper triangle.
torch::Tensor reference_forward(const GptModel& model, const torch::Tensor& idx) {
  const auto w = named_tensors(model);
  const auto& c = model.config();
  const std::int64_t time = idx.size(1), width = c.n_embd, head_width = width / c.n_head;
  const auto linear = [&](const torch::Tensor& x, const std::string& name) {
    const auto bias = w.find(name + ".bias");
    return torch::matmul(x, w.at(name + ".weight").t()) +
           (bias == w.end() ? torch::zeros({1}) : bias->second);
  };
  const auto norm = [&](const torch::Tensor& x, const std::string& name) {
    if (c.norm == config::Norm::rmsnorm) {
      return x / torch::sqrt(x.pow(2).mean(-1, true) + 1e-5) * w.at(name + ".weight");
    }
    const torch::Tensor mean = x.mean(-1, true);
    const torch::Tensor variance = (x - mean).pow(2).mean(-1, true);
    const auto bias = w.find(name + ".bias");
    return (x - mean) / torch::sqrt(variance + 1e-5) * w.at(name + ".weight") +
           (bias == w.end() ? torch::zeros({1}) : bias->second);
  };
  // Rotary positions: channels d and d + D/2 as one complex number, turned
  // by position x base^(-2d / D).
  const auto rotate = [&](const torch::Tensor& x) {
    const std::int64_t half = head_width / 2;
    std::vector<double> angles;
    for (std::int64_t t = 0; t < time; ++t) {
      for (std::int64_t d = 0; d < half; ++d)
        angles.push_back(
            static_cast<double>(t) *
            std::pow(c.rope_base, -2.0 * static_cast<double>(d) / static_cast<double>(head_width)));
    }
    const torch::Tensor turn =
        torch::polar(torch::ones({time, half}, torch::kDouble),
                     torch::tensor(angles, torch::kDouble).view({time, half}));
    const torch::Tensor z = torch::complex(x.narrow(-1, 0, half).to(torch::kDouble),
                                           x.narrow(-1, half, half).to(torch::kDouble)) *
                            turn;
    return torch::cat({torch::real(z), torch::imag(z)}, -1).to(x.scalar_type());
  };
  torch::Tensor x = w.at("wte.weight").index_select(0, idx.reshape({-1})).view({-1, time, width});
  if (c.positions == Positions::learned) x = x + w.at("wpe.weight").narrow(0, 0, time);
  if (c.positions == Positions::sinusoidal) x = x + w.at("sinusoids").narrow(0, 0, time);
  const torch::Tensor future = torch::ones({time, time}).triu(1).to(torch::kBool);
  for (std::int64_t layer = 0; layer < c.n_layer; ++layer) {
    const std::string block = "h." + std::to_string(layer) + ".";
    const torch::Tensor qkv = linear(norm(x, block + "ln_1"), block + "attn.c_attn");
    std::vector<torch::Tensor> head_outputs;
    for (std::int64_t head = 0; head < c.n_head; ++head) {
      const auto slice = [&](std::int64_t part) {
        return qkv.narrow(2, part * width + head * head_width, head_width);
      };
      torch::Tensor q = slice(0), k = slice(1);
      if (c.qk_norm) {
        q = norm(q, block + "attn.q_norm");
        k = norm(k, block + "attn.k_norm");
      }
      if (c.positions == Positions::rope) {
        q = rotate(q);
        k = rotate(k);
      }
      torch::Tensor scores =
          torch::matmul(q, k.transpose(1, 2)) / std::sqrt(static_cast<double>(head_width));
      scores = scores.masked_fill(future, -INFINITY);
      head_outputs.push_back(torch::matmul(torch::softmax(scores, -1), slice(2)));
    }
    x = x + linear(torch::cat(head_outputs, 2), block + "attn.c_proj");
    const torch::Tensor hidden = linear(norm(x, block + "ln_2"), block + "mlp.c_fc");
    torch::Tensor activated;
    if (c.mlp == config::MlpKind::swiglu) {
      const std::int64_t half = hidden.size(-1) / 2;
      const torch::Tensor gate = hidden.narrow(-1, 0, half), up = hidden.narrow(-1, half, half);
      activated = gate * torch::sigmoid(gate) * up;
    } else {
      activated =
          c.activation == config::Activation::gelu ? torch::gelu(hidden) : torch::relu(hidden);
    }
    x = x + linear(activated, block + "mlp.c_proj");
  }
  const std::string head = w.count("lm_head.weight") ? "lm_head.weight" : "wte.weight";
  return torch::matmul(norm(x, "ln_f"), w.at(head).t());
}

// The model and the reference agree on the logits and on every gradient
// (which covers the in-place steps of the model's backward).
void expect_matches_reference(GptModel& model, const torch::Tensor& idx) {
  const torch::Tensor targets = idx.roll(1, 1);
  const auto gradients = [&](const torch::Tensor& logits) {
    model.zero_grad();
    LanguageModel::loss(logits, targets).backward();
    std::vector<torch::Tensor> grads;
    for (const auto& parameter : model.parameters())
      grads.push_back(parameter.grad().clone());
    return grads;
  };
  const torch::Tensor logits = model.forward(idx), expected = reference_forward(model, idx);
  EXPECT_TRUE(torch::allclose(logits, expected, 1e-5, 1e-5));
  const auto grads = gradients(logits), expected_grads = gradients(expected);
  const auto names = parameter_names(model);
  for (std::size_t i = 0; i < grads.size(); ++i) {
    EXPECT_TRUE(torch::allclose(grads[i], expected_grads[i], 1e-4, 1e-6)) << names[i];
  }
}

// Changing the tokens after position t changes no logit up to t, and
// changes t + 1's (each position sees its own token).
void expect_causal(const config::ModelConfig& config) {
  GptModel model(config, 13);
  model.eval();
  const torch::Tensor original = random_tokens(2, 12, 13);
  const torch::Tensor logits = model.forward(original);
  for (std::int64_t t = 0; t + 1 < 12; ++t) {
    torch::Tensor changed = original.clone();
    changed.narrow(1, t + 1, 12 - t - 1).add_(1).remainder_(13);
    const torch::Tensor changed_logits = model.forward(changed);
    EXPECT_TRUE(
        torch::allclose(changed_logits.narrow(1, 0, t + 1), logits.narrow(1, 0, t + 1), 0.0, 1e-6))
        << "position " << t;
    EXPECT_FALSE(
        torch::allclose(changed_logits.narrow(1, t + 1, 1), logits.narrow(1, t + 1, 1), 0.0, 1e-3))
        << "position " << t + 1 << " should see its own token";
  }
}

class GptPositionsTest : public ::testing::TestWithParam<Positions> {};

TEST_P(GptPositionsTest, GivesOneLogitRowPerPositionAndToken) {
  torch::manual_seed(1);
  config::ModelConfig config = tiny_config(config::ModelArch::gpt);
  config.positions = GetParam();
  GptModel model(config, 11);
  EXPECT_EQ(model.forward(random_tokens(3, 5, 11)).sizes(), torch::IntArrayRef({3, 5, 11}));
  EXPECT_EQ(model.forward(random_tokens(2, 16, 11)).sizes(), torch::IntArrayRef({2, 16, 11}));
  EXPECT_EQ(model.forward(random_tokens(1, 1, 11)).sizes(), torch::IntArrayRef({1, 1, 11}));
}

TEST_P(GptPositionsTest, LaterTokensDoNotChangeEarlierLogits) {
  torch::manual_seed(2);
  config::ModelConfig config = tiny_config(config::ModelArch::gpt);
  config.positions = GetParam();
  expect_causal(config);
}

TEST_P(GptPositionsTest, MatchesAPerHeadReferenceComputation) {
  torch::manual_seed(3);
  config::ModelConfig config = tiny_config(config::ModelArch::gpt);
  config.positions = GetParam();
  config.bias = true;
  config.activation = config::Activation::relu;
  GptModel model(config, 7);
  model.eval();
  // Biases start at zero; give them values so the test sees them.
  {
    torch::NoGradGuard no_grad;
    for (auto& parameter : model.parameters()) {
      if (parameter.dim() == 1) parameter.normal_(0.0, 0.1);
    }
  }
  expect_matches_reference(model, random_tokens(2, 9, 7));
}

INSTANTIATE_TEST_SUITE_P(AllModes, GptPositionsTest,
                         ::testing::Values(Positions::learned, Positions::sinusoidal,
                                           Positions::none, Positions::rope),
                         [](const ::testing::TestParamInfo<Positions>& param) {
                           return std::string(config::enum_name(param.param));
                         });

// The later models' options, alone and together, with and without biases.
struct Layout {
  std::string name;
  Positions positions;
  config::Norm norm;
  config::MlpKind mlp;
  bool qk_norm;
  bool bias;
};

void PrintTo(const Layout& layout, std::ostream* out) {
  *out << layout.name;
}

config::ModelConfig layout_config(const Layout& layout) {
  config::ModelConfig config = tiny_config(config::ModelArch::gpt);
  config.positions = layout.positions;
  config.norm = layout.norm;
  config.mlp = layout.mlp;
  config.qk_norm = layout.qk_norm;
  config.bias = layout.bias;
  return config;
}

class GptLayoutTest : public ::testing::TestWithParam<Layout> {};

TEST_P(GptLayoutTest, LaterTokensDoNotChangeEarlierLogits) {
  torch::manual_seed(12);
  expect_causal(layout_config(GetParam()));
}

TEST_P(GptLayoutTest, MatchesThePerHeadReferenceWithItsGradients) {
  torch::manual_seed(13);
  GptModel model(layout_config(GetParam()), 7);
  model.eval();
  {
    // Norm weights and biases away from 1 and 0, so that the test sees them.
    torch::NoGradGuard no_grad;
    for (auto& parameter : model.parameters()) {
      if (parameter.dim() == 1) parameter.normal_(0.5, 0.3);
    }
  }
  expect_matches_reference(model, random_tokens(2, 14, 7));
}

TEST_P(GptLayoutTest, RunsForwardAndBackwardUnderBf16Autocast) {
  torch::manual_seed(14);
  GptModel model(layout_config(GetParam()), 10);
  const torch::Tensor idx = random_tokens(2, 16, 10);
  torch_compat::AutocastGuard autocast(torch::kCPU, torch::kBFloat16);
  const torch::Tensor loss = LanguageModel::loss(model.forward(idx), idx);
  EXPECT_TRUE(std::isfinite(loss.item<float>()));
  loss.backward();
  for (const auto& parameter : model.parameters())
    EXPECT_TRUE(torch::isfinite(parameter.grad()).all().item<bool>());
}

TEST_P(GptLayoutTest, MemorisesARepeatingSequence) {
  torch::manual_seed(15);
  GptModel model(layout_config(GetParam()), 5);
  EXPECT_LT(train_on(model, repeating_batch(4, 16, 5), 100, 1e-2), 0.01);
}

INSTANTIATE_TEST_SUITE_P(
    Options, GptLayoutTest,
    ::testing::Values(Layout{"rope", Positions::rope, config::Norm::layernorm,
                             config::MlpKind::standard, false, false},
                      Layout{"rmsnorm", Positions::learned, config::Norm::rmsnorm,
                             config::MlpKind::standard, false, true},
                      Layout{"swiglu", Positions::learned, config::Norm::layernorm,
                             config::MlpKind::swiglu, false, true},
                      Layout{"qk_norm", Positions::learned, config::Norm::layernorm,
                             config::MlpKind::standard, true, true},
                      Layout{"llama", Positions::rope, config::Norm::rmsnorm,
                             config::MlpKind::swiglu, false, false},
                      Layout{"llama_qk_norm", Positions::rope, config::Norm::rmsnorm,
                             config::MlpKind::swiglu, true, false},
                      Layout{"llama_qk_norm_bias", Positions::rope, config::Norm::rmsnorm,
                             config::MlpKind::swiglu, true, true}),
    [](const ::testing::TestParamInfo<Layout>& param) { return param.param.name; });

TEST(GptTest, NamesTheModernLayoutsParameters) {
  config::ModelConfig config = layout_config({"llama_qk_norm", Positions::rope,
                                              config::Norm::rmsnorm, config::MlpKind::swiglu, true,
                                              /*bias=*/true});
  config.n_layer = 1;
  const GptModel model(config, 5);
  // No position table, and RMSNorm has no bias whatever model.bias says.
  EXPECT_EQ(
      parameter_names(model),
      (std::vector<std::string>{
          "wte.weight", "h.0.ln_1.weight", "h.0.attn.c_attn.weight", "h.0.attn.c_attn.bias",
          "h.0.attn.c_proj.weight", "h.0.attn.c_proj.bias", "h.0.attn.q_norm.weight",
          "h.0.attn.k_norm.weight", "h.0.ln_2.weight", "h.0.mlp.c_fc.weight", "h.0.mlp.c_fc.bias",
          "h.0.mlp.c_proj.weight", "h.0.mlp.c_proj.bias", "ln_f.weight"}));
  const auto w = named_tensors(model);
  EXPECT_EQ(w.at("h.0.attn.q_norm.weight").sizes(), torch::IntArrayRef({16}));  // head width
  EXPECT_EQ(w.at("h.0.mlp.c_fc.weight").sizes(), torch::IntArrayRef({2 * 85, 32}));
  EXPECT_EQ(w.at("h.0.mlp.c_proj.weight").sizes(), torch::IntArrayRef({32, 85}));
}

TEST(GptTest, SwiGluMatchesTheStandardMlpsParameterCountUnlessTold) {
  // shakespeare_char's 6 x 384: 8 x 384 / 3 = 1024 exactly, so both MLPs
  // hold 8 C^2 = 1,179,648 weights a block.
  config::ModelConfig config = baby_gpt_config();
  config.n_embd = 384;
  config.n_head = 6;
  const std::int64_t standard = GptModel(config, 65).parameter_count();
  config.mlp = config::MlpKind::swiglu;
  EXPECT_EQ(GptModel(config, 65).parameter_count(), standard);
  // 128 wide: round(341.3) = 341, three matrices of 341 x 128 against two of 512 x 128.
  config::ModelConfig baby = baby_gpt_config();
  baby.mlp = config::MlpKind::swiglu;
  EXPECT_EQ(GptModel(baby, 65).parameter_count(), 795904 - 4 * (8 * 128 * 128 - 3 * 341 * 128));
  baby.mlp_hidden = 512;
  EXPECT_EQ(GptModel(baby, 65).parameter_count(), 795904 + 4 * (3 * 512 * 128 - 8 * 128 * 128));
}

TEST(GptTest, RefusesOptionsThatDoNotFit) {
  config::ModelConfig config = tiny_config(config::ModelArch::gpt);
  config.positions = Positions::rope;
  config.n_embd = 30;
  config.n_head = 2;
  EXPECT_EQ(error_message<UsageError>([&] { GptModel(config, 5); }),
            "model.positions: rope turns channel pairs, so the head width n_embd / n_head must be "
            "even (got 30 / 2 = 15)");
  config = tiny_config(config::ModelArch::gpt);
  config.mlp = config::MlpKind::swiglu;
  config.activation = config::Activation::relu;
  EXPECT_EQ(error_message<UsageError>([&] { GptModel(config, 5); }),
            "model.activation: relu belongs to mlp: standard; mlp: swiglu gates with SiLU (leave "
            "activation at gelu, or choose mlp: standard)");
}

TEST(GptTest, RotaryContextIsSlidingWindowAttention) {
  // Inside block_size, forward_context() is forward(); past it, each layer
  // attends to block_size keys, so the reach is n_layer x (block - 1) + 1.
  torch::manual_seed(16);
  config::ModelConfig config = tiny_config(config::ModelArch::gpt);
  config.positions = Positions::rope;
  GptModel model(config, 11);
  model.eval();
  EXPECT_EQ(model.context_length(), 2 * 15 + 1);
  const torch::Tensor inside = random_tokens(2, 16, 11);
  EXPECT_TRUE(torch::allclose(model.forward_context(inside), model.forward(inside), 0.0, 1e-6));
  const torch::Tensor long_text = random_tokens(1, 31, 11);
  const torch::Tensor logits = model.forward_context(long_text);
  // The first 16 positions see whole prefixes: forward()'s logits.
  EXPECT_TRUE(torch::allclose(logits.narrow(1, 0, 16), model.forward(long_text.narrow(1, 0, 16)),
                              0.0, 1e-5));
  // The last position still depends on the very first id, two layers down.
  torch::Tensor changed = long_text.clone();
  changed[0][0] = (changed[0][0].item<std::int64_t>() + 1) % 11;
  EXPECT_FALSE(torch::allclose(model.forward_context(changed)[0][30], logits[0][30], 0.0, 1e-6));
  EXPECT_EQ(error_message<Error>([&] { model.forward_context(random_tokens(1, 32, 11)); }),
            "model input: 32 positions, expected 1 to the context length 31");
}

TEST(GptTest, MatchesTheReferenceWithGeluAndUntiedHead) {
  torch::manual_seed(4);
  config::ModelConfig config = tiny_config(config::ModelArch::gpt);
  config.tie_weights = false;
  GptModel model(config, 7);
  model.eval();
  expect_matches_reference(model, random_tokens(2, 16, 7));
}

TEST(GptTest, SinusoidsInterleaveSineAndCosine) {
  config::ModelConfig config = tiny_config(config::ModelArch::gpt);
  config.positions = Positions::sinusoidal;
  config.n_embd = 6;
  const GptModel model(config, 5);
  const torch::Tensor table = named_tensors(model).at("sinusoids");
  ASSERT_EQ(table.sizes(), torch::IntArrayRef({16, 6}));
  EXPECT_FALSE(table.requires_grad());
  const double t = 3.0;
  const std::vector<double> expected = {std::sin(t),
                                        std::cos(t),
                                        std::sin(t / std::pow(10000.0, 2.0 / 6)),
                                        std::cos(t / std::pow(10000.0, 2.0 / 6)),
                                        std::sin(t / std::pow(10000.0, 4.0 / 6)),
                                        std::cos(t / std::pow(10000.0, 4.0 / 6))};
  for (std::int64_t channel = 0; channel < 6; ++channel) {
    EXPECT_FLOAT_EQ(table[3][channel].item<float>(), static_cast<float>(expected[channel]));
  }
}

TEST(GptTest, NamesParametersAsNanoGptDoes) {
  config::ModelConfig config = tiny_config(config::ModelArch::gpt);
  config.n_layer = 1;
  const GptModel without_bias(config, 5);
  EXPECT_EQ(parameter_names(without_bias),
            (std::vector<std::string>{"wte.weight", "wpe.weight", "h.0.ln_1.weight",
                                      "h.0.attn.c_attn.weight", "h.0.attn.c_proj.weight",
                                      "h.0.ln_2.weight", "h.0.mlp.c_fc.weight",
                                      "h.0.mlp.c_proj.weight", "ln_f.weight"}));
  config.bias = true;
  config.tie_weights = false;
  config.positions = Positions::none;
  const GptModel with_bias(config, 5);
  EXPECT_EQ(parameter_names(with_bias),
            (std::vector<std::string>{
                "wte.weight", "lm_head.weight", "h.0.ln_1.weight", "h.0.ln_1.bias",
                "h.0.attn.c_attn.weight", "h.0.attn.c_attn.bias", "h.0.attn.c_proj.weight",
                "h.0.attn.c_proj.bias", "h.0.ln_2.weight", "h.0.ln_2.bias", "h.0.mlp.c_fc.weight",
                "h.0.mlp.c_fc.bias", "h.0.mlp.c_proj.weight", "h.0.mlp.c_proj.bias", "ln_f.weight",
                "ln_f.bias"}));
}

TEST(GptTest, CountsParametersLikeNanoGpt) {
  // Per block: ln_1 and ln_2 weights (2C), c_attn (3C x C), attn.c_proj
  // (C x C), mlp.c_fc (4C x C), mlp.c_proj (C x 4C) = 12C^2 + 2C. Plus the
  // token embedding (V x C, also the head) and ln_f (C); wpe is left out.
  // nanoGPT prints "number of parameters: 0.80M" for this model.
  const std::int64_t vocab = 65, width = 128, layers = 4;
  const std::int64_t expected = vocab * width + layers * (12 * width * width + 2 * width) + width;
  ASSERT_EQ(expected, 795904);
  const GptModel baby(baby_gpt_config(), vocab);
  EXPECT_EQ(baby.parameter_count(), 795904);

  config::ModelConfig untied = baby_gpt_config();
  untied.tie_weights = false;
  EXPECT_EQ(GptModel(untied, vocab).parameter_count(), 795904 + vocab * width);

  // Biases: c_attn 3C, attn.c_proj C, c_fc 4C, mlp.c_proj C, two LayerNorms 2C per block; ln_f C.
  config::ModelConfig with_bias = baby_gpt_config();
  with_bias.bias = true;
  EXPECT_EQ(GptModel(with_bias, vocab).parameter_count(), 795904 + layers * 11 * width + width);
}

TEST(GptTest, EstimatesFlopsPerTokenAsNanoGpt) {
  const GptModel baby(baby_gpt_config(), 65);
  EXPECT_DOUBLE_EQ(baby.flops_per_token(64), 6.0 * 795904 + 12.0 * 4 * 64 * 128);
  EXPECT_DOUBLE_EQ(baby.flops_per_token(1), 6.0 * 795904 + 12.0 * 4 * 1 * 128);
}

TEST(GptTest, InitialisesAsGpt2) {
  torch::manual_seed(5);
  config::ModelConfig config = tiny_config(config::ModelArch::gpt);
  config.n_layer = 8;
  config.n_head = 4;
  config.n_embd = 256;
  config.block_size = 256;
  config.bias = true;
  const GptModel model(config, 50);
  const auto w = named_tensors(model);
  const double residual_std = 0.02 / std::sqrt(2.0 * 8);
  // 65536 to 262144 draws per matrix: the sample std is within 0.3% of the
  // true one (one standard error), the tolerances 3 to 7 times that.
  EXPECT_NEAR(w.at("h.3.mlp.c_proj.weight").std().item<double>(), residual_std,
              0.01 * residual_std);
  EXPECT_NEAR(w.at("h.3.attn.c_proj.weight").std().item<double>(), residual_std,
              0.02 * residual_std);
  EXPECT_NEAR(w.at("h.3.mlp.c_fc.weight").std().item<double>(), 0.02, 0.0002);
  EXPECT_NEAR(w.at("h.3.attn.c_attn.weight").std().item<double>(), 0.02, 0.0002);
  EXPECT_NEAR(w.at("wpe.weight").std().item<double>(), 0.02, 0.0002);
  EXPECT_NEAR(w.at("h.3.mlp.c_fc.weight").mean().item<double>(), 0.0, 0.0002);
  for (const auto& [name, tensor] : w) {
    if (name.size() > 5 && name.compare(name.size() - 5, 5, ".bias") == 0) {
      EXPECT_EQ(tensor.abs().max().item<float>(), 0.0f) << name;
    }
  }
  EXPECT_TRUE(torch::equal(w.at("h.3.ln_2.weight"), torch::ones({256})));
}

TEST(GptTest, TiedHeadIsTheTokenEmbedding) {
  config::ModelConfig config = tiny_config(config::ModelArch::gpt);
  GptModel tied(config, 9);
  EXPECT_EQ(tied.output_weight().data_ptr(), tied.token_embedding_weight().data_ptr());
  // Both roles send their gradient to the one tensor.
  LanguageModel::loss(tied.forward(random_tokens(2, 4, 9)), random_tokens(2, 4, 9)).backward();
  EXPECT_TRUE(tied.token_embedding_weight().grad().defined());

  config.tie_weights = false;
  const GptModel untied(config, 9);
  EXPECT_NE(untied.output_weight().data_ptr(), untied.token_embedding_weight().data_ptr());
  EXPECT_EQ(untied.output_weight().sizes(), torch::IntArrayRef({9, 32}));
}

TEST(GptTest, IsDeterministicGivenTheSeed) {
  const auto build = [] {
    torch::manual_seed(42);
    return GptModel(tiny_config(config::ModelArch::gpt), 10).parameters();
  };
  const auto first = build(), second = build();
  ASSERT_EQ(first.size(), second.size());
  for (std::size_t i = 0; i < first.size(); ++i)
    EXPECT_TRUE(torch::equal(first[i], second[i]));
}

TEST(GptTest, DropoutActsOnlyWhileTraining) {
  config::ModelConfig config = tiny_config(config::ModelArch::gpt);
  const torch::Tensor idx = random_tokens(2, 8, 10);
  torch::manual_seed(6);
  GptModel without_dropout(config, 10);
  without_dropout.train();
  const torch::Tensor reference = without_dropout.forward(idx);
  EXPECT_TRUE(torch::equal(without_dropout.forward(idx), reference));

  config.dropout = 0.5;
  torch::manual_seed(6);  // the same weights: dropout draws nothing at init
  GptModel with_dropout(config, 10);
  with_dropout.train();
  EXPECT_FALSE(torch::allclose(with_dropout.forward(idx), reference));
  EXPECT_FALSE(torch::equal(with_dropout.forward(idx), with_dropout.forward(idx)));
  with_dropout.eval();
  EXPECT_TRUE(torch::equal(with_dropout.forward(idx), reference));
}

TEST(GptTest, RunsForwardAndBackwardUnderBf16Autocast) {
  torch::manual_seed(7);
  GptModel model(tiny_config(config::ModelArch::gpt), 10);
  const torch::Tensor idx = random_tokens(2, 16, 10);
  {
    torch_compat::AutocastGuard autocast(torch::kCPU, torch::kBFloat16);
    const torch::Tensor logits = model.forward(idx);
    EXPECT_EQ(logits.scalar_type(), torch::kBFloat16);
    const torch::Tensor loss = LanguageModel::loss(logits, idx);
    EXPECT_TRUE(std::isfinite(loss.item<float>()));
    loss.backward();
  }
  EXPECT_FALSE(torch_compat::autocast_enabled(torch::kCPU));
  for (const auto& parameter : model.parameters()) {
    EXPECT_EQ(parameter.grad().scalar_type(), torch::kFloat);
    EXPECT_TRUE(torch::isfinite(parameter.grad()).all().item<bool>());
  }
}

TEST(GptTest, MemorisesARepeatingSequence) {
  torch::manual_seed(8);
  GptModel model(tiny_config(config::ModelArch::gpt), 5);
  const auto batch = repeating_batch(4, 16, 5);
  // ln(5) = 1.61 at the start; a memorised sequence costs almost nothing.
  EXPECT_LT(train_on(model, batch, 100, 1e-2), 0.01);
}

TEST(GptTest, RefusesHeadsThatDoNotDivideTheWidth) {
  config::ModelConfig config = tiny_config(config::ModelArch::gpt);
  config.n_embd = 30;
  config.n_head = 4;
  EXPECT_EQ(error_message<UsageError>([&] { GptModel(config, 5); }),
            "model.n_embd (30) must be a multiple of model.n_head (4): each head gets n_embd / "
            "n_head channels");
}

TEST(GptTest, RefusesInputsItCannotRead) {
  GptModel model(tiny_config(config::ModelArch::gpt), 5);
  EXPECT_EQ(error_message<Error>([&] {
              model.forward(torch::zeros({2, 17}, torch::kLong));
            }),
            "model input: 17 positions, expected 1 to model.block_size = 16");
  EXPECT_EQ(error_message<Error>([&] {
              model.forward(torch::zeros({2, 3}));
            }),
            "model input: expected int64 token ids [batch, time], got Float [2, 3]");
  EXPECT_EQ(error_message<Error>([&] { model.forward(torch::zeros({6}, torch::kLong)); }),
            "model input: expected int64 token ids [batch, time], got Long [6]");
}

}  // namespace
}  // namespace loom::model
