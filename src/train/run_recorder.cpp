#include "loom/train/run_recorder.hpp"

#include <cmath>

#include <fmt/format.h>

#include "loom/config/yaml_dump.hpp"
#include "loom/core/durable_files.hpp"
#include "loom/core/error.hpp"
#include "loom/core/log.hpp"
#include "loom/infer/text_completion.hpp"
#include "loom/run_dir/loss_plot.hpp"

namespace loom::train {
namespace {

namespace fs = std::filesystem;

// JSON has no NaN or infinity; a diverged loss is recorded as null.
nlohmann::json finite_or_null(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

}  // namespace

RunRecorder::RunRecorder(const config::Config& config, fs::path directory, int rank, int world_size,
                         config::Precision precision, std::optional<at::ScalarType> autocast_dtype)
    : config_(config),
      run_dir_(std::move(directory)),
      rank_(rank),
      world_size_(world_size),
      precision_(precision),
      autocast_dtype_(autocast_dtype) {
  if (writes()) fs::create_directories(run_dir_);
}

void RunRecorder::start(const nlohmann::json& tokenizer, std::int64_t resumed_step) {
  if (!writes()) return;
  const fs::path metrics = run_dir_ / "metrics.jsonl";
  if (resumed_step == 0 && fs::exists(metrics)) {
    log::warn(
        "{}: no checkpoint to resume from; starting the run over (its metrics.jsonl is "
        "replaced)",
        run_dir_.string());
    fs::remove(metrics);
  }
  durable::replace_file(run_dir_ / "config.yaml", run_dir_ / ".config.yaml.tmp",
                        config::to_yaml(config_, config::DumpStyle::documented));
  durable::replace_file(run_dir_ / "tokenizer.json", run_dir_ / ".tokenizer.json.tmp",
                        tokenizer.dump() + "\n");
  metrics_ =
      std::make_unique<run_dir::MetricsLog>(metrics.string(), resumed_step > 0 ? resumed_step : -1);
}

void RunRecorder::record_step(const StepReport& report) {
  if (!metrics_) return;
  const bool due = report.step % config_.train.log_interval == 0 ||
                   report.step == report.max_iters || report.non_finite;
  if (!due) return;
  nlohmann::json record{{"step", report.step},
                        {"loss", finite_or_null(report.loss)},
                        {"lr", report.lr},
                        {"grad_norm", finite_or_null(report.grad_norm)},
                        {"step_ms", report.step_seconds * 1e3},
                        {"tokens_per_second", report.tokens_per_second},
                        {"elapsed", report.elapsed_seconds},
                        {"precision", config::enum_name(precision_)}};
  if (report.mfu) record["mfu"] = *report.mfu;
  if (report.skipped) record["skipped"] = true;
  if (report.non_finite) record["non_finite"] = true;
  if (world_size_ > 1) record["sync_wait_ms"] = report.sync_wait_seconds * 1e3;
  if (report.sync_timeline) {
    record["sync_timeline"] = {{"backward_end_ms", report.sync_timeline->backward_end_ms},
                               {"launched_ms", report.sync_timeline->launched_ms},
                               {"reduced_ms", report.sync_timeline->reduced_ms}};
  }
  if (report.loss_scale) record["loss_scale"] = *report.loss_scale;
  metrics_->append(record);
}

std::vector<std::string> RunRecorder::write_samples(std::int64_t step, model::LanguageModel& model,
                                                    const text::Tokenizer& tokenizer) {
  std::vector<std::string> samples;
  if (!writes() || config_.eval.samples == 0) return samples;
  infer::SamplingOptions options;
  options.max_new_tokens = config_.eval.sample_tokens;
  options.temperature = config_.eval.temperature;
  options.top_k = config_.eval.top_k;
  options.autocast_dtype = autocast_dtype_;
  std::string file_text;
  for (std::int64_t i = 0; i < config_.eval.samples; ++i) {
    options.seed = static_cast<std::uint64_t>(config_.run.seed) * 1000003ULL +
                   static_cast<std::uint64_t>(step) * 101ULL + static_cast<std::uint64_t>(i);
    try {
      samples.push_back(
          infer::complete_text(model, tokenizer, config_.eval.sample_prompt, options));
    } catch (const Error& e) {
      // A diverged model has no sample to give, but the run decides what
      // to do about divergence (train.max_bad_steps), not its samples.
      samples.push_back(fmt::format("(no sample: {})", e.what()));
    }
    file_text += fmt::format("--- sample {} of {} at step {}, temperature {}, top_k {}\n{}\n",
                             i + 1, config_.eval.samples, step, options.temperature, options.top_k,
                             config_.eval.sample_prompt + samples.back());
  }
  const fs::path dir = run_dir_ / "samples";
  fs::create_directories(dir);
  // Checked, where an ofstream would drop a full disk's error silently.
  durable::write_file_synced(dir / fmt::format("step-{:08d}.txt", step), file_text);
  return samples;
}

void RunRecorder::record_eval(const EvalReport& report, double elapsed_seconds) {
  if (!metrics_) return;
  nlohmann::json record{{"step", report.step},
                        {"train_loss", finite_or_null(report.train_loss)},
                        {"eval_seconds", report.seconds},
                        {"elapsed", elapsed_seconds}};
  if (report.val_loss) record["val_loss"] = finite_or_null(*report.val_loss);
  metrics_->append(record);
  const run_dir::LossCurves curves =
      run_dir::curves_from_metrics(run_dir::read_metrics(metrics_->path()), config_.run.name);
  run_dir::write_loss_svg((run_dir_ / "loss.svg").string(), {curves},
                          fmt::format("{}: loss", config_.run.name));
}

}  // namespace loom::train
