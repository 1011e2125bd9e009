// Loom's GPT as transformers' GPT2LMHeadModel: the same network, so the
// mapping is names, a transpose (GPT-2's Conv1D stores [in, out]) and zero
// biases where Loom has none (the rotary layout goes to hf_llama.cpp); and
// the char and byte tokenizers written for the `tokenizers` library (bpe in
// hf_sentencepiece.cpp).
#include "loom/export/hf_export.hpp"

#include <map>
#include <string>

#include "export_detail.hpp"
#include "export_folder.hpp"
#include "hf_llama.hpp"
#include "hf_sentencepiece.hpp"
#include <fmt/format.h>

#include "loom/config/enum_names.hpp"
#include "loom/core/build_info.hpp"
#include "loom/core/durable_files.hpp"
#include "loom/core/error.hpp"
#include "loom/text/tokenizer.hpp"

namespace loom::exporting {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace detail;

// Weights GPT-2 keeps in Conv1D layers, stored [in, out].
bool is_conv1d_weight(const std::string& name) {
  for (const char* layer :
       {".attn.c_attn.weight", ".attn.c_proj.weight", ".mlp.c_fc.weight", ".mlp.c_proj.weight"}) {
    const std::string suffix = layer;
    if (name.size() > suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      return true;
  }
  return false;
}

// The bias each weight or LayerNorm has in GPT-2, and its length.
std::map<std::string, std::int64_t> gpt2_biases(const config::ModelConfig& model) {
  std::map<std::string, std::int64_t> biases;
  const std::int64_t width = model.n_embd;
  for (std::int64_t layer = 0; layer < model.n_layer; ++layer) {
    const std::string block = fmt::format("h.{}.", layer);
    biases[block + "ln_1.bias"] = width;
    biases[block + "attn.c_attn.bias"] = 3 * width;
    biases[block + "attn.c_proj.bias"] = width;
    biases[block + "ln_2.bias"] = width;
    biases[block + "mlp.c_fc.bias"] = 4 * width;
    biases[block + "mlp.c_proj.bias"] = width;
  }
  biases["ln_f.bias"] = width;
  return biases;
}

// Bytes GPT-2's byte-level map leaves as the character of the same code.
bool is_printable_byte(unsigned byte) {
  return (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || byte >= 0xae;
}

// GPT-2's byte-to-character map (its ByteLevel pre-tokenizer's): printable
// bytes stand for themselves, the others for the characters from U+0100 on,
// in byte order.
std::string byte_as_character(unsigned byte) {
  unsigned code = byte;
  if (!is_printable_byte(byte)) {
    code = 0x100;
    for (unsigned below = 0; below < byte; ++below)
      code += is_printable_byte(below) ? 0 : 1;
  }
  std::string text;
  if (code < 0x80) {
    text += static_cast<char>(code);
  } else {
    text += static_cast<char>(0xc0 | (code >> 6));
    text += static_cast<char>(0x80 | (code & 0x3f));
  }
  return text;
}

json special_tokens_json() {
  json added = json::array();
  for (int id = 0; id < static_cast<int>(text::kNumSpecialTokens); ++id) {
    added.push_back({{"id", id},
                     {"content", text::kSpecialTokenNames[id]},
                     {"single_word", false},
                     {"lstrip", false},
                     {"rstrip", false},
                     {"normalized", false},
                     {"special", true}});
  }
  return added;
}

json tokenizer_config_json(std::int64_t block_size) {
  return {{"tokenizer_class", "PreTrainedTokenizerFast"},
          {"pad_token", text::kSpecialTokenNames[kPadId]},
          {"unk_token", text::kSpecialTokenNames[kUnkId]},
          {"bos_token", text::kSpecialTokenNames[kBosId]},
          {"eos_token", text::kSpecialTokenNames[kEosId]},
          {"model_max_length", block_size},
          {"clean_up_tokenization_spaces", false},
          // Loom never reads a special token out of text: "<eos>" in a
          // prompt is five characters. transformers would make it id 3
          // unless told to split special tokens like other text.
          {"split_special_tokens", true}};
}

[[noreturn]] void refuse_tokenizer_kind(const std::string& kind) {
  throw UsageError(
      fmt::format("--format hf: the {} tokenizer (prepare.tokenizer) cannot be written for "
                  "Hugging Face, only char, byte and bpe; export it with --format safetensors",
                  kind));
}

}  // namespace

json detail::hf_common_config(const config::ModelConfig& config, Dtype dtype, const json& loom) {
  return {{"tie_word_embeddings", config.tie_weights},
          {"bos_token_id", kBosId},
          {"eos_token_id", kEosId},
          {"pad_token_id", kPadId},
          {"torch_dtype", torch_dtype_name(dtype)},
          {"loom", loom}};
}

json detail::hf_bpe_model(json vocab, json merges, json unk_token, bool fuse_unk,
                          bool byte_fallback) {
  return {{"type", "BPE"},
          {"dropout", nullptr},
          {"unk_token", std::move(unk_token)},
          {"continuing_subword_prefix", nullptr},
          {"end_of_word_suffix", nullptr},
          {"fuse_unk", fuse_unk},
          {"byte_fallback", byte_fallback},
          {"ignore_merges", false},
          {"vocab", std::move(vocab)},
          {"merges", std::move(merges)}};
}

void check_hf_exportable(const model::LanguageModel& model, const json& tokenizer) {
  const config::ModelConfig& config = model.config();
  if (config.arch != config::ModelArch::gpt) {
    throw UsageError(
        fmt::format("--format hf: model.arch {} has no Hugging Face equivalent; "
                    "export it with --format safetensors",
                    config::enum_name(config.arch)));
  }
  if (config.positions == config::Positions::rope) {
    check_llama_exportable(config);
  } else if (config.positions != config::Positions::learned) {
    throw UsageError(
        fmt::format("--format hf: model.positions {} is neither GPT-2's (learned) nor "
                    "Llama's (rope); export it with --format safetensors",
                    config::enum_name(config.positions)));
  } else {
    const auto refuse = [](const std::string& option, const char* gpt2) {
      throw UsageError(
          fmt::format("--format hf: {}: a model with learned positions exports as GPT-2, "
                      "which has {}; export it with --format safetensors",
                      option, gpt2));
    };
    if (config.norm != config::Norm::layernorm)
      refuse(fmt::format("model.norm {}", config::enum_name(config.norm)), "LayerNorm");
    if (config.mlp != config::MlpKind::standard) {
      refuse(fmt::format("model.mlp {}", config::enum_name(config.mlp)),
             "the standard MLP (model.mlp: standard)");
    }
    if (config.mlp_hidden != 0 && config.mlp_hidden != 4 * config.n_embd) {
      refuse(fmt::format("model.mlp_hidden {}", config.mlp_hidden), "an MLP 4 x n_embd wide");
    }
    if (config.qk_norm) refuse("model.qk_norm", "no QK-norm");
  }
  const std::string kind = tokenizer.value("kind", "");
  if (kind == "bpe" || kind == "unigram") {
    check_sentencepiece_exportable(tokenizer);
  } else if (kind != "char" && kind != "byte") {
    refuse_tokenizer_kind(kind);
  }
}

std::vector<NamedTensor> hf_tensors(const model::LanguageModel& model, Dtype dtype) {
  if (is_llama_layout(model.config())) return llama_tensors(model, dtype);
  std::map<std::string, std::int64_t> missing_biases = gpt2_biases(model.config());
  std::vector<NamedTensor> tensors;
  for (NamedTensor& named : export_tensors(model, dtype)) {
    missing_biases.erase(named.name);
    if (is_conv1d_weight(named.name)) named.tensor = named.tensor.t().contiguous();
    named.name = named.name == kOutputWeightName ? named.name : "transformer." + named.name;
    tensors.push_back(std::move(named));
  }
  for (const auto& [name, size] : missing_biases) {
    tensors.push_back({"transformer." + name,
                       torch::zeros({size}, torch::TensorOptions().dtype(torch_dtype(dtype)))});
  }
  return tensors;
}

json hf_config(const model::LanguageModel& model, Dtype dtype, const json& source) {
  const config::ModelConfig& config = model.config();
  json loom = {{"version", LOOM_VERSION}, {"model", model_section_json(config)}};
  if (!source.is_null()) loom["source"] = source;
  if (is_llama_layout(config)) return llama_config(model, dtype, loom);
  json result = {
      {"architectures", {"GPT2LMHeadModel"}},
      {"model_type", "gpt2"},
      {"vocab_size", model.vocab_size()},
      {"n_positions", config.block_size},
      {"n_embd", config.n_embd},
      {"n_layer", config.n_layer},
      {"n_head", config.n_head},
      {"n_inner", nullptr},
      // "gelu" is the exact (erf) GELU, torch::gelu's default, as Loom's.
      {"activation_function", config.activation == config::Activation::gelu ? "gelu" : "relu"},
      {"resid_pdrop", 0.0},
      {"embd_pdrop", 0.0},
      {"attn_pdrop", 0.0},
      {"layer_norm_epsilon", kLayerNormEps},
      {"scale_attn_weights", true}};
  result.update(hf_common_config(config, dtype, loom));
  return result;
}

json hf_tokenizer(const json& tokenizer) {
  const std::string kind = tokenizer.at("kind").get<std::string>();
  json vocab = json::object();
  for (int id = 0; id < static_cast<int>(text::kNumSpecialTokens); ++id)
    vocab[text::kSpecialTokenNames[id]] = id;
  json result = {{"version", "1.0"},      {"truncation", nullptr},
                 {"padding", nullptr},    {"added_tokens", special_tokens_json()},
                 {"normalizer", nullptr}, {"post_processor", nullptr}};
  if (kind == "char") {
    int id = static_cast<int>(text::kNumSpecialTokens);
    for (const json& character : tokenizer.at("chars"))
      vocab[character.get<std::string>()] = id++;
    // One piece per Unicode character ([\s\S]: newlines too), looked up
    // whole; the pieces join back with nothing between them.
    result["pre_tokenizer"] = {{"type", "Split"},
                               {"pattern", {{"Regex", "[\\s\\S]"}}},
                               {"behavior", "Isolated"},
                               {"invert", false}};
    result["model"] = {
        {"type", "WordLevel"}, {"vocab", vocab}, {"unk_token", text::kSpecialTokenNames[kUnkId]}};
    result["decoder"] = {{"type", "Fuse"}};
  } else if (kind == "bpe") {
    result.update(sentencepiece_tokenizer_parts(tokenizer));
  } else if (kind == "byte") {
    for (unsigned byte = 0; byte < 256; ++byte)
      vocab[byte_as_character(byte)] = static_cast<int>(text::kNumSpecialTokens + byte);
    const json byte_level = {{"type", "ByteLevel"},
                             {"add_prefix_space", false},
                             {"trim_offsets", false},
                             {"use_regex", false}};
    result["pre_tokenizer"] = byte_level;
    // BPE without merges: every byte is a token.
    result["model"] = hf_bpe_model(vocab, json::array(), nullptr, /*fuse_unk=*/false,
                                   /*byte_fallback=*/false);
    result["decoder"] = byte_level;
  } else {
    refuse_tokenizer_kind(kind);
  }
  return result;
}

ExportSummary export_hf_model(const model::LanguageModel& model, const json& tokenizer,
                              const fs::path& out_dir, const ExportOptions& options,
                              const json& source) {
  check_hf_exportable(model, tokenizer);
  const std::vector<NamedTensor> tensors = hf_tensors(model, options.dtype);
  const std::vector<TensorBytes> views = tensor_views(tensors, options.dtype);
  const auto text_of = [](const json& value) {
    return value.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  };
  const json generation = {
      {"bos_token_id", kBosId}, {"eos_token_id", kEosId}, {"pad_token_id", kPadId}};
  detail::write_folder_atomically(out_dir, options.force, [&](const fs::path& dir) {
    write_safetensors(dir / detail::kWeightsFile, views,
                      {{"format", "pt"}, {"loom_version", LOOM_VERSION}});
    durable::write_file_synced(dir / detail::kConfigFile,
                               text_of(hf_config(model, options.dtype, source)));
    durable::write_file_synced(dir / detail::kGenerationConfigFile, text_of(generation));
    durable::write_file_synced(dir / detail::kTokenizerFile, text_of(hf_tokenizer(tokenizer)));
    durable::write_file_synced(dir / detail::kTokenizerConfigFile,
                               text_of(tokenizer_config_json(model.config().block_size)));
  });
  ExportSummary summary;
  summary.tensors = views.size();
  summary.weights_bytes = fs::file_size(out_dir / detail::kWeightsFile);
  return summary;
}

}  // namespace loom::exporting
