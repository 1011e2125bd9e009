// The run configuration: one typed struct per YAML section. Each struct's
// `schema` lists its keys with their defaults (the member initialisers),
// documentation and accepted values; that one list drives loading, checking,
// printing (`loom config show`), the documented defaults (`loom config
// defaults`) and comparison, so a key is never described in two places.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "loom/config/enums.hpp"
#include "loom/config/field_spec.hpp"
#include "loom/core/log.hpp"

namespace loom::config {

struct RunConfig {
  std::string name = "run";
  std::string out_dir = "runs";
  std::int64_t seed = 1337;
  Device device = Device::automatic;
  std::int64_t threads = 0;
  CpuThreading cpu_threading = CpuThreading::batch;
  log::Level log_level = log::Level::info;
  bool log_all_ranks = false;

  template <class Self, class Visitor>
  static void schema(Self& s, Visitor& v) {
    v.field("name", s.name, FieldSpec("run name; the run directory is <out_dir>/<name>"));
    v.field("out_dir", s.out_dir, FieldSpec("folder that holds run directories"));
    v.field("seed", s.seed, FieldSpec("seed of every random choice in the run").at_least(0));
    v.field("device", s.device, FieldSpec("where tensors live; auto picks cuda when available"));
    v.field(
        "threads", s.threads,
        FieldSpec("CPU threads per rank; 0 = the node's cores divided by its ranks").at_least(0));
    v.field("cpu_threading", s.cpu_threading,
            FieldSpec("how training uses run.threads on the CPU: batch = each thread trains a "
                      "slice of every micro-batch on one core (fastest for small models); ops = "
                      "threads share each operation"));
    v.field("log_level", s.log_level, FieldSpec("least severe log level printed"));
    v.field("log_all_ranks", s.log_all_ranks,
            FieldSpec("print info lines from every rank, prefixed, not only rank 0"));
  }
};

struct DataConfig {
  std::string store;
  WindowMode windows = WindowMode::packed;
  std::int64_t prefetch = 2;

  template <class Self, class Visitor>
  static void schema(Self& s, Visitor& v) {
    v.field("store", s.store,
            FieldSpec("token store written by `loom prepare` (.h5)").required().aka("dataset"));
    v.field("windows", s.windows,
            FieldSpec("packed: training windows run across document boundaries; document: a "
                      "window stays inside one document, padded and masked from the loss"));
    v.field("prefetch", s.prefetch,
            FieldSpec("batches assembled ahead on a background thread; 0 = none").at_least(0));
  }
};

struct ModelConfig {
  ModelArch arch = ModelArch::gpt;
  std::int64_t block_size = 256;
  std::int64_t n_layer = 6;
  std::int64_t n_head = 6;
  std::int64_t n_embd = 384;
  double dropout = 0.2;
  bool bias = false;
  Positions positions = Positions::learned;
  double rope_base = 10000.0;
  Norm norm = Norm::layernorm;
  MlpKind mlp = MlpKind::standard;
  std::int64_t mlp_hidden = 0;
  Activation activation = Activation::gelu;
  bool qk_norm = false;
  bool tie_weights = true;

  template <class Self, class Visitor>
  static void schema(Self& s, Visitor& v) {
    v.field("arch", s.arch, FieldSpec("model family; lstm is the recurrent baseline"));
    v.field("block_size", s.block_size, FieldSpec("context length in tokens").at_least(1));
    v.field("n_layer", s.n_layer, FieldSpec("transformer blocks (LSTM layers)").at_least(1));
    v.field("n_head", s.n_head, FieldSpec("attention heads per block").at_least(1));
    v.field("n_embd", s.n_embd, FieldSpec("embedding width (LSTM hidden size)").at_least(1));
    v.field("dropout", s.dropout,
            FieldSpec("dropout on embeddings, attention and residuals").at_least(0).below(1));
    v.field("bias", s.bias, FieldSpec("biases in linear layers and LayerNorms (RMSNorm has none)"));
    v.field("positions", s.positions,
            FieldSpec("position encoding; rope rotates each head's queries and keys"));
    v.field("rope_base", s.rope_base,
            FieldSpec("rotary base: channel pair i turns at rope_base^(-2i / head width)")
                .greater_than(1));
    v.field("norm", s.norm, FieldSpec("normalisation before attention, MLP and the head"));
    v.field("mlp", s.mlp, FieldSpec("standard: GPT-2's MLP; swiglu: silu(gate) * up (Llama's)"));
    v.field("mlp_hidden", s.mlp_hidden,
            FieldSpec("MLP hidden width; 0 = 4 n_embd, or for swiglu the width with the same "
                      "parameters, round(8 n_embd / 3)")
                .at_least(0));
    v.field("activation", s.activation, FieldSpec("the standard MLP's non-linearity"));
    v.field(
        "qk_norm", s.qk_norm,
        FieldSpec("normalise each head's queries and keys (model.norm's kind) before attention"));
    v.field("tie_weights", s.tie_weights,
            FieldSpec("share the token embedding with the output projection"));
  }
};

struct OptimConfig {
  double lr = 1e-3;
  double min_lr = 1e-4;
  std::int64_t warmup_iters = 100;
  std::int64_t lr_decay_iters = 0;
  LrSchedule schedule = LrSchedule::cosine;
  double weight_decay = 0.1;
  double beta1 = 0.9;
  double beta2 = 0.99;
  double eps = 1e-8;
  double grad_clip = 1.0;

