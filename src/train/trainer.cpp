// The training loop. A TrainingRun owns what one run needs (data, model,
// optimizer, scaler, checkpoints, metrics) and its step() reads in the
// order things happen; setup and resume live in training_run.cpp.
#include "loom/train/trainer.hpp"

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <fstream>
#include <limits>

#include "training_run.hpp"
#include <fmt/format.h>
#include <torch/torch.h>

#include "loom/core/log.hpp"
#include "loom/core/mix.hpp"
#include "loom/core/torch_compat.hpp"
#include "loom/infer/text_completion.hpp"
#include "loom/model/dropout_generator.hpp"
#include "loom/run/loss_plot.hpp"
#include "loom/train/evaluation.hpp"
#include "loom/train/grad_norm.hpp"
#include "loom/train/optimizer.hpp"
#include "loom/train/stop_signals.hpp"

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
    // Across ranks, the last micro-step's backward starts the gradient
    // all-reduce bucket by bucket as the gradients arrive; the ones before
    // it only accumulate here.
    if (gradient_sync_ && micro + 1 == micro_steps && !workers_) gradient_sync_->arm();
    const torch::Tensor loss =
        workers_ ? backward_in_slices(tensors, step, micro) : backward_whole(tensors, step, micro);
    loss_sum += loss.to(torch::kFloat64);
  }
  // Every rank now holds the average of all ranks' gradients.
  if (gradient_sync_) {
    gradient_sync_->finish();
    report.sync_wait_seconds = gradient_sync_->timeline().wait_seconds;
  }

  // The step's loss, the mean over every rank's micro-batches. A NaN on
  // any rank makes the sum NaN on all, so the ranks agree on a non-finite
  // loss without another collective.
  report.loss = loss_sum.item<double>();
  if (communicator_)
    report.loss = communicator_->sum(report.loss) / static_cast<double>(communicator_->size());

  // fp16: gradients back to true scale; an inf or nan skips the update and
  // lowers the scale. fp32 and bf16 never overflow here (the scaler is off).
  bool overflow = scaler_.unscale_and_find_inf(parameters_);
  if (communicator_) overflow = communicator_->any(overflow);  // every rank skips, or none
  scaler_.update(overflow);
  report.grad_norm = std::numeric_limits<double>::infinity();
  if (!overflow) report.grad_norm = clip_grad_norm(parameters_, config_.optim.grad_clip);
  // A NaN/inf loss, or gradients that are not finite without an overflow to
  // explain them, is a bad step (train.max_bad_steps): no update. The
  // gradients are the synchronised ones, the same on every rank, so the
  // ranks agree on this too.
  report.non_finite =
      !std::isfinite(report.loss) || (!overflow && !std::isfinite(report.grad_norm));
  report.skipped = overflow || report.non_finite;
  if (!report.skipped) optimizer_->step();
  // Dropping the gradients (rather than filling them with zeros) lets the
  // next backward write them fresh instead of adding into zeros.
  for (torch::Tensor& parameter : parameters_)
    parameter.mutable_grad().reset();

  report.step_seconds = seconds_since(start);
  report.tokens_per_second = static_cast<double>(tokens_per_step_) / report.step_seconds;
  if (config_.train.peak_tflops > 0) {
    const double flops = model_->flops_per_token(config_.model.block_size) *
                         report.tokens_per_second / static_cast<double>(launch_.world_size);
    report.mfu = flops / (config_.train.peak_tflops * 1e12);
  }
  return report;
}

torch::Tensor TrainingRun::loss_of(const torch::Tensor& inputs, const torch::Tensor& targets) {
  std::optional<torch_compat::AutocastGuard> autocast;  // per thread, like autocast itself
  if (autocast_dtype_) autocast.emplace(device_.type(), *autocast_dtype_);
  return model::LanguageModel::loss(model_->forward(inputs), targets);
}

at::Generator TrainingRun::dropout_generator_for(std::int64_t step, std::int64_t micro,
                                                 int worker) const {
  std::uint64_t seed =
      mix_keys(0x64726f70 /* "drop" */, static_cast<std::uint64_t>(config_.run.seed));
  for (const std::int64_t key :
       {step, micro, static_cast<std::int64_t>(launch_.rank), static_cast<std::int64_t>(worker)})
    seed = mix_keys(seed, static_cast<std::uint64_t>(key));
  return at::detail::createCPUGenerator(seed);
}

