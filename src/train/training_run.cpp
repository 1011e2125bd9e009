// Building a run: device and threads, the token store and its samplers, the
// model and optimizer, and, when the run directory has a checkpoint, the
// state to continue from. Everything the user must fix is found here,
// before the first step, and reported as a UsageError.
#include "training_run.hpp"

#include <limits>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "loom/config/yaml_dump.hpp"
#include "loom/core/build_info.hpp"
#include "loom/core/durable_files.hpp"
#include "loom/core/log.hpp"
#include "loom/dist/local_placement.hpp"
#include "loom/dist/nccl_communicator.hpp"
#include "loom/train/compute_setup.hpp"
#include "loom/train/optimizer.hpp"
#include "loom/train/slurm_job_end.hpp"

namespace loom::train {
namespace {

namespace fs = std::filesystem;

std::string bullet_list(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines)
    text += "\n  " + line;
  return text;
}

}  // namespace

TrainingRun::TrainingRun(const config::Config& config, TrainingObserver& observer)
    : config_(config),
      observer_(observer),
      launch_(detect_launch_env()),
      scaler_(DynamicLossScaler::for_precision(config.train.precision)),
      schedule_(config.optim, config.train.max_iters) {
  if (launch_.world_size > 1) {
    // mpirun's ranks talk over MPI; ranks a script or srun started meet
    // through rank 0's TCP store and talk over Gloo.
    communicator_ = launch_.source == "openmpi"
                        ? dist::make_mpi_communicator()
                        : dist::make_gloo_communicator(dist::store_address_from_environment(),
                                                       launch_.rank, launch_.world_size);
    log::set_rank(communicator_->rank(), communicator_->size());
    if (!launch_.local_rank_known) {
      const dist::LocalPlacement placement = dist::gather_local_placement(*communicator_);
      launch_.local_rank = placement.local_rank;
      launch_.local_world_size = placement.local_size;
    }
  }
  keep_freed_memory_for_reuse();
  device_ = resolve_device(config_.run.device, launch_.local_rank);
  if (communicator_ && device_.is_cuda()) {
#if LOOM_WITH_NCCL
    // Gradients go over NCCL; flags and sums keep the CPU communicator.
    communicator_ = dist::make_nccl_communicator(std::move(communicator_), device_.index());
#else
    throw UsageError(
        "several ranks on CUDA need NCCL, and this build has none (it looks in NCCL_HOME and "
        "/usr/local/cuda when LibTorch has CUDA); rebuild with NCCL, or set run.device: cpu");
#endif
  }
  threads_ = configure_cpu_threads(config_.run.threads, launch_.local_world_size);
  // LibTorch's LSTM draws its between-layer dropout from torch's global
  // generator, which slices trained at once would share in no fixed order.
  const bool lstm_dropout = config_.model.arch == config::ModelArch::lstm &&
                            config_.model.n_layer > 1 && config_.model.dropout > 0;
  if (device_.is_cpu() && threads_ > 1 &&
      config_.run.cpu_threading == config::CpuThreading::batch) {
    if (lstm_dropout) {
      log::info(
          "run.cpu_threading: batch does not apply to an LSTM with dropout between layers; "
          "its threads share each operation instead");
    } else {
      workers_ = std::make_unique<CpuWorkerPool>(static_cast<int>(threads_));
    }
  }
  autocast_dtype_ = autocast_dtype_for(config_.train.precision, device_);
  run_dir_ = fs::path(config_.run.out_dir) / config_.run.name;

  open_data();
  build_model();
  checkpoints_dir_ = run_dir_ / "checkpoints";
  if (writes_files()) {
    fs::create_directories(run_dir_);
    checkpoints_ =
        std::make_unique<CheckpointStore>(checkpoints_dir_, config_.checkpoint.keep_last);
  }
  state_.world_size = launch_.world_size;
  state_.config_fingerprint = config_fingerprint(config_);
  state_.loss_scaler = scaler_.state();
  const std::vector<std::string> changes = resume_if_possible();
  if (communicator_) start_data_parallel();
  if (writes_files()) write_run_files(state_.step > 0);
  set_deadline();

  RunStart start;
  start.run_dir = run_dir_.string();
  start.device = device_.str();
  start.threads = threads_;
  start.threading = workers_ ? "batch slices" : "per operation";
  start.parameters = model_->parameter_count();
  start.vocab_size = model_->vocab_size();
  start.accumulation_steps = train_sampler_->accumulation_steps();
  start.tokens_per_step = tokens_per_step_;
  start.start_step = state_.step;
  start.max_iters = config_.train.max_iters;
  start.config_changes = changes;
  observer_.on_start(start);
}

