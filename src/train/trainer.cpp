// The Trainer: the parts of a run composed in the constructor, the loop in
// run(), and the step in train_step(), each reading top to bottom as calls.
#include "loom/train/trainer.hpp"

#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "loom/core/log.hpp"
#include "loom/core/mix.hpp"
#include "loom/core/torch_compat.hpp"
#include "loom/dist/local_placement.hpp"
#include "loom/model/dropout_generator.hpp"
#include "loom/train/compute_setup.hpp"
#include "loom/train/grad_norm.hpp"
#include "loom/train/optimizer.hpp"

namespace loom::train {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::shared_ptr<model::LanguageModel> build_model(const config::Config& config,
                                                  std::int64_t vocab_size,
                                                  const torch::Device& device) {
  // The seed fixes the initial weights and every dropout mask after them.
  torch::manual_seed(static_cast<std::uint64_t>(config.run.seed));
  std::shared_ptr<model::LanguageModel> model = model::make_model(config.model, vocab_size);
  model->to(device);
  model->train();
  return model;
}

std::unique_ptr<CpuWorkerPool> make_slice_workers(const config::Config& config,
                                                  const torch::Device& device, std::int64_t threads,
                                                  const model::LanguageModel& model) {
  if (!device.is_cpu() || threads <= 1 || config.run.cpu_threading != config::CpuThreading::batch)
    return nullptr;
  if (model.draws_from_global_generator()) {
    log::info(
        "run.cpu_threading: batch does not apply to a model that draws dropout from torch's "
        "global generator (an LSTM with dropout between layers); its threads share each "
        "operation instead");
    return nullptr;
  }
  return std::make_unique<CpuWorkerPool>(static_cast<int>(threads));
}

// The first thing a Trainer does. Glibc's malloc keeps freed blocks for
// reuse from here on (the data, model and optimizer included); and
// train.time_limit counts from the returned time, the ranks' meeting
// included.
Clock::time_point start_training() {
  keep_freed_memory_for_reuse();
  return Clock::now();
}

SyncTimelineReport timeline_report(const dist::SyncTimeline& timeline) {
  const auto ms_since_armed = [&](dist::SyncTimeline::Clock::time_point at) {
    return std::chrono::duration<double, std::milli>(at - timeline.armed).count();
  };
  SyncTimelineReport report;
  report.backward_end_ms = ms_since_armed(timeline.last_hook);
  for (const auto at : timeline.launched)
    report.launched_ms.push_back(ms_since_armed(at));
  for (const auto at : timeline.reduced)
    report.reduced_ms.push_back(ms_since_armed(at));
  return report;
}

std::string plural(std::size_t count) {
  return count == 1 ? "" : "s";
}

}  // namespace

Trainer::Trainer(const config::Config& config, TrainingObserver& observer)
    : started_(start_training()),
      config_(config),
      observer_(observer),
      launch_(detect_launch_env()),
      connection_(dist::connect(launch_, config.dist, config.run.device)),
      communicator_(*connection_.communicator),
      device_(connection_.device),
      stop_policy_(config_.train, communicator_, started_),
      threads_(configure_cpu_threads(config.run.threads, connection_.local_world_size)),
      precision_(choose_precision(config.train.precision, device_)),
      autocast_dtype_(autocast_dtype_for(precision_.precision, device_)),
      run_dir_(fs::path(config.run.out_dir) / config.run.name),
      data_(open_training_data(config_, launch_.rank, launch_.world_size)),
      model_(build_model(config_, data_.store->metadata().vocab_size, device_)),
      parameters_(model_->parameters()),
      optimizer_(make_adamw(*model_, config_.optim)),
      scaler_(DynamicLossScaler::for_precision(precision_.precision)),
      schedule_(config.optim, config.train.max_iters),
      slice_workers_(make_slice_workers(config_, device_, threads_, *model_)),
      checkpointer_(run_dir_, launch_.rank,
                    CheckpointedParts{config_, data_.tokenizer_json, *model_, *optimizer_},
                    observer),
      recorder_(config_, run_dir_, launch_.rank, launch_.world_size, precision_.precision,
                autocast_dtype_) {
  state_.world_size = launch_.world_size;
  state_.config_fingerprint = run_dir::config_fingerprint(config_);
  state_.loss_scaler = scaler_.state();
  std::vector<std::string> config_changes;
  if (std::optional<Resumed> resumed =
          checkpointer_.resume(communicator_, data_.train->accumulation_steps())) {
    scaler_.load_state(resumed->state.loss_scaler);
    resumed->state.config_fingerprint = state_.config_fingerprint;
    state_ = resumed->state;
    train_seconds_before_ = state_.train_seconds;
    config_changes = resumed->config_changes;
  }
  agree_across_ranks();
  recorder_.start(data_.tokenizer_json, state_.step);

  RunStart start;
  start.run_dir = run_dir_.string();
  start.device = device_.str();
  start.threads = threads_;
  start.threading = slice_workers_ ? "batch slices" : "per operation";
  start.precision = config::enum_name(precision_.precision);
  start.precision_reason = precision_.reason;
  start.parameters = model_->parameter_count();
  start.vocab_size = model_->vocab_size();
  start.accumulation_steps = data_.train->accumulation_steps();
  start.tokens_per_step = data_.tokens_per_step;
  start.start_step = state_.step;
  start.max_iters = config_.train.max_iters;
  start.config_changes = config_changes;
  observer_.on_start(start);
}

