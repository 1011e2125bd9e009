#!/usr/bin/env bash
# A run survives SLURM's time limit: on a real single-node SLURM
# (cluster/local-slurm), cluster/slurm/train.sbatch runs a small training
# job with a one-minute limit and --signal=B:USR1@20. SLURM signals the
# batch shell before the limit, loom checkpoints and exits 3, the script
# requeues the job, and the job resumes, as often as it takes to finish.
# Checked: loom stopped with a checkpoint (exit 3) at least once and the
# next start resumed from that step; SLURM_RESTART_COUNT reached 1 or more;
# the job ended COMPLETED with exit code 0, trained to train.max_iters; and
# every step's loss equals that of the same run trained uninterrupted,
# without SLURM, to the last digit (1 rank, CPU, fp32, dropout on). Then
# cluster/slurm/sweep.sh runs a two-task job array through the same script,
# and a last job checks that loom stops by itself before the job's end,
# which it reads from squeue.
#
#   tests/cluster/slurm_requeue_test.sh SOURCE_DIR LOOM_BINARY
#
# Exits 77 (ctest's skip) when not root or the packages are missing
# (apt-get install slurmctld slurmd slurm-client munge). Takes about 2-3
# minutes: the run is sized to train about 80 s on this machine (measured
# first), so that the signal, which SLURM sends 10-40 s into each start
# (it looks every 30 s), always comes before the end. LOOM_TEST_KEEP=1
# keeps the work folder.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../cluster/lib/usage.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../cluster/lib/usage.sh"