void TrainingRun::open_data() {
  const std::string& path = config_.data.store;
  if (!fs::exists(path)) {
    throw UsageError(fmt::format(
        "data.store '{}' does not exist; write it with `loom prepare CONFIG` first", path));
  }
  store_ = std::make_unique<data::TokenStoreReader>(path);
  tokenizer_json_ = nlohmann::json::parse(store_->metadata().tokenizer_json);
  tokenizer_ = text::tokenizer_from_json(tokenizer_json_);

  data::SamplerOptions options;
  options.block_size = config_.model.block_size;
  options.global_batch = config_.train.batch_size;
  options.micro_batch = config_.train.micro_batch > 0
                            ? config_.train.micro_batch
                            : config_.train.batch_size / launch_.world_size;
  options.rank = launch_.rank;
  options.world_size = launch_.world_size;
  options.windows = config_.data.windows;
  options.seed = static_cast<std::uint64_t>(config_.run.seed);
  train_sampler_.emplace(store_->split(data::Split::train), options);
  try {
    val_sampler_.emplace(store_->split(data::Split::val), options);
  } catch (const UsageError& e) {
    log::warn(
        "{}: the validation split cannot be evaluated ({}); only the training loss is "
        "reported",
        path, e.what());
  }
  tokens_per_step_ = config_.train.batch_size * config_.model.block_size;
}

void TrainingRun::build_model() {
  // The seed fixes the initial weights and every dropout mask after them.
  torch::manual_seed(static_cast<std::uint64_t>(config_.run.seed));
  model_ = model::make_model(config_.model, store_->metadata().vocab_size);
  model_->to(device_);
  model_->train();
  parameters_ = model_->parameters();
  optimizer_ = make_adamw(*model_, config_.optim);
}

std::vector<std::string> TrainingRun::resume_if_possible() {
  const std::optional<Checkpoint> latest = latest_checkpoint(checkpoints_dir_);
  if (!latest) {
    const fs::path metrics = run_dir_ / "metrics.jsonl";
    if (writes_files() && fs::exists(metrics)) {
      log::warn(
          "{}: no checkpoint to resume from; starting the run over (its metrics.jsonl is "
          "replaced)",
          run_dir_.string());
      fs::remove(metrics);
    }
    return {};
  }
  if (config_.checkpoint.resume == config::ResumeMode::never) {
    throw UsageError(fmt::format(
        "checkpoint.resume is never, but {} already holds checkpoints (latest: step {}); "
        "choose another run.name or run.out_dir, delete that folder, or set "
        "checkpoint.resume: auto to continue it",
        run_dir_.string(), latest->step));
  }

  const CheckpointInfo info = read_checkpoint_info(latest->dir);
  const std::vector<std::string> shape = model_shape_differences(
      info.config.model, info.vocab_size, config_.model, model_->vocab_size());
  if (!shape.empty()) {
    throw UsageError(fmt::format(
        "{} was written for another model shape, so it cannot be resumed:{}\nrestore those keys, "
        "or train under another run.name",
        latest->dir.string(), bullet_list(shape)));
  }
  if (info.tokenizer != tokenizer_json_) {
    throw UsageError(fmt::format(
        "{} was trained with another tokenizer than data.store '{}' holds; token ids would "
        "change meaning. Point data.store at the store the run was trained on",
        latest->dir.string(), config_.data.store));
  }
  if (info.state.step > config_.train.max_iters) {
    throw UsageError(
        fmt::format("{} is at step {}, past train.max_iters {}; raise train.max_iters to continue",
                    latest->dir.string(), info.state.step, config_.train.max_iters));
  }
  if (info.state.world_size != launch_.world_size) {
    // The sampler's batch order depends on the global batch only (DESIGN.md
    // invariant 1), so the run goes on where it was; what changes is how
    // the batch is cut: micro-steps per rank, and so which dropout masks
    // each sequence gets (they are drawn per rank and micro-step).
    log::info(
        "resuming step {} (written by {} rank{}) on {} rank{}: the same global batch of {} "
        "sequences, now {} micro-step{} of {} per rank",
        info.state.step, info.state.world_size, info.state.world_size == 1 ? "" : "s",
        launch_.world_size, launch_.world_size == 1 ? "" : "s", config_.train.batch_size,
        train_sampler_->accumulation_steps(), train_sampler_->accumulation_steps() == 1 ? "" : "s",
        config_.train.batch_size / (launch_.world_size * train_sampler_->accumulation_steps()));
  }
  load_model_weights(latest->dir, *model_);
  load_optimizer_state(latest->dir, *optimizer_);
  restore_rng_states(latest->dir);
  scaler_.load_state(info.state.loss_scaler);
  const std::string fingerprint = state_.config_fingerprint;
  state_ = info.state;
  state_.config_fingerprint = fingerprint;
  state_.world_size = launch_.world_size;
  train_seconds_before_ = info.state.train_seconds;
  return config_differences(info.config, config_);
}