void Trainer::agree_across_ranks() {
  const auto differing_ranks = [&](std::int64_t value) {
    const std::vector<std::int64_t> values = communicator_.all_gather(value);
    std::vector<std::string> ranks;
    for (std::size_t r = 1; r < values.size(); ++r)
      if (values[r] != values[0]) ranks.push_back(std::to_string(r));
    return ranks;
  };
  const std::vector<std::string> config_ranks = differing_ranks(
      static_cast<std::int64_t>(std::stoull(state_.config_fingerprint, nullptr, 16)));
  const std::vector<std::string> shape_ranks = differing_ranks(model_->parameter_count());
  if (!config_ranks.empty() || !shape_ranks.empty()) {
    throw UsageError(fmt::format(
        "the ranks disagree: rank{} {} loaded another config than rank 0{}; every rank must "
        "run the same config file with the same --set overrides",
        plural(config_ranks.size()), fmt::join(config_ranks, ", "),
        shape_ranks.empty()
            ? ""
            : fmt::format(" (and rank {} another model)", fmt::join(shape_ranks, ", "))));
  }
  // Rank 0's weights everywhere: a fresh start must not depend on every
  // rank drawing the same initial weights.
  {
    torch::NoGradGuard no_grad;
    for (const torch::Tensor& parameter : parameters_)
      communicator_.broadcast(parameter, 0);
  }
  gradient_sync_ =
      std::make_unique<dist::GradientSync>(parameters_, communicator_, config_.dist.bucket_mb);
  if (communicator_.size() > 1) {
    log::info("data parallel over {} ranks ({}) on {}; gradients in {} bucket{} of up to {} MiB",
              communicator_.size(), communicator_.backend(),
              dist::describe_placement(connection_.peer_watch->host_names()),
              gradient_sync_->bucket_count(), plural(gradient_sync_->bucket_count()),
              config_.dist.bucket_mb);
  }
}

TrainResult Trainer::run() {
  TrainResult result;
  result.run_dir = run_dir_.string();
  result.start_step = state_.step;
  // A fresh run evaluates before its first step, as nanoGPT does, so the
  // curve starts at the untrained loss; a resumed one did so before saving.
  if (state_.step == 0 && config_.eval.interval > 0) observer_.on_eval(evaluate(0));

  data::BatchPrefetcher batches(*data_.train, state_.step, config_.data.prefetch);
  session_start_ = Clock::now();
  for (std::int64_t step = state_.step + 1; step <= config_.train.max_iters; ++step) {
    StepReport report = train_step(step, batches);
    state_.step = step;
    state_.loss_scaler = scaler_.state();
    report.elapsed_seconds = elapsed_seconds();
    result.final_loss = report.loss;
    recorder_.record_step(report);
    observer_.on_step(report);
    if (std::optional<Stop> diverged = stop_policy_.count_bad_step(report, checkpointer_))
      return ended(result, *diverged);

    bool new_best = false;
    if (evaluation_due(step)) {
      const EvalReport eval = evaluate(step);
      new_best = eval.best;
      result.final_val_loss = eval.val_loss;
      observer_.on_eval(eval);
    }
    state_.train_seconds = elapsed_seconds();
    checkpointer_.save_if_due(state_, report.non_finite, new_best);

    // A stop signal, or the deadline coming, on any rank stops every rank
    // here, with a checkpoint; at the last step there is nothing to stop.
    const std::optional<Stop> stop =
        stop_policy_.agreed_stop(step - result.start_step, seconds_since(session_start_));
    if (stop && step < config_.train.max_iters) {
      checkpointer_.save_for_stop(state_);
      // No rank exits (with code 3) before rank 0's checkpoint is on disk:
      // launchers (mpirun, srun --kill-on-bad-exit) end the whole job when
      // one rank exits with a non-zero code.
      communicator_.barrier();
      return ended(result, *stop);
    }
  }
  return ended(result, Stop{});
}