  template <class Self, class Visitor>
  static void schema(Self& s, Visitor& v) {
    v.field(
        "lr", s.lr,
        FieldSpec("peak learning rate, reached after warmup").greater_than(0).aka("learning_rate"));
    v.field("min_lr", s.min_lr, FieldSpec("learning rate at the end of the decay").at_least(0));
    v.field("warmup_iters", s.warmup_iters,
            FieldSpec("optimizer steps of linear warmup from 0 to lr").at_least(0));
    v.field("lr_decay_iters", s.lr_decay_iters,
            FieldSpec("step at which the decay reaches min_lr; 0 = train.max_iters").at_least(0));
    v.field("schedule", s.schedule,
            FieldSpec("learning rate after warmup: cosine decay to min_lr, or constant")
                .aka("decay_lr",
                     "Loom calls it 'optim.schedule': cosine | constant (nanoGPT's decay_lr: "
                     "True | False)"));
    v.field("weight_decay", s.weight_decay,
            FieldSpec("AdamW decoupled weight decay, on weights of 2+ dimensions").at_least(0));
    v.field("beta1", s.beta1, FieldSpec("AdamW first-moment decay").at_least(0).below(1));
    v.field("beta2", s.beta2, FieldSpec("AdamW second-moment decay").at_least(0).below(1));
    v.field("eps", s.eps, FieldSpec("AdamW denominator epsilon").greater_than(0));
    v.field("grad_clip", s.grad_clip,
            FieldSpec("clip the global gradient norm to this; 0 = no clipping").at_least(0));
  }
};

// The signals train.stop_signals may name: those whose default action ends
// the process and that a scheduler or a person sends to ask for a stop.
inline constexpr const char* kStopSignalNames[] = {"SIGTERM", "SIGINT",  "SIGUSR1", "SIGUSR2",
                                                   "SIGHUP",  "SIGQUIT", "SIGXCPU"};
inline bool is_stop_signal_name(const std::string& name) {
  for (const char* known : kStopSignalNames)
    if (name == known) return true;
  return false;
}

struct TrainConfig {
  std::int64_t max_iters = 5000;
  std::int64_t batch_size = 64;
  std::int64_t micro_batch = 0;
  Precision precision = Precision::automatic;
  std::int64_t log_interval = 10;
  double peak_tflops = 0;
  double time_limit = 0;
  double time_limit_margin = 60;
  bool slurm_time_limit = true;
  std::vector<std::string> stop_signals = {"SIGTERM", "SIGINT", "SIGUSR1"};
  std::int64_t max_bad_steps = 5;