(($# == 2)) || usage
source_dir=$(cd "$1" && pwd)
loom=$(realpath "$2")
# shellcheck source-path=SCRIPTDIR source=test_lib.sh
source "$source_dir/tests/cluster/test_lib.sh"
train_seconds=80

((EUID == 0)) || skip "the local SLURM needs root (slurmd starts jobs as their users)"
for program in slurmctld slurmd sbatch squeue scontrol munged mpirun; do
  command -v "$program" >/dev/null || skip "no $program (apt-get install slurmctld slurmd slurm-client munge)"
done
[[ -x $loom ]] || fail "no loom binary at $loom"

work=$(mktemp -d /tmp/loom-slurm-test.XXXXXX)
chmod 755 "$work"
reference_pid=
job_log=
finish() {
  local code=$?
  [[ -z $reference_pid ]] || kill "$reference_pid" 2>/dev/null || true
  show_slurm_failure "$code" "$job_log" "$work/slurm"
  "$source_dir/cluster/local-slurm/stop.sh" "$work/slurm" || code=1
  remove_work "$work"
  exit "$code"
}
trap finish EXIT

# Ports of our own, so that a SLURM already on the machine is no obstacle;
# one CPU for the job, the other for the reference run.
"$source_dir/cluster/local-slurm/start.sh" "$work/slurm" --ports 16917,16918
export SLURM_CONF=$work/slurm/slurm.conf
elapsed "local SLURM up"

write_corpus "$work/corpus.txt"
# SLURM's own job end time is not used: this test is about the signal.
write_run_config "$work" 100 "slurm_time_limit: false"
"$loom" prepare "$work/run.yaml" >"$work/prepare.log" || { cat "$work/prepare.log"; fail "loom prepare failed"; }

# Steps per second on this machine, from 100 steps' "elapsed" in metrics.jsonl.
"$loom" train "$work/run.yaml" --set run.name=calibration --no-progress-bar >"$work/calibration.log" 2>&1 ||
  { cat "$work/calibration.log"; fail "the calibration run failed"; }
seconds_for_100=$(sed -n 's/.*"elapsed":\([0-9.e+-]*\),.*"loss":.*"step":100,.*/\1/p' "$work/runs/calibration/metrics.jsonl")
[[ -n $seconds_for_100 ]] || fail "no step 100 in the calibration run's metrics.jsonl"
max_iters=$(awk -v s="$seconds_for_100" -v t="$train_seconds" 'BEGIN { n = int(100 * t / s); print (n < 1000 ? 1000 : n) }')
write_run_config "$work" "$max_iters" "slurm_time_limit: false"
elapsed "100 steps took $seconds_for_100 s: training $max_iters steps"

# The reference, uninterrupted and without SLURM, beside the job.
"$loom" train "$work/run.yaml" --set run.name=reference --no-progress-bar >"$work/reference.log" 2>&1 &
reference_pid=$!

mkdir -p "$work/logs"
job_id=$(cd "$work" && LOOM=$loom sbatch --parsable --job-name=requeue --time=1 \
  --signal=B:USR1@20 --output="$work/logs/%x-%j.out" \
  "$source_dir/cluster/slurm/train.sbatch" "$work/run.yaml")
job_log=$work/logs/requeue-$job_id.out
elapsed "submitted job $job_id"

wait_for_job_end 600 "$job_id"
state=$job_state
elapsed "job $job_id ended: $state"

reference_status=0
wait "$reference_pid" || reference_status=$?
reference_pid=
((reference_status == 0)) || { tail -5 "$work/reference.log"; fail "the reference run exited with $reference_status"; }

# The job finished, with exit code 0, at train.max_iters.
exit_code=$job_exit_code
[[ $state == COMPLETED && $exit_code == 0:0 ]] || fail "job $job_id ended $state with exit code $exit_code, expected COMPLETED 0:0"
check_signal_stops "$job_log" "$job_id" "$work/runs/run" "$max_iters"
restarts=$(sed -n 's/.*restart count \([0-9]*\),.*/\1/p' "$job_log" | sort -n | tail -1)
((restarts == exits_3)) || fail "SLURM_RESTART_COUNT reached ${restarts:-nothing}, expected $exits_3 (one per requeue)"
elapsed "stopped at steps ${stop_steps[*]}, requeued $requeues times, SLURM_RESTART_COUNT $restarts"

step_losses "$work/runs/reference/metrics.jsonl" >"$work/reference.losses"
step_losses "$work/runs/run/metrics.jsonl" >"$work/job.losses"
[[ $(wc -l <"$work/reference.losses") -eq $max_iters ]] || fail "the reference run logged $(wc -l <"$work/reference.losses") losses, expected $max_iters"
awk -v max_iters="$max_iters" '
  NR == FNR { reference[$1] = $2; next }
  { seen[$1] = 1; if ($2 "" != reference[$1] "") { printf "step %s: loss %s after requeues, %s uninterrupted\n", $1, $2, reference[$1]; bad = 1 } }
  END {
    for (step = 1; step <= max_iters; ++step) if (!(step in seen)) { printf "step %d: no loss in the requeued run\n", step; bad = 1 }
    exit bad
  }' "$work/reference.losses" "$work/job.losses" >"$work/differences" || true
[[ ! -s $work/differences ]] || { head -20 "$work/differences"; fail "the requeued run's losses differ from the uninterrupted run's"; }
elapsed "all $max_iters losses equal the uninterrupted run's (final $(tail -1 "$work/job.losses"))"

# A sweep of two array tasks through the same script: each trains its own
# run, with its own line's overrides.
printf '%s\n' "optim.lr=1e-3 train.max_iters=30" "# a comment" "optim.lr=2e-3 train.max_iters=20" >"$work/lr.sweep"
sweep_output=$(cd "$work" && LOOM=$loom "$source_dir/cluster/slurm/sweep.sh" --name sweep lr.sweep run.yaml \
  --time=5 --parsable)
sweep_id=${sweep_output%%$'\n'*}
[[ $sweep_id =~ ^[0-9]+$ ]] || fail "sweep.sh did not print a job ID: '$sweep_id'"
deadline=$((SECONDS + 120))
while [[ -n $(squeue --noheader --jobs="$sweep_id" --format=%i) ]]; do
  ((SECONDS < deadline)) || fail "sweep $sweep_id still running after 2 minutes"
  sleep 1
done
for task in 0:30:0.001 1:20:0.002; do
  IFS=: read -r index steps lr <<<"$task"
  log=$work/logs/sweep-${sweep_id}_$index.out
  grep -q "loom exited with code 0\$" "$log" || fail "sweep task $index did not finish: $(tail -3 "$log")"
  [[ $(step_losses "$work/runs/sweep-$index/metrics.jsonl" | tail -1 | cut -d' ' -f1) == "$steps" ]] ||
    fail "sweep task $index did not train to step $steps"
  grep -qE "^  lr: $lr( |\$)" "$work/runs/sweep-$index/config.yaml" || fail "sweep task $index did not train with optim.lr $lr"
done
elapsed "sweep $sweep_id: runs sweep-0 and sweep-1 trained with their own overrides"

# loom's own reading of the job's end (train.slurm_time_limit): in a job with
# a one-minute limit, no --signal and a 45 s margin, rank 0 asks squeue how
# long the job has left (SLURM 22.05 has no SLURM_JOB_END_TIME) and the run
# stops by itself, with a checkpoint and exit code 3, about 15 s in.
job_id=$(cd "$work" && sbatch --parsable --job-name=deadline --time=1 --no-requeue \
  --output="$work/logs/%x-%j.out" --wrap "'$loom' train '$work/run.yaml' --no-progress-bar \
  --set run.name=deadline --set train.max_iters=1000000 --set optim.lr_decay_iters=1000000 \
  --set train.slurm_time_limit=true --set train.time_limit_margin=45")
job_log=$work/logs/deadline-$job_id.out
deadline=$((SECONDS + 120))
while [[ -n $(squeue --noheader --jobs="$job_id" --format=%i) ]]; do
  ((SECONDS < deadline)) || fail "job $job_id still running after 2 minutes"
  sleep 1
done
exit_code=$(scontrol show job "$job_id" --oneliner | sed -n 's/.* ExitCode=\([0-9:]*\).*/\1/p')
[[ $exit_code == 3:0 ]] || fail "job $job_id ended with exit code $exit_code, expected 3:0 (stopped, saved)"
grep -qE "the SLURM job ends in [0-9]+ s \(squeue\)" "$job_log" || fail "loom did not read the job's end from squeue"
step=$(sed -n "s/.*stopped by the SLURM job's end time (squeue) after step \([0-9]*\);.*/\1/p" "$job_log")
[[ -n $step && -f $work/runs/deadline/checkpoints/step-$(printf %08d "$step")/DONE ]] ||
  fail "no stop by the job's end time with a checkpoint in job $job_id"
elapsed "job $job_id: loom read the end time from squeue and stopped itself at step $step"
echo "PASS"