torch::Tensor TrainingRun::backward_whole(const BatchTensors& batch, std::int64_t step,
                                          std::int64_t micro) {
  // CUDA draws dropout from its own generator (checkpointed with the others).
  std::optional<model::DropoutGeneratorScope> dropout;
  if (device_.is_cpu()) dropout.emplace(dropout_generator_for(step, micro, 0));
  const auto micro_steps = static_cast<double>(train_sampler_->accumulation_steps());
  const torch::Tensor loss = loss_of(batch.inputs, batch.targets) / micro_steps;
  scaler_.scale_loss(loss).backward();
  return loss.detach().cpu();
}

torch::Tensor TrainingRun::backward_in_slices(const BatchTensors& batch, std::int64_t step,
                                              std::int64_t micro) {
  const std::int64_t rows = batch.inputs.size(0);
  const int slices = static_cast<int>(std::min<std::int64_t>(workers_->size(), rows));
  const auto micro_steps = static_cast<double>(train_sampler_->accumulation_steps());
  std::vector<std::vector<torch::Tensor>> gradients(static_cast<std::size_t>(slices));
  std::vector<torch::Tensor> losses(static_cast<std::size_t>(slices));
  workers_->run(slices, [&](int worker) {
    const std::int64_t begin = rows * worker / slices, end = rows * (worker + 1) / slices;
    model::DropoutGeneratorScope dropout(dropout_generator_for(step, micro, worker));
    // Each slice's mean loss weighed by its share of the rows: the slices'
    // gradients then add up to the whole micro-batch's.
    const torch::Tensor loss =
        loss_of(batch.inputs.slice(0, begin, end), batch.targets.slice(0, begin, end)) *
        (static_cast<double>(end - begin) / static_cast<double>(rows) / micro_steps);
    // autograd::grad returns the gradients instead of adding them into
    // .grad, which the slices would otherwise race on.
    gradients[static_cast<std::size_t>(worker)] =
        torch::autograd::grad({scaler_.scale_loss(loss)}, parameters_, /*grad_outputs=*/{},
                              /*retain_graph=*/false, /*create_graph=*/false,
                              /*allow_unused=*/true);
    losses[static_cast<std::size_t>(worker)] = loss.detach();
  });
  // Summed in worker order, so the result does not depend on which finished first.
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    torch::Tensor& grad = parameters_[i].mutable_grad();
    for (const std::vector<torch::Tensor>& slice : gradients) {
      if (!slice[i].defined()) continue;
      if (grad.defined()) {
        grad.add_(slice[i]);
      } else {
        grad = slice[i];
      }
    }
  }
  torch::Tensor loss = losses[0];
  for (std::size_t w = 1; w < losses.size(); ++w)
    loss = loss + losses[w];
  return loss;
}

