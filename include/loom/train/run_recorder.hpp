// What a run leaves for people to read while and after it trains, written
// by rank 0 alone (the other ranks' recorder does nothing):
//
//   RUN/config.yaml      the resolved config, every key documented
//   RUN/tokenizer.json   the tokenizer the ids mean
//   RUN/metrics.jsonl    a record every train.log_interval steps, at the last
//                        step, at every bad step and at each evaluation
//   RUN/samples/         step-00000250.txt: text sampled at each evaluation
//   RUN/loss.svg         the loss curves, redrawn at each evaluation
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "loom/config/config.hpp"
#include "loom/model/language_model.hpp"
#include "loom/run_dir/metrics_log.hpp"
#include "loom/text/tokenizer.hpp"
#include "loom/train/reports.hpp"

namespace loom::train {

class RunRecorder {
 public:
  // `precision` is train.precision as chosen for the device (every metrics
  // record names it: a resumed run may choose differently on another
  // machine), `autocast_dtype` what samples are generated under.
  RunRecorder(const config::Config& config, std::filesystem::path directory, int rank,
              int world_size, config::Precision precision,
              std::optional<at::ScalarType> autocast_dtype);

  // Writes config.yaml and tokenizer.json and opens metrics.jsonl: a run
  // resumed at `resumed_step` (> 0) keeps its records up to that step, a
  // fresh one (0) starts the file over.
  void start(const nlohmann::json& tokenizer, std::int64_t resumed_step);

  // A step's record, when the log cadence or the step's badness asks.
  void record_step(const StepReport& report);

  // config.eval.samples continuations of eval.sample_prompt at `step`,
  // written to samples/ and returned (rank 0; none elsewhere). Seeded by
  // the run and the step from a generator of their own: samples never move
  // the training's random stream.
  std::vector<std::string> write_samples(std::int64_t step, model::LanguageModel& model,
                                         const text::Tokenizer& tokenizer);

  // An evaluation's record, and the loss plot redrawn with it.
  void record_eval(const EvalReport& report, double elapsed_seconds);

 private:
  bool writes() const { return rank_ == 0; }

  const config::Config& config_;
  std::filesystem::path run_dir_;
  int rank_;
  int world_size_;
  config::Precision precision_;
  std::optional<at::ScalarType> autocast_dtype_;
  std::unique_ptr<run_dir::MetricsLog> metrics_;
};

}  // namespace loom::train