  template <class Self, class Visitor>
  static void schema(Self& s, Visitor& v) {
    v.field("max_iters", s.max_iters, FieldSpec("optimizer steps to train for").at_least(1));
    v.field("batch_size", s.batch_size,
            FieldSpec("global batch: sequences per optimizer step, summed over all ranks and "
                      "micro-steps; nanoGPT's batch_size x gradient_accumulation_steps, not its "
                      "batch_size (that is train.micro_batch)")
                .at_least(1));
    // nanoGPT's gradient_accumulation_steps counts every rank's micro-steps
    // (train.py divides it by the world size), so it is not multiplied by ranks.
    v.field("micro_batch", s.micro_batch,
            FieldSpec("sequences per forward/backward on one rank (nanoGPT's batch_size); 0 = "
                      "batch_size / ranks (no accumulation)")
                .at_least(0)
                .aka("gradient_accumulation_steps",
                     "Loom derives accumulation: set train.batch_size to nanoGPT's batch_size x "
                     "gradient_accumulation_steps (nanoGPT's value already counts every rank) "
                     "and train.micro_batch to nanoGPT's batch_size"));
    v.field("precision", s.precision,
            FieldSpec("compute precision of the matrix products (autocast; weights and optimizer "
                      "state stay fp32): auto = bf16 on CPUs with AVX512-BF16 or AMX and on CUDA "
                      "GPUs from compute capability 8.0, fp32 elsewhere; fp16 (CUDA only) uses a "
                      "dynamic loss scaler")
                .aka("dtype",
                     "Loom calls it 'train.precision': auto | fp32 | bf16 | fp16 (nanoGPT's "
                     "float32 | bfloat16 | float16)"));
    v.field("log_interval", s.log_interval,
            FieldSpec("optimizer steps between progress lines and metrics records").at_least(1));
    v.field("peak_tflops", s.peak_tflops,
            FieldSpec("one device's peak TFLOP/s at train.precision, for the model FLOPs "
                      "utilisation (MFU) in metrics; 0 = do not report MFU")
                .at_least(0));
    v.field("time_limit", s.time_limit,
            FieldSpec("seconds this training process may run: it stops with a checkpoint (exit "
                      "code 3) when the next step would end within train.time_limit_margin of "
                      "it; 0 = no limit")
                .at_least(0));
    v.field("time_limit_margin", s.time_limit_margin,
            FieldSpec("seconds kept before train.time_limit (or the SLURM job's end) for the "
                      "last checkpoint")
                .at_least(0));
    v.field("slurm_time_limit", s.slurm_time_limit,
            FieldSpec("inside a SLURM job, also stop with a checkpoint (exit code 3) "
                      "train.time_limit_margin before the job's end time (SLURM_JOB_END_TIME, "
                      "else squeue)"));
    v.field("stop_signals", s.stop_signals,
            FieldSpec("signals that stop the run with a checkpoint at the next step (exit code "
                      "3); any of SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGHUP, SIGQUIT, SIGXCPU. A "
                      "second SIGINT ends the process at once"));
    v.field("max_bad_steps", s.max_bad_steps,
            FieldSpec("steps in a row whose loss or gradients are NaN/inf that are skipped (no "
                      "update) before the run stops (exit code 4), its last checkpoint kept")
                .at_least(0));
  }
};

struct EvalConfig {
  std::int64_t interval = 250;
  std::int64_t iters = 200;
  std::int64_t samples = 1;
  std::int64_t sample_tokens = 200;
  std::string sample_prompt = "\n";
  double temperature = 0.8;
  std::int64_t top_k = 0;

  template <class Self, class Visitor>
  static void schema(Self& s, Visitor& v) {
    v.field("interval", s.interval,
            FieldSpec("optimizer steps between evaluations; 0 = only at the end")
                .at_least(0)
                .aka("eval_interval"));
    v.field("iters", s.iters,
            FieldSpec("batches of train.batch_size sequences averaged per split at each evaluation")
                .at_least(1)
                .aka("eval_iters"));
    v.field("samples", s.samples,
            FieldSpec("text samples written to the run directory at each evaluation").at_least(0));
    v.field("sample_tokens", s.sample_tokens, FieldSpec("tokens per sample").at_least(1));
    v.field("sample_prompt", s.sample_prompt, FieldSpec("text each sample starts from"));
    v.field("temperature", s.temperature,
            FieldSpec("sampling temperature for the samples").greater_than(0));
    v.field("top_k", s.top_k,
            FieldSpec("sample among the k likeliest tokens; 0 = all").at_least(0));
  }
};

struct CheckpointConfig {
  std::int64_t interval = 500;
  std::int64_t keep_last = 3;
  bool keep_best = true;
  ResumeMode resume = ResumeMode::automatic;

