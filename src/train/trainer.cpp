// The training loop. A TrainingRun owns what one run needs (data, model,
// optimizer, scaler, checkpoints, metrics) and its step() reads in the
// order things happen; setup and resume live in training_run.cpp.
#include "loom/train/trainer.hpp"

#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>

#include "training_run.hpp"
#include <fmt/format.h>
#include <torch/torch.h>

#include "loom/core/log.hpp"
#include "loom/core/torch_compat.hpp"
#include "loom/infer/text_completion.hpp"
#include "loom/run/loss_plot.hpp"
#include "loom/train/evaluation.hpp"
#include "loom/train/grad_norm.hpp"
#include "loom/train/optimizer.hpp"

namespace loom::train {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// JSON has no NaN or infinity; a diverged loss is recorded as null.
nlohmann::json finite_or_null(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

}  // namespace

StepReport TrainingRun::train_step(std::int64_t step, data::BatchPrefetcher& batches) {
  const Clock::time_point start = Clock::now();
  StepReport report;
  report.step = step + 1;
  report.max_iters = config_.train.max_iters;
  report.lr = schedule_.at(step);
  set_learning_rate(*optimizer_, report.lr);

  // Forward and backward over this rank's micro-batches. The loss of each is
  // divided by their number, so the summed gradients are the mean over the
  // whole batch, as one big forward would give.
  const std::int64_t micro_steps = train_sampler_->accumulation_steps();
  torch::Tensor loss_sum = torch::zeros({}, torch::kFloat64);
  for (std::int64_t micro = 0; micro < micro_steps; ++micro) {
    data::Batch batch = batches.next();
    const BatchTensors tensors = to_tensors(batch, device_);
    torch::Tensor loss;
    {
      std::optional<torch_compat::AutocastGuard> autocast;
      if (autocast_dtype_) autocast.emplace(device_.type(), *autocast_dtype_);
      loss = model::LanguageModel::loss(model_->forward(tensors.inputs), tensors.targets) /
             static_cast<double>(micro_steps);
    }
    scaler_.scale_loss(loss).backward();
    loss_sum += loss.detach().to(torch::kCPU, torch::kFloat64);
  }

  // fp16: gradients back to true scale; an inf or nan skips the update and
  // lowers the scale. fp32 and bf16 never overflow here (the scaler is off).
  const bool overflow = scaler_.unscale_and_find_inf(parameters_);
  scaler_.update(overflow);
  if (overflow) {
    report.skipped = true;
    report.grad_norm = std::numeric_limits<double>::infinity();
  } else {
    report.grad_norm = clip_grad_norm(parameters_, config_.optim.grad_clip);
    optimizer_->step();
  }
  // Dropping the gradients (rather than filling them with zeros) lets the
  // next backward write them fresh instead of adding into zeros.
  for (torch::Tensor& parameter : parameters_)
    parameter.mutable_grad().reset();

  report.loss = loss_sum.item<double>();
  report.step_seconds = seconds_since(start);
  report.tokens_per_second = static_cast<double>(tokens_per_step_) / report.step_seconds;
  if (config_.train.peak_tflops > 0) {
    const double flops = model_->flops_per_token(config_.model.block_size) *
                         report.tokens_per_second / static_cast<double>(launch_.world_size);
    report.mfu = flops / (config_.train.peak_tflops * 1e12);
  }
  return report;
}

EvalReport TrainingRun::evaluate_at(std::int64_t step) {
  const Clock::time_point start = Clock::now();
  EvalReport report;
  report.step = step;
  report.train_loss =
      evaluate_loss(*model_, *train_sampler_, config_.eval.iters, device_, autocast_dtype_)
          .mean_loss;
  if (val_sampler_) {
    report.val_loss =
        evaluate_loss(*model_, *val_sampler_, config_.eval.iters, device_, autocast_dtype_)
            .mean_loss;
    if (*report.val_loss < state_.best_val_loss) {
      state_.best_val_loss = *report.val_loss;
      report.best = true;
    }
  }
  write_samples(step, report.samples);
  report.seconds = seconds_since(start);

  nlohmann::json record{{"step", step},
                        {"train_loss", finite_or_null(report.train_loss)},
                        {"eval_seconds", report.seconds},
                        {"elapsed", elapsed_seconds()}};
  if (report.val_loss) record["val_loss"] = finite_or_null(*report.val_loss);
  metrics_->append(record);
  redraw_loss_plot();
  return report;
}

void TrainingRun::write_samples(std::int64_t step, std::vector<std::string>& samples) {
  if (config_.eval.samples == 0) return;
  infer::SamplingOptions options;
  options.max_new_tokens = config_.eval.sample_tokens;
  options.temperature = config_.eval.temperature;
  options.top_k = config_.eval.top_k;
  std::string file_text;
  for (std::int64_t i = 0; i < config_.eval.samples; ++i) {
    // Seeded by the run and the step, from a generator of its own: samples
    // never move the training's random stream.
    options.seed = static_cast<std::uint64_t>(config_.run.seed) * 1000003ULL +
                   static_cast<std::uint64_t>(step) * 101ULL + static_cast<std::uint64_t>(i);
    samples.push_back(
        infer::complete_text(*model_, *tokenizer_, config_.eval.sample_prompt, options));
    file_text += fmt::format("--- sample {} of {} at step {}, temperature {}, top_k {}\n{}\n",
                             i + 1, config_.eval.samples, step, options.temperature, options.top_k,
                             config_.eval.sample_prompt + samples.back());
  }
  const fs::path dir = run_dir_ / "samples";
  fs::create_directories(dir);
  std::ofstream(dir / fmt::format("step-{:08d}.txt", step)) << file_text;
}

void TrainingRun::redraw_loss_plot() {
  const run::LossCurves curves =
      run::curves_from_metrics(run::read_metrics(metrics_->path()), config_.run.name);
  run::write_loss_svg((run_dir_ / "loss.svg").string(), {curves},
                      fmt::format("{}: loss", config_.run.name));
}

void TrainingRun::record_step(const StepReport& report) {
  nlohmann::json record{{"step", report.step},
                        {"loss", finite_or_null(report.loss)},
                        {"lr", report.lr},
                        {"grad_norm", finite_or_null(report.grad_norm)},
                        {"step_ms", report.step_seconds * 1e3},
                        {"tokens_per_second", report.tokens_per_second},
                        {"elapsed", report.elapsed_seconds}};
  if (report.mfu) record["mfu"] = *report.mfu;
  if (report.skipped) record["skipped"] = true;
  if (scaler_.enabled()) record["loss_scale"] = scaler_.scale();
  metrics_->append(record);
}

TrainResult TrainingRun::run() {
  TrainResult result;
  result.run_dir = run_dir_.string();
  result.start_step = state_.step;
  const std::int64_t max_iters = config_.train.max_iters;
  const std::int64_t eval_interval = config_.eval.interval;
  const std::int64_t checkpoint_interval = config_.checkpoint.interval;
  const auto due = [](std::int64_t step, std::int64_t interval) {
    return interval > 0 && step % interval == 0;
  };

  // A fresh run evaluates before its first step, as nanoGPT does, so the
  // curve starts at the untrained loss; a resumed one did so before saving.
  if (state_.step == 0 && eval_interval > 0) observer_.on_eval(evaluate_at(0));

  data::BatchPrefetcher batches(*train_sampler_, state_.step, config_.data.prefetch);
  session_start_ = Clock::now();
  for (std::int64_t step = state_.step; step < max_iters; ++step) {
    StepReport report = train_step(step, batches);
    state_.step = step + 1;
    state_.loss_scaler = scaler_.state();
    report.elapsed_seconds = elapsed_seconds();
    result.final_loss = report.loss;
    if (state_.step % config_.train.log_interval == 0 || state_.step == max_iters)
      record_step(report);
    observer_.on_step(report);

    const bool last = state_.step == max_iters;
    bool improved = false;
    if (due(state_.step, eval_interval) || last) {
      const EvalReport eval = evaluate_at(state_.step);
      improved = eval.best;
      result.final_val_loss = eval.val_loss;
      observer_.on_eval(eval);
    }
    const bool keep_as_best = improved && config_.checkpoint.keep_best;
    if (due(state_.step, checkpoint_interval) || last || keep_as_best) {
      save_checkpoint();
      if (keep_as_best) checkpoints_->mark_best(state_.step);
    }
  }
  result.final_step = state_.step;
  result.best_val_loss = state_.best_val_loss;
  return result;
}

double TrainingRun::elapsed_seconds() const {
  return train_seconds_before_ + seconds_since(session_start_);
}

void TrainingRun::save_checkpoint() {
  state_.train_seconds = elapsed_seconds();
  const Checkpoint written = checkpoints_->write(state_.step, [&](const fs::path& dir) {
    write_run_checkpoint(
        dir, CheckpointContents{config_, tokenizer_json_, *model_, *optimizer_, state_});
  });
  observer_.on_checkpoint(state_.step, written.dir.string());
}

TrainResult train(const config::Config& config, TrainingObserver& observer) {
  TrainingRun run(config, observer);
  return run.run();
}

}  // namespace loom::train