StepReport Trainer::train_step(std::int64_t step, data::BatchPrefetcher& batches) {
  const Clock::time_point start = Clock::now();
  // The batch, learning rate and dropout masks of a step are functions of
  // the steps done before it.
  const std::int64_t done = step - 1;
  StepReport report;
  report.step = step;
  report.max_iters = config_.train.max_iters;
  report.lr = schedule_.at(done);
  set_learning_rate(*optimizer_, report.lr);

  // Forward and backward over this rank's micro-batches. The loss of each is
  // divided by their number, so the summed gradients are the mean over the
  // whole batch, as one big forward would give.
  const std::int64_t micro_steps = data_.train->accumulation_steps();
  torch::Tensor loss_sum = torch::zeros({}, torch::kFloat64);
  for (std::int64_t micro = 0; micro < micro_steps; ++micro) {
    data::Batch batch = batches.next();
    const data::BatchTensors tensors = data::to_tensors(batch, device_);
    // The last micro-step's backward starts the gradient all-reduce bucket
    // by bucket as the gradients arrive; the ones before only accumulate.
    if (micro + 1 == micro_steps) gradient_sync_->arm();
    const torch::Tensor loss = slice_workers_ ? backward_in_slices(tensors, done, micro)
                                              : backward_whole(tensors, done, micro);
    loss_sum += loss.to(torch::kFloat64);
  }
  // Every rank now holds the average of all ranks' gradients.
  gradient_sync_->finish();
  report.sync_wait_seconds = gradient_sync_->timeline().wait_seconds;
  if (config_.dist.timeline && communicator_.size() > 1)
    report.sync_timeline = timeline_report(gradient_sync_->timeline());

  // The step's loss, the mean over every rank's micro-batches. A NaN on
  // any rank makes the sum NaN on all, so the ranks agree on a non-finite
  // loss without another collective.
  report.loss = communicator_.sum(loss_sum.item<double>()) / communicator_.size();

  // fp16: gradients back to true scale; an inf or nan on any rank skips the
  // update on all and lowers the scale. fp32 and bf16 never overflow here
  // (the scaler is off).
  const bool overflow = communicator_.any(scaler_.unscale_and_find_inf(parameters_));
  scaler_.update(overflow);
  if (scaler_.enabled()) report.loss_scale = scaler_.scale();
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
  report.tokens_per_second = static_cast<double>(data_.tokens_per_step) / report.step_seconds;
  if (config_.train.peak_tflops > 0) {
    const double flops = model_->flops_per_token(config_.model.block_size) *
                         report.tokens_per_second / static_cast<double>(launch_.world_size);
    report.mfu = flops / (config_.train.peak_tflops * 1e12);
  }
  return report;
}

torch::Tensor Trainer::loss_of(const torch::Tensor& inputs, const torch::Tensor& targets) {
  std::optional<torch_compat::AutocastGuard> autocast;  // per thread, like autocast itself
  if (autocast_dtype_) autocast.emplace(device_.type(), *autocast_dtype_);
  return model::LanguageModel::loss(model_->forward(inputs), targets);
}

at::Generator Trainer::dropout_generator_for(std::int64_t done, std::int64_t micro,
                                             int worker) const {
  std::uint64_t seed =
      mix_keys(0x64726f70 /* "drop" */, static_cast<std::uint64_t>(config_.run.seed));
  for (const std::int64_t key :
       {done, micro, static_cast<std::int64_t>(launch_.rank), static_cast<std::int64_t>(worker)})
    seed = mix_keys(seed, static_cast<std::uint64_t>(key));
  return at::detail::createCPUGenerator(seed);
}

