// The config's choices as enums, and the names each value has in YAML
// (EnumNames, enum_names.hpp): what `loom config show` prints and what a
// config file may say.
#pragma once

#include <utility>

#include "loom/config/enum_names.hpp"
#include "loom/core/log.hpp"

namespace loom::config {

enum class Device { automatic, cpu, cuda };
enum class CpuThreading { batch, ops };
enum class ModelArch { gpt, lstm };
// rope: rotary embeddings (RoFormer) applied to each head's queries and keys.
enum class Positions { learned, sinusoidal, none, rope };
enum class Norm { layernorm, rmsnorm };
// standard: c_fc, the activation, c_proj (GPT-2); swiglu: silu(gate) * up,
// then c_proj (Llama).
enum class MlpKind { standard, swiglu };
enum class Activation { gelu, relu };
enum class LrSchedule { cosine, constant };
// automatic: bf16 where the device multiplies bf16 natively, else fp32
// (train::choose_precision).
enum class Precision { automatic, fp32, bf16, fp16 };
enum class WindowMode { packed, document };
enum class ResumeMode { automatic, never };
enum class DistBackend { automatic, mpi, gloo, nccl };
enum class TokenizerKind { char_level, byte, bpe, unigram };
enum class CorpusFormat { automatic, text, jsonl, discord, telegram };
// How `loom serve` lays out a chat's messages as a prompt (serve/chat_template.hpp).
enum class ChatTemplateKind { automatic, lines, blocks };

template <>
struct EnumNames<Device> {
  static constexpr std::pair<Device, const char*> values[] = {
      {Device::automatic, "auto"}, {Device::cpu, "cpu"}, {Device::cuda, "cuda"}};
};
template <>
struct EnumNames<CpuThreading> {
  static constexpr std::pair<CpuThreading, const char*> values[] = {{CpuThreading::batch, "batch"},
                                                                    {CpuThreading::ops, "ops"}};
};
template <>
struct EnumNames<ModelArch> {
  static constexpr std::pair<ModelArch, const char*> values[] = {{ModelArch::gpt, "gpt"},
                                                                 {ModelArch::lstm, "lstm"}};
};
template <>
struct EnumNames<Positions> {
  static constexpr std::pair<Positions, const char*> values[] = {
      {Positions::learned, "learned"},
      {Positions::sinusoidal, "sinusoidal"},
      {Positions::none, "none"},
      {Positions::rope, "rope"}};
};
template <>
struct EnumNames<Norm> {
  static constexpr std::pair<Norm, const char*> values[] = {{Norm::layernorm, "layernorm"},
                                                            {Norm::rmsnorm, "rmsnorm"}};
};
template <>
struct EnumNames<MlpKind> {
  static constexpr std::pair<MlpKind, const char*> values[] = {{MlpKind::standard, "standard"},
                                                               {MlpKind::swiglu, "swiglu"}};
};
template <>
struct EnumNames<Activation> {
  static constexpr std::pair<Activation, const char*> values[] = {{Activation::gelu, "gelu"},
                                                                  {Activation::relu, "relu"}};
};
template <>
struct EnumNames<LrSchedule> {
  static constexpr std::pair<LrSchedule, const char*> values[] = {
      {LrSchedule::cosine, "cosine"}, {LrSchedule::constant, "constant"}};
};
template <>
struct EnumNames<Precision> {
  static constexpr std::pair<Precision, const char*> values[] = {{Precision::automatic, "auto"},
                                                                 {Precision::fp32, "fp32"},
                                                                 {Precision::bf16, "bf16"},
                                                                 {Precision::fp16, "fp16"}};
};
template <>
struct EnumNames<WindowMode> {
  static constexpr std::pair<WindowMode, const char*> values[] = {
      {WindowMode::packed, "packed"}, {WindowMode::document, "document"}};
};
template <>
struct EnumNames<ResumeMode> {
  static constexpr std::pair<ResumeMode, const char*> values[] = {{ResumeMode::automatic, "auto"},
                                                                  {ResumeMode::never, "never"}};
};
template <>
struct EnumNames<DistBackend> {
  static constexpr std::pair<DistBackend, const char*> values[] = {{DistBackend::automatic, "auto"},
                                                                   {DistBackend::mpi, "mpi"},
                                                                   {DistBackend::gloo, "gloo"},
                                                                   {DistBackend::nccl, "nccl"}};
};
template <>
struct EnumNames<TokenizerKind> {
  static constexpr std::pair<TokenizerKind, const char*> values[] = {
      {TokenizerKind::char_level, "char"},
      {TokenizerKind::byte, "byte"},
      {TokenizerKind::bpe, "bpe"},
      {TokenizerKind::unigram, "unigram"}};
};
template <>
struct EnumNames<CorpusFormat> {
  static constexpr std::pair<CorpusFormat, const char*> values[] = {
      {CorpusFormat::automatic, "auto"},
      {CorpusFormat::text, "text"},
      {CorpusFormat::jsonl, "jsonl"},
      {CorpusFormat::discord, "discord"},
      {CorpusFormat::telegram, "telegram"}};
};
template <>
struct EnumNames<ChatTemplateKind> {
  static constexpr std::pair<ChatTemplateKind, const char*> values[] = {
      {ChatTemplateKind::automatic, "auto"},
      {ChatTemplateKind::lines, "lines"},
      {ChatTemplateKind::blocks, "blocks"}};
};
template <>
struct EnumNames<log::Level> {
  static constexpr std::pair<log::Level, const char*> values[] = {{log::Level::debug, "debug"},
                                                                  {log::Level::info, "info"},
                                                                  {log::Level::warn, "warning"},
                                                                  {log::Level::error, "error"}};
};

}  // namespace loom::config