void TrainingRun::start_data_parallel() {
  dist::Communicator& comm = *communicator_;
  const auto differing_ranks = [&](std::int64_t value) {
    const std::vector<std::int64_t> values = comm.all_gather(value);
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
        config_ranks.size() == 1 ? "" : "s", fmt::join(config_ranks, ", "),
        shape_ranks.empty()
            ? ""
            : fmt::format(" (and rank {} another model)", fmt::join(shape_ranks, ", "))));
  }
  // Rank 0's weights everywhere: a fresh start must not depend on every
  // rank drawing the same initial weights.
  torch::NoGradGuard no_grad;
  for (const torch::Tensor& parameter : parameters_)
    comm.broadcast(parameter, 0);
  gradient_sync_ = std::make_unique<dist::GradientSync>(parameters_, comm, config_.dist.bucket_mb);
  log::info("data parallel over {} ranks ({}); gradients in {} bucket{} of up to {} MiB",
            comm.size(), comm.backend(), gradient_sync_->bucket_count(),
            gradient_sync_->bucket_count() == 1 ? "" : "s", config_.dist.bucket_mb);
}

void TrainingRun::set_deadline() {
  if (config_.train.time_limit > 0) {
    deadline_ = constructed_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                   std::chrono::duration<double>(config_.train.time_limit));
    deadline_reason_ = StopReason::time_limit;
    deadline_text_ = fmt::format("train.time_limit ({} s)", config_.train.time_limit);
  }
  // Rank 0 asks (one squeue per job, not one per rank); the stop is agreed
  // by all ranks at each step anyway.
  if (!config_.train.slurm_time_limit || launch_.rank != 0) return;
  const std::optional<SlurmJobEnd> job_end = slurm_job_end();
  if (!job_end) return;
  const auto job_deadline =
      constructed_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                         std::chrono::duration<double>(job_end->seconds_left));
  log::info(
      "the SLURM job ends in {:.0f} s ({}); the run stops with a checkpoint "
      "train.time_limit_margin = {} s before",
      job_end->seconds_left, job_end->source, config_.train.time_limit_margin);
  if (job_end->seconds_left <= config_.train.time_limit_margin) {
    log::warn(
        "the SLURM job has {:.0f} s left, no more than train.time_limit_margin = {} s: the run "
        "will stop after its first step; lower the margin or ask for more time (sbatch --time)",
        job_end->seconds_left, config_.train.time_limit_margin);
  }
  if (deadline_ && *deadline_ <= job_deadline) return;
  deadline_ = job_deadline;
  deadline_reason_ = StopReason::job_end;
  deadline_text_ = fmt::format("the SLURM job's end time ({})", job_end->source);
}

double TrainingRun::global_mean_loss(const EvalLoss& local) const {
  if (!communicator_) return local.mean_loss;
  const double weighted =
      local.positions > 0 ? local.mean_loss * static_cast<double>(local.positions) : 0.0;
  const double loss_sum = communicator_->sum(weighted);
  const double positions = communicator_->sum(static_cast<double>(local.positions));
  return positions > 0 ? loss_sum / positions : std::numeric_limits<double>::quiet_NaN();
}

void TrainingRun::write_run_files(bool resumed) {
  durable::replace_file(run_dir_ / "config.yaml", run_dir_ / ".config.yaml.tmp",
                        config::to_yaml(config_, config::DumpStyle::documented));
  durable::replace_file(run_dir_ / "tokenizer.json", run_dir_ / ".tokenizer.json.tmp",
                        tokenizer_json_.dump() + "\n");
  metrics_ = std::make_unique<run::MetricsLog>((run_dir_ / "metrics.jsonl").string(),
                                               resumed ? state_.step : -1);
}

}  // namespace loom::train