EvalReport TrainingRun::evaluate_at(std::int64_t step) {
  const Clock::time_point start = Clock::now();
  EvalReport report;
  report.step = step;
  // Each rank scores its share of the fixed batches (together, the same
  // windows whatever the number of ranks); the mean is over all of them.
  const auto split_loss = [&](const data::BatchSampler& sampler) {
    const std::int64_t micro_batches = config_.eval.iters * sampler.accumulation_steps();
    return global_mean_loss(evaluate_loss(*model_, sampler, micro_batches, device_, autocast_dtype_,
                                          /*count_characters=*/nullptr, workers_.get()));
  };
  report.train_loss = split_loss(*train_sampler_);
  if (val_sampler_) {
    report.val_loss = split_loss(*val_sampler_);
    if (*report.val_loss < state_.best_val_loss) {
      state_.best_val_loss = *report.val_loss;
      report.best = true;
    }
  }
  if (writes_files()) write_samples(step, report.samples);
  report.seconds = seconds_since(start);
  if (!metrics_) return report;

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
    try {
      samples.push_back(
          infer::complete_text(*model_, *tokenizer_, config_.eval.sample_prompt, options));
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
  std::ofstream(dir / fmt::format("step-{:08d}.txt", step)) << file_text;
}

void TrainingRun::redraw_loss_plot() {
  const run::LossCurves curves =
      run::curves_from_metrics(run::read_metrics(metrics_->path()), config_.run.name);
  run::write_loss_svg((run_dir_ / "loss.svg").string(), {curves},
                      fmt::format("{}: loss", config_.run.name));
}

void TrainingRun::record_step(const StepReport& report) {
  if (!metrics_) return;
  nlohmann::json record{{"step", report.step},
                        {"loss", finite_or_null(report.loss)},
                        {"lr", report.lr},
                        {"grad_norm", finite_or_null(report.grad_norm)},
                        {"step_ms", report.step_seconds * 1e3},
                        {"tokens_per_second", report.tokens_per_second},
                        {"elapsed", report.elapsed_seconds}};
  if (report.mfu) record["mfu"] = *report.mfu;
  if (report.skipped) record["skipped"] = true;
  if (report.non_finite) record["non_finite"] = true;
  if (communicator_) record["sync_wait_ms"] = report.sync_wait_seconds * 1e3;
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
  std::int64_t bad_in_a_row = 0;
  for (std::int64_t step = state_.step; step < max_iters; ++step) {
    StepReport report = train_step(step, batches);
    state_.step = step + 1;
    state_.loss_scaler = scaler_.state();
    report.elapsed_seconds = elapsed_seconds();
    result.final_loss = report.loss;
    if (state_.step % config_.train.log_interval == 0 || state_.step == max_iters ||
        report.non_finite)
      record_step(report);
    observer_.on_step(report);

    bad_in_a_row = report.non_finite ? bad_in_a_row + 1 : 0;
    if (report.non_finite && writes_files()) {
      log::warn(
          "step {}: the {} is not finite; no update ({} of train.max_bad_steps = {} in a row)",
          state_.step, std::isfinite(report.loss) ? "gradient norm" : "loss", bad_in_a_row,
          config_.train.max_bad_steps);
    }
    if (bad_in_a_row > config_.train.max_bad_steps) {
      result.stop_reason = StopReason::diverged;
      result.stop_message = divergence_message(state_.step - bad_in_a_row + 1, state_.step);
      break;
    }

    const bool last = state_.step == max_iters;
    bool improved = false;
    if (due(state_.step, eval_interval) || last) {
      const EvalReport eval = evaluate_at(state_.step);
      improved = eval.best;
      result.final_val_loss = eval.val_loss;
      observer_.on_eval(eval);
    }
    // No checkpoint while steps go bad: if they go on, the run stops with
    // the last checkpoint from before them.
    const bool keep_as_best = improved && config_.checkpoint.keep_best;
    const bool checkpoint_due =
        bad_in_a_row == 0 && (due(state_.step, checkpoint_interval) || last || keep_as_best);
    if (writes_files() && checkpoint_due) {
      save_checkpoint();
      if (keep_as_best) checkpoints_->mark_best(state_.step);
    }
    // A stop signal, or the deadline coming, on any rank stops every rank
    // here, with a checkpoint.
    const int signal = StopSignals::requested();
    const bool deadline_close = deadline_near(step + 1 - result.start_step);
    const bool stop = communicator_ ? communicator_->any(signal != 0 || deadline_close)
                                    : signal != 0 || deadline_close;
    if (stop && !last) {
      if (writes_files() && !checkpoint_due) save_checkpoint();
      // No rank exits (with code 3) before rank 0's checkpoint is on disk:
      // launchers (mpirun, srun --kill-on-bad-exit) end the whole job when
      // one rank exits with a non-zero code.
      if (communicator_) communicator_->barrier();
      result.stop_signal = signal;
      result.stop_reason = signal != 0      ? StopReason::signal
                           : deadline_close ? deadline_reason_
                                            : StopReason::another_rank;
      result.stop_message = signal != 0      ? strsignal(signal)
                            : deadline_close ? deadline_text_
                                             : "a stop on another rank";
      break;
    }
  }
  result.final_step = state_.step;
  result.best_val_loss = state_.best_val_loss;
  return result;
}

std::string TrainingRun::divergence_message(std::int64_t first_bad_step,
                                            std::int64_t last_bad_step) const {
  const std::optional<Checkpoint> good = latest_checkpoint(checkpoints_dir_);
  return fmt::format(
      "the loss or gradient norm was NaN/inf at steps {}-{}, more than train.max_bad_steps = {} "
      "in a row (those steps changed no weights and were not checkpointed). {}: lower optim.lr, "
      "or raise optim.warmup_iters or optim.grad_clip, and run again to go on from it (or delete "
      "the run to start over)",
      first_bad_step, last_bad_step, config_.train.max_bad_steps,
      good ? fmt::format("The last checkpoint is {} (step {})", good->dir.string(), good->step)
           : std::string("There is no checkpoint yet"));
}

bool TrainingRun::deadline_near(std::int64_t steps_this_session) const {
  if (!deadline_ || steps_this_session <= 0) return false;
  const double per_step = seconds_since(session_start_) / static_cast<double>(steps_this_session);
  const double seconds_left = std::chrono::duration<double>(*deadline_ - Clock::now()).count();
  return per_step + config_.train.time_limit_margin >= seconds_left;
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