torch::Tensor Trainer::backward_whole(const data::BatchTensors& batch, std::int64_t done,
                                      std::int64_t micro) {
  // CUDA draws dropout from its own generator (checkpointed with the others).
  std::optional<model::DropoutGeneratorScope> dropout;
  if (device_.is_cpu()) dropout.emplace(dropout_generator_for(done, micro, 0));
  const auto micro_steps = static_cast<double>(data_.train->accumulation_steps());
  const torch::Tensor loss = loss_of(batch.inputs, batch.targets) / micro_steps;
  scaler_.scale_loss(loss).backward();
  return loss.detach().cpu();
}

torch::Tensor Trainer::backward_in_slices(const data::BatchTensors& batch, std::int64_t done,
                                          std::int64_t micro) {
  const std::int64_t rows = batch.inputs.size(0);
  const int slices = static_cast<int>(std::min<std::int64_t>(slice_workers_->size(), rows));
  const auto micro_steps = static_cast<double>(data_.train->accumulation_steps());
  std::vector<std::vector<torch::Tensor>> gradients(static_cast<std::size_t>(slices));
  std::vector<torch::Tensor> losses(static_cast<std::size_t>(slices));
  slice_workers_->run(slices, [&](int worker) {
    const std::int64_t begin = rows * worker / slices, end = rows * (worker + 1) / slices;
    model::DropoutGeneratorScope dropout(dropout_generator_for(done, micro, worker));
    // Each slice's mean loss weighed by its share of the rows: the slices'
    // gradients then add up to the whole micro-batch's.
    const torch::Tensor loss =
        loss_of(batch.inputs.slice(0, begin, end), batch.targets.slice(0, begin, end)) *
        (static_cast<double>(end - begin) / static_cast<double>(rows) / micro_steps);
    // autograd::grad returns the gradients instead of adding them into
    // .grad, which the slices would otherwise race on. It runs no
    // accumulation hooks, so the gradient sync reduces them in finish().
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

bool Trainer::evaluation_due(std::int64_t step) const {
  const std::int64_t interval = config_.eval.interval;
  return (interval > 0 && step % interval == 0) || step == config_.train.max_iters;
}

EvalReport Trainer::evaluate(std::int64_t step) {
  const Clock::time_point start = Clock::now();
  EvalReport report;
  report.step = step;
  // Each rank scores its share of the fixed batches (together, the same
  // windows whatever the number of ranks); the mean is over all of them.
  const auto split_loss = [&](const data::BatchSampler& sampler) {
    const std::int64_t micro_batches = config_.eval.iters * sampler.accumulation_steps();
    return mean_over_ranks(evaluate_loss(*model_, sampler, micro_batches, device_, autocast_dtype_,
                                         /*character_counter=*/nullptr, slice_workers_.get()));
  };
  report.train_loss = split_loss(*data_.train);
  if (data_.val) {
    report.val_loss = split_loss(*data_.val);
    if (*report.val_loss < state_.best_val_loss) {
      state_.best_val_loss = *report.val_loss;
      report.best = true;
    }
  }
  report.samples = recorder_.write_samples(step, *model_, *data_.tokenizer);
  report.seconds = seconds_since(start);
  recorder_.record_eval(report, elapsed_seconds());
  return report;
}

double Trainer::mean_over_ranks(const EvalLoss& local) {
  // Sums, then one division, as evaluate_loss does within a rank: one rank
  // gets its mean_loss to the bit.
  const double loss_sum = communicator_.sum(local.loss_sum);
  const double positions = communicator_.sum(static_cast<double>(local.positions));
  return positions > 0 ? loss_sum / positions : std::numeric_limits<double>::quiet_NaN();
}

double Trainer::elapsed_seconds() const {
  return train_seconds_before_ + seconds_since(session_start_);
}

TrainResult Trainer::ended(TrainResult result, const Stop& stop) const {
  result.final_step = state_.step;
  result.best_val_loss = state_.best_val_loss;
  result.stop_reason = stop.reason;
  result.stop_signal = stop.signal;
  result.stop_message = stop.message;
  return result;
}

TrainResult train(const config::Config& config, TrainingObserver& observer) {
  return Trainer(config, observer).run();
}

}  // namespace loom::train