  template <class Self, class Visitor>
  static void schema(Self& s, Visitor& v) {
    v.field("interval", s.interval,
            FieldSpec("optimizer steps between checkpoints; 0 = only at the end").at_least(0));
    v.field("keep_last", s.keep_last,
            FieldSpec("periodic checkpoints kept; older ones are deleted").at_least(1));
    v.field("keep_best", s.keep_best,
            FieldSpec("also keep the checkpoint with the best validation loss"));
    v.field("resume", s.resume,
            FieldSpec("auto: continue from the run directory's latest checkpoint when there is "
                      "one; never: start from scratch")
                .aka("init_from",
                     "Loom calls it 'checkpoint.resume': auto | never (nanoGPT's 'resume' | "
                     "'scratch'); auto starts from scratch when there is no checkpoint yet"));
  }
};

struct DistConfig {
  DistBackend backend = DistBackend::automatic;
  double bucket_mb = 25.0;
  double timeout = 60.0;
  std::string interface;
  bool timeline = false;

  template <class Self, class Visitor>
  static void schema(Self& s, Visitor& v) {
    v.field("backend", s.backend,
            FieldSpec("how ranks talk (unused with one rank): auto = mpi under mpirun, else gloo, "
                      "and nccl for ranks on CUDA; mpi and gloo carry CPU tensors, nccl CUDA "
                      "tensors (its flags and sums go as auto picks for the CPU)"));
    v.field("bucket_mb", s.bucket_mb,
            FieldSpec("size of the flat gradient buckets reduced while backward runs, in MiB")
                .greater_than(0));
    v.field("timeout", s.timeout,
            FieldSpec("seconds of silence after which a rank counts a peer as lost (frozen, or "
                      "its link down) and stops with exit code 5; a killed peer is noticed at "
                      "once. Heartbeats come from a thread of their own, so a slow step, "
                      "evaluation or checkpoint never counts as silence")
                .greater_than(0));
    v.field("interface", s.interface,
            FieldSpec("network interface the ranks' hosts share (eth0, say), for Gloo and the "
                      "peer watch; empty: GLOO_SOCKET_IFNAME for Gloo, and every interface of "
                      "rank 0's host for the peer watch"));
    v.field("timeline", s.timeline,
            FieldSpec("write each step's gradient all-reduce timeline to metrics.jsonl "
                      "(sync_timeline: backward's end and each bucket's start and completion, "
                      "in ms from the start of the step's last micro-step), to see the "
                      "reductions overlap backward"));
  }
};

// How `loom prepare` turns corpus files into the token store at data.store.
struct PrepareConfig {
  std::vector<std::string> inputs;
  CorpusFormat format = CorpusFormat::automatic;
  std::string separator = "<|endoftext|>";
  std::string jsonl_field = "text";
  bool author_prefix = false;
  TokenizerKind tokenizer = TokenizerKind::char_level;
  std::int64_t min_count = 1;
  std::int64_t max_vocab = 0;
  std::int64_t vocab_size = 8000;
  std::int64_t sample_mb = 64;
  double val_fraction = 0.1;
  std::int64_t split_seed = 1337;
  bool append_eos = true;
  std::int64_t threads = 0;
  bool drop_urls = false;
  bool drop_mentions = false;
  bool drop_code_blocks = false;
  bool drop_empty = false;
  std::int64_t min_chars = 0;
  bool dedup = false;
  bool lowercase = false;
  bool nfc = false;

