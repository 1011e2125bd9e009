# Shared by the cluster tests (sourced): failing and skipping the way ctest
# counts them, and a small training run to put through the scripts.
# shellcheck shell=bash

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# elapsed MESSAGE...: MESSAGE after the seconds since the test began.
test_started=$SECONDS
elapsed() { echo "[$((SECONDS - test_started)) s] $*"; }

# remove_work FOLDER: deletes a test's work folder, or keeps it and says
# where when LOOM_TEST_KEEP=1.
remove_work() {
  if [[ ${LOOM_TEST_KEEP:-0} == 1 ]]; then echo "work folder kept: $1"; else rm -rf "$1"; fi
}

# show_slurm_failure CODE JOB_LOG SLURM_STATE: after a SLURM test failed
# (CODE neither 0 nor 77), the end of the job's log (without its step
# lines) and of slurmctld's, for the reader of ctest's output.
show_slurm_failure() {
  local code=$1 job_log=$2 slurm_state=$3
  ((code != 0 && code != 77)) || return 0
  [[ -z $job_log || ! -f $job_log ]] || { echo "--- end of the job's log $job_log:"; grep -v '] step [0-9]*/' "$job_log" | tail -40; }
  [[ ! -f $slurm_state/log/slurmctld.log ]] || { echo "--- end of slurmctld's log:"; tail -20 "$slurm_state/log/slurmctld.log"; }
}

# ctest's SKIP_RETURN_CODE for these tests.
skip() {
  echo "SKIP: $*"
  exit 77
}

# Verse-like lines from twelve words (a Park-Miller generator, exact in
# awk's doubles): a few kilobytes a model has something to learn from.
write_corpus() {
  awk 'BEGIN {
    split("the king shall speak of love and night my lord fair rome", word, " ")
    state = 42
    for (line = 0; line < 600; ++line) {
      words = 3 + line % 5
      for (w = 0; w < words; ++w) {
        state = (state * 16807) % 2147483647
        printf "%s%s", word[1 + state % 12], (w + 1 < words ? " " : (line % 4 == 3 ? ".\n\n" : ",\n"))
      }
    }
  }' >"$1"
}

# write_run_config FOLDER MAX_ITERS [TRAIN_KEYS]: FOLDER/run.yaml, a 2-layer,
# 64-wide GPT with dropout on, trained one thread per rank on
# FOLDER/corpus.txt into FOLDER/runs/run; TRAIN_KEYS adds to the train
# section ("key: value, ..."). The lr schedule ends at step 200
# (lr_decay_iters), not at max_iters, so max_iters changes only where a run
# ends.
write_run_config() {
  local folder=$1 max_iters=$2 train_keys=${3:+, $3}
  cat >"$folder/run.yaml" <<YAML
run: {name: run, out_dir: "$folder/runs", seed: 7, threads: 1}
prepare: {inputs: ["$folder/corpus.txt"], tokenizer: char, val_fraction: 0.1}
data: {store: "$folder/corpus.h5", prefetch: 1}
model: {block_size: 32, n_layer: 2, n_head: 4, n_embd: 64, dropout: 0.1}
optim: {lr: 3.0e-3, min_lr: 3.0e-4, warmup_iters: 20, lr_decay_iters: 200}
train: {max_iters: $max_iters, batch_size: 16, log_interval: 1$train_keys}
eval: {interval: 1000000, iters: 2, samples: 0}
checkpoint: {interval: 1000, keep_last: 2}
YAML
}

# "step loss" for every training record of a metrics.jsonl, as written (its
# keys come sorted; evaluation records' "train_loss" does not match).
step_losses() {
  sed -n 's/.*"loss":\([^,}]*\).*"step":\([0-9]*\)[,}].*/\2 \1/p' "$1"
}

# compare_losses REFERENCE_METRICS METRICS LAST_STEP: every step 1..LAST_STEP
# of METRICS (the last record of each step: a resumed run logs again the
# steps after its checkpoint) has the reference's loss within 1e-5 (float
# rounding: a sum over two ranks is not the sum over two micro-batches).
# Prints "N steps equal", or what differs and returns 1.
compare_losses() {
  awk -v want="$3" '
    NR == FNR { reference[$1] = $2; next }
    { got[$1] = $2 }
    END {
      for (step = 1; step <= want; ++step) {
        if (!(step in got) || !(step in reference)) { print "step " step " missing"; exit 1 }
        d = got[step] - reference[step]
        if (d < -1e-5 || d > 1e-5) { print "step " step ": " got[step] ", reference " reference[step]; exit 1 }
      }
      print want " steps equal"
    }' <(step_losses "$1") <(step_losses "$2")
}

# check_signal_stops JOB_LOG JOB_ID RUN_DIR MAX_ITERS: a train.sbatch job
# that SLURM signalled trained to MAX_ITERS and ended with loom's exit code
# 0, and every stop wrote a checkpoint at its step, exited 3 and was
# requeued, and a later start resumed at that step. Sets stop_steps (the
# steps), exits_3 and requeues (their counts).
check_signal_stops() {
  local job_log=$1 job_id=$2 run_dir=$3 max_iters=$4 step
  grep -q "loom exited with code 0\$" "$job_log" || fail "the job's log has no 'loom exited with code 0'"
  grep -q "trained steps [0-9]*\.\.$max_iters;" "$job_log" || fail "the job's log does not say it trained to step $max_iters"
  mapfile -t stop_steps < <(sed -n 's/.*stopped by .* after step \([0-9]*\); a checkpoint is saved.*/\1/p' "$job_log")
  ((${#stop_steps[@]} >= 1)) || fail "loom never stopped on a signal in job $job_id: training ended before SLURM's signal"
  for step in "${stop_steps[@]}"; do
    grep -q "step $step: checkpoint .*/checkpoints/step-0*$step\$" "$job_log" || fail "no checkpoint at step $step, where loom stopped"
    grep -q "resuming $run_dir at step $step of $max_iters" "$job_log" || fail "no start resumed at step $step"
  done
  exits_3=$(grep -c "loom exited with code 3\$" "$job_log" || true)
  requeues=$(grep -c "requeueing job $job_id;" "$job_log" || true)
  ((exits_3 == ${#stop_steps[@]} && requeues == exits_3)) ||
    fail "${#stop_steps[@]} stops with a checkpoint, $exits_3 exits with code 3 and $requeues requeues: expected the same number"
}

# wait_for_job_end SECONDS ID [COMMAND...]: polls `COMMAND scontrol show job
# ID` every 2 s until the job is in a final state, and sets job_state and
# job_exit_code (COMMAND: how to reach the controller, e.g. a function that
# enters a host; nothing for this machine's). Only final states end the
# wait: SLURM also shows passing ones (SIGNALING while --signal is
# delivered, COMPLETING, REQUEUED, STAGE_OUT, ...), which seen once took a
# requeued job for ended.
wait_for_job_end() {
  local seconds=$1 id=$2 line
  shift 2
  local deadline=$((SECONDS + seconds))
  while :; do
    line=$("$@" scontrol show job "$id" --oneliner)
    job_state=$(sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' <<<"$line")
    job_exit_code=$(sed -n 's/.* ExitCode=\([0-9:]*\).*/\1/p' <<<"$line")
    case $job_state in
      COMPLETED | CANCELLED | FAILED | TIMEOUT | NODE_FAIL | PREEMPTED | BOOT_FAIL | DEADLINE | OUT_OF_MEMORY)
        return 0
        ;;
    esac
    ((SECONDS < deadline)) || fail "job $id still ${job_state:-unknown} after $seconds s"
    sleep 2
  done
}