  template <class Self, class Visitor>
  static void schema(Self& s, Visitor& v) {
    v.field("inputs", s.inputs,
            FieldSpec("corpus files, folders or globs; .gz and .zst are read as they are"));
    v.field("format", s.format,
            FieldSpec("corpus format; auto: *.jsonl is jsonl, a folder with Messages/ is a Discord "
                      "package, result.json is a Telegram export, anything else is text"));
    v.field("separator", s.separator,
            FieldSpec("text: a line equal to this ends a document; \"\" = one document per file"));
    v.field("jsonl_field", s.jsonl_field, FieldSpec("jsonl: the field that holds the text"));
    v.field("author_prefix", s.author_prefix,
            FieldSpec("discord/telegram: start each message with \"author: \""));
    v.field("tokenizer", s.tokenizer,
            FieldSpec("char: Unicode characters; byte: the 256 byte values; bpe/unigram: "
                      "SentencePiece trained on a sample of the corpus"));
    v.field("min_count", s.min_count,
            FieldSpec("char: characters seen fewer times become <unk>").at_least(1));
    v.field("max_vocab", s.max_vocab,
            FieldSpec("char: cap on the vocabulary, the rarest characters becoming <unk>; 0 = no "
                      "cap")
                .at_least(0));
    v.field("vocab_size", s.vocab_size,
            FieldSpec("bpe/unigram: vocabulary size, special tokens included; at least 262, "
                      "room for the 256 byte pieces that keep any text encodable")
                .at_least(262));
    v.field(
        "sample_mb", s.sample_mb,
        FieldSpec("bpe/unigram: MiB of text from the start of the corpus to train on").at_least(1));
    v.field("val_fraction", s.val_fraction,
            FieldSpec("share of documents in the validation split").at_least(0).below(1));
    v.field("split_seed", s.split_seed,
            FieldSpec("seed of the train/val assignment of documents").at_least(0));
    v.field("append_eos", s.append_eos, FieldSpec("end every document with an <eos> token"));
    v.field("threads", s.threads,
            FieldSpec("tokenizer threads; 0 = every core. The store is identical for any count")
                .at_least(0));
    v.field("drop_urls", s.drop_urls, FieldSpec("remove links (http://, https://, www.)"));
    v.field("drop_mentions", s.drop_mentions,
            FieldSpec("remove @mentions and Discord <@id>/<#id> mentions"));
    v.field("drop_code_blocks", s.drop_code_blocks, FieldSpec("remove ``` fenced code blocks"));
    v.field("drop_empty", s.drop_empty,
            FieldSpec("drop messages/lines left empty or blank after cleaning"));
    v.field("min_chars", s.min_chars,
            FieldSpec("drop messages/lines shorter than this many characters; 0 = keep all")
                .at_least(0));
    v.field("dedup", s.dedup, FieldSpec("drop exact repeats of an earlier message/line"));
    v.field("lowercase", s.lowercase, FieldSpec("lowercase all text (Unicode-aware)"));
    v.field("nfc", s.nfc, FieldSpec("normalise text to Unicode NFC"));
  }
};

// How `loom serve`'s /v1/chat/completions turns a chat into the text the
// model continues (serve/chat_template.hpp); serve's flags override it.
struct ChatConfig {
  ChatTemplateKind template_kind = ChatTemplateKind::automatic;
  std::string user_name = "user";
  std::string assistant_name = "assistant";

  template <class Self, class Visitor>
  static void schema(Self& s, Visitor& v) {
    v.field("template", s.template_kind,
            FieldSpec("lines: one \"name: text\" line per message, as `loom prepare` writes chat "
                      "exports with author_prefix; blocks: \"NAME:\" on a line, the text, a blank "
                      "line (a play's layout); auto: lines when prepare.author_prefix is set, "
                      "else blocks"));
    v.field("user_name", s.user_name,
            FieldSpec("the name on user messages that do not carry their own \"name\"; \"\" = "
                      "none"));
    v.field("assistant_name", s.assistant_name,
            FieldSpec("the name the model answers as (and on assistant messages without a "
                      "\"name\"); \"\" = none"));
  }
};

struct Config {
  RunConfig run;
  PrepareConfig prepare;
  DataConfig data;
  ModelConfig model;
  OptimConfig optim;
  TrainConfig train;
  EvalConfig eval;
  CheckpointConfig checkpoint;
  DistConfig dist;
  ChatConfig chat;

  template <class Self, class Visitor>
  static void sections(Self& s, Visitor& v) {
    v.section("run", s.run, "what the run is called, where it writes, what it runs on");
    v.section("prepare", s.prepare, "how `loom prepare` turns the corpus into data.store");
    v.section("data", s.data, "the token store and how training windows are cut from it");
    v.section("model", s.model, "the network's shape");
    v.section("optim", s.optim, "AdamW and the learning-rate schedule");
    v.section("train", s.train, "steps, batch and precision");
    v.section("eval", s.eval, "periodic evaluation and samples");
    v.section("checkpoint", s.checkpoint, "when checkpoints are written, kept and resumed");
    v.section("dist", s.dist, "data-parallel training across ranks");
    v.section("chat", s.chat, "how `loom serve` lays out a chat for the model");
  }
};

// Field by field, through the schema (defined in fields.cpp).
bool operator==(const Config& a, const Config& b);
inline bool operator!=(const Config& a, const Config& b) {
  return !(a == b);
}

}  // namespace loom::config
